/**
 * npm run full-runs -- [--runs N] [--jobs N] [--timeout SECONDS_PER_CELL] [--dir DIR] [--quick]
 *                       [name ...]
 *
 * The collection at full size, as a new user meets it: clones this checkout's HEAD into a fresh
 * folder, installs it with `npm ci`, then runs `npm run notebooks` there N times in a row (default
 * 3; the first run trains and saves every model, the later ones load them). Writes
 * build/full-runs/<date>/report.md (and .json) beside the clone: per notebook and run, the status,
 * seconds and peak memory of the kernel's process tree; for runs 2..N, the code cells whose text
 * output differs from run 1 once times and durations are masked (same seed, same numbers: a cell
 * listed there is either a number that is not reproducible or a line that says the model was
 * loaded); and the failures with their messages. Prints the table and exits non-zero if a run
 * failed. It takes hours (notebook 07 alone trains for about an hour the first time); --quick runs
 * the notebooks in quick mode instead, a check of this script and of the clone in minutes.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  BUILD_DIR,
  cellSource,
  megabytes,
  Notebook,
  NotebookRow,
  readNotebook,
  ROOT,
} from './jupyter';

const USAGE =
  'usage: npm run full-runs -- [--runs N] [--jobs N] [--timeout SECONDS_PER_CELL] [--dir DIR] ' +
  '[--quick] [name ...]';

interface Args {
  runs: number;
  jobs?: string;
  timeout?: string;
  dir: string;
  quick: boolean;
  names: string[];
}

function parseArgs(argv: string[]): Args {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const args: Args = {
    runs: 3,
    dir: path.join(BUILD_DIR, 'full-runs', stamp),
    quick: false,
    names: [],
  };
  const value = (flag: string, v: string | undefined): string => {
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value\n${USAGE}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') {
      args.runs = Number(value(a, argv[++i]));
      if (!Number.isInteger(args.runs) || args.runs < 1)
        throw new Error(`--runs needs a positive integer, got ${argv[i]}`);
    } else if (a === '--jobs') args.jobs = value(a, argv[++i]);
    else if (a === '--timeout') args.timeout = value(a, argv[++i]);
    else if (a === '--dir') args.dir = path.resolve(value(a, argv[++i]));
    else if (a === '--quick') args.quick = true;
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (a.startsWith('--')) throw new Error(`unknown option ${a}\n${USAGE}`);
    else args.names.push(a);
  }
  return args;
}

/** Runs a command with its output shown; throws with the command line when it fails. */
function run(command: string, argv: string[], cwd: string): void {
  console.log(`$ ${[command, ...argv].join(' ')}   (in ${cwd})`);
  const r = spawnSync(command, argv, { cwd, stdio: 'inherit' });
  if (r.status !== 0)
    throw new Error(`${command} ${argv.join(' ')} failed with status ${r.status ?? r.signal}`);
}

/** The text a code cell printed, with times and durations masked (they differ from run to run). */
function cellTexts(nb: Notebook): Map<number, string> {
  const texts = new Map<number, string>();
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== 'code') return;
    const parts = (cell.outputs ?? []).map((o) => {
      const data = o.data as Record<string, string | string[]> | undefined;
      const text = o.text ?? data?.['text/plain'] ?? o.evalue ?? '';
      return cellSource({ source: text } as never);
    });
    texts.set(
      i,
      parts
        .join('\n')
        .replace(/\d+(\.\d+)?\s*(ms|s|min|seconds?)\b/g, '<time>')
        .replace(/~[^)]*left/g, '<eta>'),
    );
  });
  return texts;
}

/** The code cells (numbered from 1) whose masked output differs between two executed copies. */
function differingCells(first: string, other: string): number[] {
  if (!fs.existsSync(first) || !fs.existsSync(other)) return [];
  const a = cellTexts(readNotebook(first));
  const b = cellTexts(readNotebook(other));
  return Array.from(a.keys())
    .filter((i) => a.get(i) !== b.get(i))
    .map((i) => i + 1);
}

interface RunReport {
  run: number;
  rows: NotebookRow[];
  load: [number, number];
  seconds: number;
}

function markdown(args: Args, commit: string, reports: RunReport[]): string {
  const names = Array.from(new Set(reports.flatMap((r) => r.rows.map((row) => row.name)))).sort();
  const header = ['notebook', ...reports.map((r) => `run ${r.run}: status, s, peak MB`)];
  const lines = [
    `# ${args.quick ? 'Quick-mode' : 'Full-size'} runs of the notebooks`,
    '',
    `Commit ${commit}, cloned into ${path.join(args.dir, 'clone')}; ${os.cpus().length} cores, ` +
      `${(os.totalmem() / 2 ** 30).toFixed(0)} GB; ${reports.length} run(s) in a row, the first ` +
      `on an empty build/ (every model trained), the later ones reusing the saved models.`,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
  ];
  for (const name of names) {
    const cells = reports.map((r) => {
      const row = r.rows.find((x) => x.name === name);
      return row
        ? `${row.status}, ${row.seconds.toFixed(0)}, ${megabytes(row.peakMemory)}`
        : 'not run';
    });
    lines.push(`| ${name} | ${cells.join(' | ')} |`);
  }
  const total = reports.map((r) => `${(r.seconds / 60).toFixed(1)} min`);
  lines.push(`| **total** | ${total.join(' | ')} |`, '');
  lines.push(
    `Load average (1 min) at the start and end of each run: ` +
      reports
        .map((r) => `run ${r.run}: ${r.load[0].toFixed(1)} / ${r.load[1].toFixed(1)}`)
        .join('; '),
    '',
  );
  if (reports.length > 1) {
    lines.push('Code cells whose printed text differs from run 1 (times masked):', '');
    for (const name of names) {
      const diffs = reports.slice(1).map((r) => {
        const cells = differingCells(
          path.join(args.dir, 'run-1', name),
          path.join(args.dir, `run-${r.run}`, name),
        );
        return `run ${r.run}: ${cells.length ? `cells ${cells.join(', ')}` : 'none'}`;
      });
      lines.push(`- ${name}: ${diffs.join('; ')}`);
    }
    lines.push('');
  }
  const failures = reports.flatMap((r) =>
    r.rows.filter((row) => row.status !== 'ok').map((row) => ({ run: r.run, row })),
  );
  if (failures.length) {
    lines.push('Failures:', '');
    for (const { run: n, row } of failures)
      lines.push(`- run ${n}, ${row.name}: ${row.error ?? row.status}`.replace(/\n/g, '\n  '));
    lines.push('');
  }
  return lines.join('\n');
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: ROOT,
    encoding: 'utf8',
  }).stdout.trim();
  const clone = path.join(args.dir, 'clone');
  fs.mkdirSync(args.dir, { recursive: true });
  run('git', ['clone', '--quiet', '--no-hardlinks', ROOT, clone], args.dir);
  run('npm', ['ci', '--no-audit', '--no-fund'], clone);
  const reports: RunReport[] = [];
  for (let n = 1; n <= args.runs; n++) {
    const json = path.join(args.dir, `run-${n}.json`);
    const load = os.loadavg()[0];
    const start = Date.now();
    const flags = [
      ...(args.quick ? ['--quick'] : []),
      ...(args.jobs ? ['--jobs', args.jobs] : []),
      ...(args.timeout ? ['--timeout', args.timeout] : []),
      '--json',
      json,
    ];
    // A failed notebook makes the runner exit non-zero: record it and go on with the next run.
    spawnSync('npm', ['run', 'notebooks', '--', ...flags, ...args.names], {
      cwd: clone,
      stdio: 'inherit',
    });
    const rows: NotebookRow[] = fs.existsSync(json)
      ? JSON.parse(fs.readFileSync(json, 'utf8'))
      : [];
    const kept = path.join(args.dir, `run-${n}`);
    fs.mkdirSync(kept, { recursive: true });
    for (const row of rows) {
      const executed = path.join(clone, 'build', 'notebooks', row.name);
      if (fs.existsSync(executed)) fs.copyFileSync(executed, path.join(kept, row.name));
    }
    reports.push({
      run: n,
      rows,
      load: [load, os.loadavg()[0]],
      seconds: (Date.now() - start) / 1000,
    });
  }
  const report = markdown(args, commit, reports);
  fs.writeFileSync(path.join(args.dir, 'report.md'), report + '\n');
  fs.writeFileSync(path.join(args.dir, 'report.json'), JSON.stringify(reports, null, 1) + '\n');
  console.log(`\n${report}\nWritten to ${path.join(args.dir, 'report.md')} (and report.json).`);
  const failed = reports.some((r) => r.rows.length === 0 || r.rows.some((x) => x.status !== 'ok'));
  return failed ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  process.exitCode = 2;
}
