/**
 * The grader end to end, through bubblewrap, Jupyter and the project's tslab kernel, on the
 * fixture notebook: honest submissions beside hostile ones (hostile.ts), graded in one run with
 * two jobs. Every submission must score what it deserves, no file outside the output folder may
 * change, nothing may outlive the grader; then a run killed with SIGKILL and resumed, and a class
 * graded in two shards and merged, must give the same tables as one uninterrupted run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Notebook, ROOT, readNotebook } from '../../scripts/jupyter';
import { studentVersion, serializeNotebook } from '../../scripts/grading/release';
import { ScoreRow } from '../../scripts/grading/results';
import { runTag } from '../../scripts/grading/grader';
import { SUBMISSIONS, Targets } from './hostile';
import { FIXTURE, NAME, TESTS } from './fixture';

const GRADE = path.join(ROOT, 'dist', 'scripts', 'grade.js');
const hasBwrap = spawnSync('bwrap', ['--version']).status === 0;
const skip = !hasBwrap && 'bubblewrap (bwrap) is not installed';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-hostile-'));
const marker = `genlab-marker-${path.basename(work)}`;
// Generous limits: importing tfjs on a busy 2-core machine can take tens of seconds.
const LIMITS = ['--timeout', '45', '--submission-timeout', '400', '--memory', '2G'];
const OUTPUT_LIMIT = 4 * 2 ** 20;

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const parent =
      (entry as unknown as { parentPath?: string; path: string }).parentPath ??
      (entry as unknown as { path: string }).path;
    const file = path.join(parent, entry.name);
    if (entry.isFile()) out[path.relative(dir, file)] = sha256(file);
  }
  return out;
}

function grade(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [GRADE, ...args], {
    cwd: work,
    encoding: 'utf8',
    timeout: 1_500_000,
    maxBuffer: 64 * 2 ** 20,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function scores(outDir: string): ScoreRow[] {
  return JSON.parse(fs.readFileSync(path.join(outDir, 'scores.json'), 'utf8'));
}

/** Processes (on the whole host) whose command line mentions `text`. */
function processesWith(text: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (args.includes(text) && Number(pid) !== process.pid) found.push(`${pid}: ${args}`);
    } catch {
      // gone
    }
  }
  return found;
}

const outDir = path.join(work, 'grades');
const label = (name: string) => path.join('subs', name, `${NAME}.ipynb`);
const file = (name: string) => path.join(work, label(name));
const libraryDir = () => {
  const dir = path.join(ROOT, 'build', 'grading');
  const libs = fs.existsSync(dir) ? fs.readdirSync(dir).filter((d) => d.startsWith('lib-')) : [];
  return libs.map((d) => path.join(dir, d));
};

test(
  'hostile submissions score what they deserve; honest ones beside them are unaffected',
  { skip },
  (t) => {
    const instructor = readNotebook(FIXTURE);
    const student = studentVersion(instructor, NAME).notebook;
    const targets: Targets = {
      instructorNotebook: FIXTURE,
      libCheck: path.join(ROOT, 'lib', 'dist', 'grading', 'check.js'),
      gradingLibraryCheck: path.join(libraryDir()[0] ?? ROOT, 'dist', 'grading', 'check.js'),
      outDir,
      victims: [file('honest-instructor'), file('tampered-partial')],
      marker,
    };
    for (const s of SUBMISSIONS) {
      fs.mkdirSync(path.dirname(file(s.name)), { recursive: true });
      fs.writeFileSync(file(s.name), serializeNotebook(s.build(student, instructor, targets)));
    }
    const submissionsBefore = Object.fromEntries(
      SUBMISSIONS.map((s) => [s.name, sha256(file(s.name))]),
    );
    const libBefore = hashTree(path.join(ROOT, 'lib', 'dist', 'grading'));
    const fixtureBefore = sha256(FIXTURE);

    const r = grade([
      '--source',
      FIXTURE,
      '--out',
      outDir,
      '--jobs',
      '2',
      '--max-output',
      '4M',
      ...LIMITS,
      'subs',
    ]);
    t.diagnostic(r.stdout);
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const rows = scores(outDir);
    const libAfter = hashTree(path.join(ROOT, 'lib', 'dist', 'grading'));

    for (const s of SUBMISSIONS) {
      const mine = rows.filter((row) => row.submission === label(s.name));
      assert.deepEqual(
        Object.fromEntries(mine.map((row) => [row.test, row.points])),
        Object.fromEntries(TESTS.map((t) => [t, s.expected[t] ?? 0])),
        `${s.name} (${s.what}):\n${mine.map((row) => `  ${row.test}: ${row.reason}`).join('\n')}`,
      );
    }
    const reason = (name: string, t: string) =>
      rows.find((row) => row.submission === label(name) && row.test === t)?.reason ?? '';

    // Honest and tampered submissions get their reasons.
    for (const t of ['99-square', '99-row-sums', '99-gaussian-kl', '99-softplus'])
      assert.match(reason('honest-student', t), /not implemented yet/, t);
    assert.equal(
      reason('tampered-partial', '99-square'),
      "passed; the test cell was deleted; restored from the instructor's notebook",
    );
    assert.match(
      reason('tampered-partial', '99-gaussian-kl'),
      /^gaussianKl: wrong value: expected .* on input \(mu1=.*; the test cell was edited/,
    );
    assert.match(
      reason('tampered-partial', '99-softplus'),
      /CompileError: .*Cannot find name 'softplus'.*\(cell \d+ above failed first: CompileError: .*Expression expected/,
    );
    assert.match(
      reason('tampered-partial', '99-descent'),
      /^distance to the minimum after 20 steps: got [\d.]+, expected a number at most 0\.01$/,
    );
    assert.equal(
      reason('tampered-partial', '99-shape'),
      'your answer: "a" is not the right answer',
    );
    assert.ok(!rows.some((row) => row.test === '99-bonus'), 'the fake test is not graded');

    // The attacks found nothing and changed nothing.
    assert.match(
      reason('attack-forbidden', '99-gaussian-kl'),
      /calls distributions\.kl, which this exercise does not allow/,
    );
    assert.match(reason('attack-resources', '99-row-sums'), /did not finish within 45 s/);
    assert.match(
      reason('attack-kill-runner', '99-square'),
      /the notebook runner stopped without results/,
    );
    const outputs = (name: string) => {
      const dir = path.join(outDir, 'executed');
      const found = fs.readdirSync(dir).find((f) => f.startsWith(`subs__${name}__`)) as string;
      const nb = JSON.parse(fs.readFileSync(path.join(dir, found), 'utf8')) as Notebook;
      const texts = nb.cells.flatMap((c) =>
        (c.outputs ?? []).map((o) => `${o.text ?? ''}${o.evalue ?? ''}`),
      );
      return { text: texts.join('\n'), bytes: fs.statSync(path.join(dir, found)).size };
    };
    assert.match(outputs('attack-read-solutions').text, /found solutions: 0 /);
    assert.match(outputs('attack-read-solutions').text, /no network: connect ENETUNREACH/);
    assert.doesNotMatch(outputs('attack-read-solutions').text, /CONNECTED/);
    assert.doesNotMatch(outputs('attack-persistent').text, /WROTE/);
    assert.equal(outputs('attack-persistent').text.match(/blocked/g)?.length, 9);
    assert.doesNotMatch(outputs('attack-other-submissions').text, /EDITED|DELETED/);
    const resources = outputs('attack-resources');
    assert.match(resources.text, /memory limit after \d+ MB/);
    assert.match(resources.text, /disk limit after \d+ MB: ENOSPC/);
    assert.match(resources.text, /output truncated/);
    assert.doesNotMatch(resources.text, /MEMORY|DISK/);
    assert.ok(
      resources.bytes < OUTPUT_LIMIT + 2 ** 20,
      `executed notebook of ${resources.bytes} bytes`,
    );
    const key = fs.readFileSync(path.join(outDir, 'grading-key'), 'utf8').trim();
    for (const f of fs.readdirSync(path.join(outDir, 'executed')))
      assert.ok(
        !fs.readFileSync(path.join(outDir, 'executed', f), 'utf8').includes(key),
        `the key leaked into ${f}`,
      );

    // Nothing outside the output folder changed, and nothing outlived the grader.
    assert.deepEqual(libAfter, libBefore, 'lib/dist/grading changed');
    assert.equal(sha256(FIXTURE), fixtureBefore);
    for (const s of SUBMISSIONS)
      assert.equal(sha256(file(s.name)), submissionsBefore[s.name], `${s.name} changed`);
    assert.deepEqual(processesWith(marker), []);
    assert.deepEqual(processesWith(runTag(outDir)), []);
    for (const f of ['scores.json', 'scores.csv', 'totals.csv'])
      assert.doesNotMatch(fs.readFileSync(path.join(outDir, f), 'utf8'), /hacked/);

    // One feedback page per submission, with no way to run code.
    const pages = fs.readdirSync(path.join(outDir, 'feedback'));
    assert.equal(pages.length, SUBMISSIONS.length);
    for (const page of pages) {
      const html = fs.readFileSync(path.join(outDir, 'feedback', page), 'utf8');
      assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
      assert.doesNotMatch(html, /<script/i);
    }
  },
);

const HONEST = ['honest-instructor', 'honest-student', 'tampered-partial'];

/** A fresh output folder sharing the main run's key and reference run. */
function outFolder(name: string): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(outDir, 'grading-key'), path.join(dir, 'grading-key'));
  fs.cpSync(path.join(outDir, 'references'), path.join(dir, 'references'), { recursive: true });
  return dir;
}

const honestInputs = HONEST.map((n) => path.join('subs', n));

test(
  'kill -9 of the grader, then a rerun: the same scores, and nothing left behind',
  { skip },
  async () => {
    const dir = outFolder('killed');
    const child = spawn(
      process.execPath,
      [GRADE, '--source', FIXTURE, '--out', dir, '--jobs', '1', ...LIMITS, ...honestInputs],
      {
        cwd: work,
        stdio: 'ignore',
      },
    );
    const results = path.join(dir, 'results');
    // Wait for the first result, then kill at a random moment of the next submission.
    const deadline = Date.now() + 900_000;
    while (!(fs.existsSync(results) && fs.readdirSync(results).some((f) => f.endsWith('.json')))) {
      assert.ok(Date.now() < deadline, 'no result within 15 minutes');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 4000));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('close', resolve));
    const done = fs.readdirSync(results).filter((f) => f.endsWith('.json')).length;
    assert.ok(done < HONEST.length, 'the grader was killed before it finished');
    // The sandboxes die with the grader.
    for (let i = 0; i < 50 && processesWith(runTag(dir)).length > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(processesWith(runTag(dir)), []);

    const r = grade(['--source', FIXTURE, '--out', dir, '--jobs', '1', ...LIMITS, ...honestInputs]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`${HONEST.length} submission\\(s\\) done \\(${done} from an earlier run\\)`),
    );
    const expected = scores(outDir).filter((row) =>
      HONEST.some((n) => row.submission === label(n)),
    );
    assert.deepEqual(scores(dir), expected);
    const leftovers = ['', 'results', 'feedback', 'executed'].flatMap((sub) =>
      fs.existsSync(path.join(dir, sub))
        ? fs.readdirSync(path.join(dir, sub)).filter((f) => f.startsWith('.tmp-'))
        : [],
    );
    assert.deepEqual(leftovers, []);
    assert.deepEqual(processesWith(runTag(dir)), []);
  },
);

test('a class graded in two shards and merged gives the tables of one run', { skip }, () => {
  const single = path.join(work, 'killed');
  const shards = ['shard-1', 'shard-2'].map(outFolder);
  shards.forEach((dir, i) => {
    const r = grade([
      '--source',
      FIXTURE,
      '--out',
      dir,
      '--shard',
      `${i + 1}/2`,
      '--jobs',
      '2',
      ...LIMITS,
      ...honestInputs,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!fs.existsSync(path.join(dir, 'scores.csv')), 'a shard writes no tables');
  });
  const merged = path.join(work, 'merged');
  const r = grade(['merge', '--out', merged, ...shards]);
  assert.equal(r.status, 0, r.stderr);
  for (const table of ['scores.csv', 'scores.json', 'totals.csv'])
    assert.equal(
      fs.readFileSync(path.join(merged, table), 'utf8'),
      fs.readFileSync(path.join(single, table), 'utf8'),
      table,
    );
  assert.equal(fs.readdirSync(path.join(merged, 'feedback')).length, HONEST.length);
});

test.after(() => fs.rmSync(work, { recursive: true, force: true }));
