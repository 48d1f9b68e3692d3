/**
 * npm run grade -- [options] <submission.ipynb | folder ...>
 * npm run grade -- merge [--out DIR] DIR ...
 *
 * Grades each submission in a bubblewrap sandbox of its own (see scripts/grading/), in quick mode,
 * with the instructor's graded tests restored and the verdicts computed outside the student's
 * kernel; writes each submission's result, feedback page and executed notebook as soon as it is
 * graded (a rerun resumes), then the tables DIR/scores.csv, scores.json and totals.csv. `merge`
 * combines the output folders of a class graded in shards (--shard i/n) into one set of tables.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BUILD_DIR } from './jupyter';
import {
  GradeContext,
  InstructorNotebook,
  Reference,
  assignmentSeed,
  gradeSubmission,
  loadInstructorNotebook,
  stillValid,
  parseReference,
  referenceRun,
  runTag,
} from './grading/grader';
import { changedCompiledFiles, gradingLibrary } from './grading/library';
import {
  SubmissionResult,
  mergeResults,
  readResult,
  removeStaleTemporaries,
  writeAtomic,
  writeResult,
  writeTables,
} from './grading/results';
import {
  DEFAULT_LIMITS,
  Limits,
  Runner,
  WORK_ROOT,
  removeStaleWork,
  sandboxProblem,
  sandboxRunner,
  unsandboxedRunner,
} from './grading/sandbox';

const USAGE = `usage: npm run grade -- [options] <submission.ipynb | folder ...>
       npm run grade -- merge [--out DIR] DIR ...
options:
  --out DIR                 output folder (default build/grades)
  --source NOTEBOOK         the instructor notebook of every submission
  --source-dir DIR          where instructor notebooks are found (default notebooks/)
  --timeout SECONDS         time one cell may run (default 120)
  --submission-timeout S    time one submission may run (default 900)
  --memory SIZE             memory each process of a submission may use (default 4G)
  --max-output SIZE         cell output kept per submission (default 16M)
  --jobs N                  submissions graded at once (default 1)
  --shard I/N               grade only the I-th of N parts of the class (then merge)
  --key FILE                secret that seeds the test inputs (default OUT/grading-key, made once)
  --regrade                 grade again submissions that already have a result
  --full                    run at full size instead of quick mode
  --no-sandbox              run submissions without a sandbox (only for code you trust)`;

interface Args {
  outDir: string;
  source?: string;
  sourceDir?: string;
  limits: Limits;
  jobs: number;
  shard: { index: number; count: number } | null;
  key?: string;
  regrade: boolean;
  full: boolean;
  sandbox: boolean;
  inputs: string[];
}

function seconds(flag: string, value: string): number {
  const n = Number(value);
  if (!(n > 0 && Number.isFinite(n)))
    throw new Error(`${flag} needs a positive number of seconds, got ${value}`);
  return n;
}

/** "4G", "512M", "100k" or a number of bytes. */
function size(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgG]?)[bB]?$/.exec(value.trim());
  const unit = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 }[(m?.[2] ?? '').toLowerCase()];
  if (!m || unit === undefined || !(Number(m[1]) > 0))
    throw new Error(`${flag} needs a size like 4G, 512M or 100k, got ${value}`);
  return Math.round(Number(m[1]) * unit);
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    outDir: path.join(BUILD_DIR, 'grades'),
    limits: { ...DEFAULT_LIMITS },
    jobs: 1,
    shard: null,
    regrade: false,
    full: false,
    sandbox: true,
    inputs: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (argv[i + 1] === undefined) throw new Error(`${a} needs a value.\n${USAGE}`);
      return argv[++i];
    };
    if (a === '--timeout') args.limits.cellTimeout = seconds(a, value());
    else if (a === '--submission-timeout') args.limits.submissionTimeout = seconds(a, value());
    else if (a === '--memory') args.limits.memory = size(a, value());
    else if (a === '--max-output') args.limits.output = size(a, value());
    else if (a === '--out') args.outDir = path.resolve(value());
    else if (a === '--source') args.source = path.resolve(value());
    else if (a === '--source-dir') args.sourceDir = path.resolve(value());
    else if (a === '--key') args.key = path.resolve(value());
    else if (a === '--jobs') {
      const v = value();
      args.jobs = Number(v);
      if (!Number.isInteger(args.jobs) || args.jobs < 1)
        throw new Error(`--jobs needs a positive whole number, got ${v}`);
    } else if (a === '--shard') {
      const v = value();
      const m = /^(\d+)\/(\d+)$/.exec(v);
      const [index, count] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
      if (!m || index < 1 || index > count)
        throw new Error(`--shard needs I/N with 1 <= I <= N, e.g. --shard 2/4, got ${v}`);
      args.shard = { index, count };
    } else if (a === '--regrade') args.regrade = true;
    else if (a === '--full') args.full = true;
    else if (a === '--no-sandbox') args.sandbox = false;
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (a.startsWith('--')) throw new Error(`unknown option ${a}.\n${USAGE}`);
    else args.inputs.push(a);
  }
  if (args.inputs.length === 0) throw new Error(`no submission given.\n${USAGE}`);
  return args;
}

/** The .ipynb files named, with folders searched recursively (checkpoints skipped). */
function submissionFiles(inputs: string[]): string[] {
  const files: string[] = [];
  const walk = (p: string) => {
    const stat = fs.statSync(p, { throwIfNoEntry: false });
    if (!stat) throw new Error(`${p} does not exist`);
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(p).sort()) {
        if (entry === '.ipynb_checkpoints') continue;
        const child = path.join(p, entry);
        if (entry.endsWith('.ipynb') || fs.statSync(child).isDirectory()) walk(child);
      }
    } else files.push(p);
  };
  inputs.forEach(walk);
  return files;
}

/** The secret key: read from `file`, or made there (by the first of several shards) if missing. */
function loadKey(file: string, create: boolean): string {
  if (!fs.existsSync(file)) {
    if (!create) throw new Error(`the key file ${file} does not exist`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temp = `${file}.${os.hostname()}-${process.pid}`;
    fs.writeFileSync(temp, `${crypto.randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    try {
      fs.linkSync(temp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      fs.rmSync(temp, { force: true });
    }
  }
  const key = fs.readFileSync(file, 'utf8').trim();
  if (key.length < 16) throw new Error(`the key in ${file} is too short (at least 16 characters)`);
  return key;
}

function fingerprint(...parts: string[]): string {
  return crypto.createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 16);
}

/** Runs `work` on every item, at most `jobs` at a time, in order of start. */
async function pool<T>(items: T[], jobs: number, work: (item: T, i: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
}

function refuseWithoutSandbox(problem: string): never {
  throw new Error(
    `cannot sandbox the submissions: ${problem}.\n` +
      "Grading runs the students' code. Without a sandbox it runs with your permissions: it " +
      'can read your solutions and hidden tests, change the kit (and so every later grade), ' +
      'change or delete other submissions and rewrite the grades, and reach the network.\n' +
      'Install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap) and grade again, or ' +
      'pass --no-sandbox to grade anyway (only for code you trust, e.g. your own notebooks).',
  );
}

async function grade(args: Args): Promise<number> {
  const log = (line: string) => console.log(line);
  let runner: Runner;
  let libraryId: string;
  const library = gradingLibrary(log);
  const changed = changedCompiledFiles(library);
  const changedGrading = changed.filter((f) => f.startsWith(`grading${path.sep}`));
  if (changedGrading.length > 0)
    throw new Error(
      `lib/dist/${changedGrading[0]} is not what lib/ compiles to (edited after the build, or ` +
        `stale), and the grader compares answers with that code. Rebuild with \`npx tsc -b ` +
        `--force\` and grade again.`,
    );
  if (changed.length > 0)
    console.warn(
      `warning: ${changed.length} file(s) of lib/dist differ from lib/'s sources (e.g. ` +
        `lib/dist/${changed[0]}); ` +
        (args.sandbox ? 'the sandboxes use a fresh build.' : 'rebuild with `npx tsc -b --force`.'),
    );
  if (args.sandbox) {
    const problem = sandboxProblem();
    if (problem) refuseWithoutSandbox(problem);
    runner = sandboxRunner({ library });
    libraryId = path.basename(library);
  } else {
    console.warn(
      'warning: --no-sandbox: the submissions run with your permissions and can read and change ' +
        'your files (solutions, hidden tests, the kit, other submissions, the grades).',
    );
    runner = unsandboxedRunner();
    libraryId = `unsandboxed-${path.basename(library)}`;
  }
  removeStaleTemporaries(args.outDir);
  removeStaleWork();
  const key = loadKey(args.key ?? path.join(args.outDir, 'grading-key'), args.key === undefined);
  const keyFingerprint = fingerprint('key', key);
  const quick = !args.full;
  const settingsFingerprint = fingerprint(
    JSON.stringify({ quick, limits: args.limits, sandboxed: runner.sandboxed }),
  );

  const instructors = new Map<string, InstructorNotebook>();
  const instructor = (file: string): InstructorNotebook => {
    let found = instructors.get(file);
    if (!found) {
      found = loadInstructorNotebook(file);
      instructors.set(file, found);
    }
    return found;
  };
  const references = new Map<string, Promise<{ reference: Reference; hash: string }>>();
  const settings = { runTag: runTag(args.outDir), quick, limits: args.limits, runner };
  const reference = (nb: InstructorNotebook) => {
    let found = references.get(nb.file);
    if (!found) {
      found = (async () => {
        const id = fingerprint(nb.sha256, keyFingerprint, String(quick), libraryId, 'reference/1');
        const file = path.join(args.outDir, 'references', `${nb.name}-${id}.jsonl`);
        if (!fs.existsSync(file)) {
          log(`Reference run of ${path.relative(process.cwd(), nb.file)}...`);
          const seed = assignmentSeed(key, nb.name);
          writeAtomic(file, (await referenceRun(nb, seed, settings)).text);
        }
        const text = fs.readFileSync(file, 'utf8');
        return { reference: parseReference(nb, text), hash: fingerprint(text) };
      })();
      references.set(nb.file, found);
    }
    return found;
  };
  const context: GradeContext = {
    ...settings,
    outDir: args.outDir,
    options: { source: args.source, sourceDir: args.sourceDir },
    reference,
    instructor,
    settingsFingerprint,
    keyFingerprint,
  };

  const all = submissionFiles(args.inputs)
    .map((file) => ({ file, label: path.relative(process.cwd(), path.resolve(file)) }))
    .sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  if (all.length === 0) throw new Error(`no .ipynb file in ${args.inputs.join(', ')}`);
  const mine = args.shard
    ? all.filter((_, i) => i % args.shard!.count === args.shard!.index - 1)
    : all;
  const shardText = args.shard
    ? ` (shard ${args.shard.index}/${args.shard.count} of ${all.length})`
    : '';
  log(
    `Grading ${mine.length} submission(s)${shardText}${quick ? ' in quick mode' : ''}, ` +
      `${args.jobs} at a time, ${runner.sandboxed ? 'each in a sandbox' : 'WITHOUT a sandbox'}; ` +
      `${args.limits.cellTimeout} s per cell, ${args.limits.submissionTimeout} s per submission.`,
  );
  const start = Date.now();
  const results: SubmissionResult[] = [];
  const failures: string[] = [];
  let resumed = 0;
  await pool(mine, args.jobs, async ({ file, label }, i) => {
    const counter = `[${i + 1}/${mine.length}]`;
    try {
      const earlier = args.regrade ? null : readResult(args.outDir, label);
      const reused = earlier && (await stillValid(earlier, file, context)) ? earlier : null;
      const current = reused ?? (await gradeSubmission(file, label, context));
      if (reused) resumed++;
      else writeResult(args.outDir, current);
      results.push(current);
      const points = current.rows.reduce((s, r) => s + r.points, 0);
      const max = current.rows.reduce((s, r) => s + r.max_points, 0);
      log(
        `  ${counter} ${label}: ${points}/${max} points ` +
          `(${reused ? 'graded before' : `${current.seconds.toFixed(1)} s`})`,
      );
      for (const r of current.rows.filter((x) => x.points < x.max_points || x.max_points === 0))
        log(`      ${r.test}: ${r.reason}`);
    } catch (err) {
      failures.push(`${label}: ${(err as Error).message}`);
      log(`  ${counter} ${label}: NOT GRADED: ${(err as Error).message}`);
    }
  });
  const minutes = (Date.now() - start) / 60000;
  const graded = results.length - resumed;
  log(
    `\n${results.length} submission(s) done (${resumed} from an earlier run) in ` +
      `${minutes.toFixed(1)} min` +
      (graded > 0 ? `: ${(graded / minutes).toFixed(1)} submissions per minute.` : '.'),
  );
  const where = path.relative(process.cwd(), args.outDir) || '.';
  if (args.shard)
    log(`Results in ${where}/results/; when every shard is done: npm run grade -- merge ${where}`);
  else {
    writeTables(args.outDir, results);
    log(
      `Score table: ${where}/scores.csv and ${where}/scores.json; totals per submission: ` +
        `${where}/totals.csv; feedback pages in ${where}/feedback/; executed notebooks in ` +
        `${where}/executed/`,
    );
  }
  if (failures.length > 0) {
    console.error(
      `\n${failures.length} submission(s) could not be graded:\n  ${failures.join('\n  ')}`,
    );
    return 1;
  }
  return 0;
}

function merge(argv: string[]): number {
  let outDir: string | undefined;
  const dirs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') {
      if (argv[i + 1] === undefined) throw new Error(`--out needs a folder.\n${USAGE}`);
      outDir = path.resolve(argv[++i]);
    } else if (argv[i].startsWith('--')) throw new Error(`unknown option ${argv[i]}.\n${USAGE}`);
    else dirs.push(path.resolve(argv[i]));
  }
  if (dirs.length === 0) throw new Error(`merge needs the output folders of the shards.\n${USAGE}`);
  const out = outDir ?? dirs[0];
  const results = mergeResults(out, dirs);
  const where = path.relative(process.cwd(), out) || '.';
  console.log(
    `Merged ${results.length} submission(s) from ${dirs.length} folder(s): ${where}/scores.csv, ` +
      `${where}/scores.json, ${where}/totals.csv`,
  );
  return 0;
}

/** A killed grader's sandboxes die with it; its own --no-sandbox work folders go here. */
function removeOwnWork(): void {
  if (!fs.existsSync(WORK_ROOT)) return;
  for (const entry of fs.readdirSync(WORK_ROOT))
    if (entry.startsWith(`${os.hostname()}-${process.pid}-`))
      fs.rmSync(path.join(WORK_ROOT, entry), { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    removeOwnWork();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv[0] === 'merge') return merge(argv.slice(1));
  return grade(parseArgs(argv));
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`error: ${(err as Error).message}`);
    process.exitCode = 2;
  },
);
