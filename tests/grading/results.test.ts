/**
 * Grading results on disk: atomic files, what a killed grader leaves and the next run removes,
 * file names that never collide, the tables, and merging the output folders of shards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  RESULT_FORMAT,
  ScoreRow,
  SubmissionResult,
  fileStem,
  mergeResults,
  readResult,
  readResults,
  removeStaleTemporaries,
  toCsv,
  totalsCsv,
  writeAtomic,
  writeResult,
  writeTables,
} from '../../scripts/grading/results';

const temp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-results-'));

function result(submission: string, points: number[], key = 'k1'): SubmissionResult {
  return {
    format: RESULT_FORMAT,
    submission,
    sha256: 'x',
    assignment: '99-a',
    reference: 'r',
    settings: 's',
    key,
    seconds: 1,
    rows: points.map((p, i) => ({
      submission,
      test: `99-t${i}`,
      kind: 'formula',
      points: p,
      max_points: 2,
      reason: p === 2 ? 'passed' : 'wrong, "quoted"\nline',
    })),
  };
}

test('the CSVs: scores quote commas, quotes and newlines; totals sum per submission', () => {
  const csv = toCsv([
    {
      submission: 'a b.ipynb',
      test: 't',
      kind: 'build',
      points: 0,
      max_points: 2,
      reason: 'x, "y"\nz',
    },
  ]);
  assert.equal(
    csv,
    'submission,test,kind,points,max_points,reason\na b.ipynb,t,build,0,2,"x, ""y""\nz"\n',
  );
  const rows: ScoreRow[] = [
    { submission: 'alice', test: 'a', kind: 'build', points: 2, max_points: 2, reason: 'passed' },
    { submission: 'bob', test: 'a', kind: 'build', points: 0, max_points: 2, reason: 'x' },
    { submission: 'alice', test: 'b', kind: 'build', points: 1, max_points: 3, reason: 'y' },
  ];
  assert.equal(totalsCsv(rows), 'submission,points,max_points\nalice,3,5\nbob,0,2\n');
});

test('files are written whole or not at all; temporaries of dead graders are removed', () => {
  const dir = temp();
  writeAtomic(path.join(dir, 'results', 'a.json'), '{"x": 1}');
  assert.equal(fs.readFileSync(path.join(dir, 'results', 'a.json'), 'utf8'), '{"x": 1}');
  assert.deepEqual(fs.readdirSync(path.join(dir, 'results')), ['a.json']);
  // What a grader killed while writing leaves: a dead process's temporary, and a live one's.
  const dead = path.join(dir, 'results', `.tmp-${os.hostname()}-999999999-0123abcd`);
  const live = path.join(dir, 'results', `.tmp-${os.hostname()}-${process.pid}-0123abcd`);
  const otherHost = path.join(dir, 'results', '.tmp-elsewhere-1-0123abcd');
  for (const f of [dead, live, otherHost]) fs.writeFileSync(f, 'partial');
  removeStaleTemporaries(dir);
  assert.ok(!fs.existsSync(dead));
  assert.ok(fs.existsSync(live), "a running grader's file is kept");
  assert.ok(fs.existsSync(otherHost), "another host's file is kept (it may still run)");
  fs.rmSync(dir, { recursive: true });
});

test('file names are readable and unique, whatever the submission path', () => {
  const names = [
    'alice/02.ipynb',
    'alice__02.ipynb',
    'alice/02',
    '../x/alice/02.ipynb',
    'a b/ü.ipynb',
  ];
  const stems = names.map(fileStem);
  assert.equal(new Set(stems).size, names.length);
  assert.match(fileStem('alice/02-kl.ipynb'), /^alice__02-kl\.[0-9a-f]{8}$/);
  assert.match(fileStem('../../x/y.ipynb'), /^x__y\.[0-9a-f]{8}$/);
  for (const s of stems) assert.match(s, /^[\w.-]+$/);
});

test('a stored result is read back by its submission; an unreadable one counts as none', () => {
  const dir = temp();
  writeResult(dir, result('alice/a.ipynb', [2, 0]));
  assert.deepEqual(readResult(dir, 'alice/a.ipynb')?.rows.length, 2);
  assert.equal(readResult(dir, 'bob/a.ipynb'), null);
  fs.writeFileSync(path.join(dir, 'results', `${fileStem('bob/a.ipynb')}.json`), '{ truncated');
  assert.equal(readResult(dir, 'bob/a.ipynb'), null);
  fs.rmSync(dir, { recursive: true });
});

test('merging shards gives the tables of one run; different keys or conflicting scores are errors', () => {
  const all = [
    result('c/a.ipynb', [2, 2]),
    result('a/a.ipynb', [0, 2]),
    result('b/a.ipynb', [2, 0]),
    result('d/a.ipynb', [0, 0]),
  ];
  const single = temp();
  writeTables(single, all);
  const [s1, s2, out] = [temp(), temp(), temp()];
  all.forEach((r, i) => {
    const dir = i % 2 === 0 ? s1 : s2;
    writeResult(dir, r);
    writeAtomic(
      path.join(dir, 'feedback', `${fileStem(r.submission)}.html`),
      `<p>${r.submission}</p>`,
    );
  });
  mergeResults(out, [s1, s2]);
  for (const table of ['scores.csv', 'scores.json', 'totals.csv'])
    assert.equal(
      fs.readFileSync(path.join(out, table), 'utf8'),
      fs.readFileSync(path.join(single, table), 'utf8'),
    );
  assert.equal(fs.readdirSync(path.join(out, 'feedback')).length, 4);
  assert.equal(readResults(out).length, 4);
  assert.match(
    fs.readFileSync(path.join(out, 'totals.csv'), 'utf8'),
    /^submission,points,max_points\na\/a.ipynb,2,4\nb/,
  );

  const otherKey = temp();
  writeResult(otherKey, result('e/a.ipynb', [2, 2], 'k2'));
  assert.throws(
    () => mergeResults(temp(), [s1, otherKey]),
    /graded with different keys .* same --key FILE/,
  );
  const conflict = temp();
  writeResult(conflict, result('a/a.ipynb', [2, 2]));
  assert.throws(
    () => mergeResults(temp(), [s2, conflict]),
    /a\/a.ipynb was graded in two folders with different scores/,
  );
  assert.throws(() => mergeResults(temp(), [temp()]), /has no graded submissions/);
  const junk = temp();
  writeAtomic(path.join(junk, 'results', 'x.json'), '{"format": "something else"}');
  assert.throws(() => mergeResults(temp(), [junk]), /x.json is not a grading result/);
});
