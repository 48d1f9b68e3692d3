/**
 * What grading leaves in its output folder, and how it survives a crash:
 *   results/<submission>.json   one per submission, written (atomically) as soon as it is graded;
 *   feedback/<submission>.html  the student's feedback page; executed/<submission>.ipynb;
 *   scores.csv, scores.json, totals.csv   the tables, from the results;
 *   references/                 the reference runs of the instructor notebooks (cached);
 *   grading-key                 the secret that seeds the test inputs (unless --key names one).
 * Every file is written to a temporary name in the same folder and renamed into place, so a
 * killed grader leaves complete files or none; its temporary files are removed by the next run.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isAlive } from './sandbox';

export interface ScoreRow {
  submission: string;
  test: string;
  /** The kind of the exercise the test grades (build, experiment, interpret, formula). */
  kind: string;
  points: number;
  max_points: number;
  reason: string;
}

export const RESULT_FORMAT = 'genlab-grade-result/1';

/** One graded submission. */
export interface SubmissionResult {
  format: typeof RESULT_FORMAT;
  /** The submission's name in the tables: its path as given (relative to where grading ran). */
  submission: string;
  /** sha256 of the submission file (a changed file is graded again). */
  sha256: string;
  /** The instructor notebook's name, and the hash of its reference run (null: none found). */
  assignment: string | null;
  reference: string | null;
  /** Fingerprints of the grading settings and of the key: another value means grade again. */
  settings: string;
  key: string;
  rows: ScoreRow[];
  seconds: number;
}

const TEMP_PREFIX = '.tmp-';

/** Writes `content` to `file` through a temporary file in the same folder and a rename. */
export function writeAtomic(file: string, content: string | Buffer): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const temp = path.join(
    dir,
    `${TEMP_PREFIX}${os.hostname()}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`,
  );
  const fd = fs.openSync(temp, 'w', 0o644);
  try {
    fs.writeFileSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
}

/**
 * Removes the temporary files that graders on this host, no longer running, left in the output
 * folder's subfolders (a grader killed while writing).
 */
export function removeStaleTemporaries(outDir: string): void {
  const host = os.hostname();
  const dirs = [
    outDir,
    ...['results', 'feedback', 'executed', 'references'].map((d) => path.join(outDir, d)),
  ];
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) continue;
    for (const entry of fs.readdirSync(dir)) {
      if (!entry.startsWith(TEMP_PREFIX)) continue;
      const m = /^\.tmp-(.*)-(\d+)-[0-9a-f]{8}$/.exec(entry);
      if (m && m[1] === host && !isAlive(Number(m[2])))
        fs.rmSync(path.join(dir, entry), { force: true });
    }
  }
}

/** A file name for a submission's outputs: readable, and unique by a hash of the name. */
export function fileStem(submission: string): string {
  const readable = submission
    .replace(/\.ipynb$/, '')
    .replace(/^(\.\.[\\/])+/, '')
    .replace(/[\\/]+/g, '__')
    .replace(/[^\w.-]/g, '_')
    .replace(/^\.+/, '_')
    .slice(-120);
  const hash = crypto.createHash('sha256').update(submission).digest('hex').slice(0, 8);
  return `${readable}.${hash}`;
}

export function resultFile(outDir: string, submission: string): string {
  return path.join(outDir, 'results', `${fileStem(submission)}.json`);
}

export function writeResult(outDir: string, result: SubmissionResult): void {
  writeAtomic(resultFile(outDir, result.submission), `${JSON.stringify(result, null, 1)}\n`);
}

function isResult(value: unknown): value is SubmissionResult {
  const r = value as SubmissionResult;
  return (
    typeof r === 'object' &&
    r !== null &&
    r.format === RESULT_FORMAT &&
    typeof r.submission === 'string' &&
    Array.isArray(r.rows)
  );
}

/** The stored result of a submission, or null when there is none (or it cannot be read). */
export function readResult(outDir: string, submission: string): SubmissionResult | null {
  try {
    const value = JSON.parse(fs.readFileSync(resultFile(outDir, submission), 'utf8'));
    return isResult(value) && value.submission === submission ? value : null;
  } catch {
    return null;
  }
}

/** Every result in an output folder. Throws on a file that is not a result. */
export function readResults(outDir: string): SubmissionResult[] {
  const dir = path.join(outDir, 'results');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.startsWith(TEMP_PREFIX))
    .map((f) => {
      const value = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
      if (!isResult(value)) throw new Error(`${path.join(dir, f)} is not a grading result`);
      return value;
    });
}

function csv(header: string[], rows: Array<Array<string | number>>): string {
  const quote = (v: string | number) =>
    /[",\n\r]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v);
  return [header.join(','), ...rows.map((r) => r.map(quote).join(','))].join('\n') + '\n';
}

/** The score table as CSV (RFC 4180 quoting): one row per submission and test. */
export function toCsv(rows: ScoreRow[]): string {
  return csv(
    ['submission', 'test', 'kind', 'points', 'max_points', 'reason'],
    rows.map((r) => [r.submission, r.test, r.kind, r.points, r.max_points, r.reason]),
  );
}

/** One row per submission with its total, for a gradebook. */
export function totalsCsv(rows: ScoreRow[]): string {
  const totals = new Map<string, { points: number; max: number }>();
  for (const r of rows) {
    const t = totals.get(r.submission) ?? { points: 0, max: 0 };
    totals.set(r.submission, { points: t.points + r.points, max: t.max + r.max_points });
  }
  return csv(
    ['submission', 'points', 'max_points'],
    [...totals].map(([s, t]) => [s, t.points, t.max]),
  );
}

/** Results in table order: by submission name (byte order), tests in the notebook's order. */
export function sortResults(results: SubmissionResult[]): SubmissionResult[] {
  return [...results].sort((a, b) =>
    a.submission < b.submission ? -1 : a.submission > b.submission ? 1 : 0,
  );
}

/** Writes scores.csv, scores.json and totals.csv for these results into `outDir`. */
export function writeTables(outDir: string, results: SubmissionResult[]): void {
  const rows = sortResults(results).flatMap((r) => r.rows);
  writeAtomic(path.join(outDir, 'scores.csv'), toCsv(rows));
  writeAtomic(path.join(outDir, 'scores.json'), `${JSON.stringify(rows, null, 2)}\n`);
  writeAtomic(path.join(outDir, 'totals.csv'), totalsCsv(rows));
}

/**
 * Merges the results of several output folders (the shards of one class) into `outDir`: checks
 * that they were graded with the same key and agree where they overlap, copies their feedback
 * pages and executed notebooks, and writes the tables. Returns the merged results.
 */
export function mergeResults(outDir: string, dirs: string[]): SubmissionResult[] {
  const merged = new Map<string, SubmissionResult>();
  const keys = new Map<string, string>();
  for (const dir of dirs) {
    const results = readResults(dir);
    if (results.length === 0) throw new Error(`${dir} has no graded submissions (no results/)`);
    for (const r of results) {
      keys.set(r.key, dir);
      const earlier = merged.get(r.submission);
      if (earlier && JSON.stringify(earlier.rows) !== JSON.stringify(r.rows))
        throw new Error(
          `${r.submission} was graded in two folders with different scores (${dir} and another); ` +
            `remove one of its results`,
        );
      merged.set(r.submission, r);
      if (path.resolve(dir) === path.resolve(outDir)) continue;
      const stem = fileStem(r.submission);
      for (const [sub, ext] of [
        ['feedback', 'html'],
        ['executed', 'ipynb'],
        ['results', 'json'],
      ]) {
        const from = path.join(dir, sub, `${stem}.${ext}`);
        if (fs.existsSync(from))
          writeAtomic(path.join(outDir, sub, `${stem}.${ext}`), fs.readFileSync(from));
      }
    }
  }
  if (keys.size > 1)
    throw new Error(
      `the folders were graded with different keys (${[...keys.values()].join(', ')}), so their ` +
        `test inputs differ; grade every shard with the same --key FILE`,
    );
  const all = sortResults([...merged.values()]);
  writeTables(outDir, all);
  return all;
}
