/**
 * npm run grade -- [--timeout S] [--submission-timeout S] [--out DIR] [--source NOTEBOOK |
 * --source-dir DIR]
 *                  [--full] <submission.ipynb | folder ...>
 * Grades each submission in isolation (its own copy and kernel) through Jupyter with the project's
 * tslab kernel in quick mode, with the instructor's graded tests restored, and writes the score
 * table to DIR/scores.csv and DIR/scores.json (default build/grades/), one total per submission to
 * DIR/totals.csv, and the executed notebooks to DIR/executed/.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BUILD_DIR } from './jupyter';
import { ScoreRow, gradeSubmission, toCsv, totalsCsv } from './grading/grader';

const USAGE =
  'usage: npm run grade -- [--timeout SECONDS_PER_CELL] [--submission-timeout SECONDS] ' +
  '[--out DIR]\n' +
  '                        [--source INSTRUCTOR.ipynb | --source-dir DIR] [--full] ' +
  '<submission.ipynb | folder ...>';

interface Args {
  cellTimeout: number;
  submissionTimeout: number;
  outDir: string;
  source?: string;
  sourceDir?: string;
  full: boolean;
  inputs: string[];
}

function seconds(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (!(n > 0))
    throw new Error(`${flag} needs a positive number of seconds, got ${value ?? 'nothing'}`);
  return n;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    cellTimeout: 120,
    submissionTimeout: 900,
    outDir: path.join(BUILD_DIR, 'grades'),
    full: false,
    inputs: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (argv[i + 1] === undefined) throw new Error(`${a} needs a value.\n${USAGE}`);
      return argv[++i];
    };
    if (a === '--timeout') args.cellTimeout = seconds(a, value());
    else if (a === '--submission-timeout') args.submissionTimeout = seconds(a, value());
    else if (a === '--out') args.outDir = path.resolve(value());
    else if (a === '--source') args.source = path.resolve(value());
    else if (a === '--source-dir') args.sourceDir = path.resolve(value());
    else if (a === '--full') args.full = true;
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
function submissions(inputs: string[]): string[] {
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

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  const files = submissions(args.inputs);
  if (files.length === 0) throw new Error(`no .ipynb file in ${args.inputs.join(', ')}`);
  const rows: ScoreRow[] = [];
  const executedDir = path.join(args.outDir, 'executed');
  console.log(
    `Grading ${files.length} submission(s)${args.full ? '' : ' in quick mode'}; ` +
      `${args.cellTimeout} s per cell, ${args.submissionTimeout} s per submission.`,
  );
  for (const file of files) {
    const label = path.relative(process.cwd(), path.resolve(file));
    const start = Date.now();
    const result = gradeSubmission(
      file,
      {
        source: args.source,
        sourceDir: args.sourceDir,
        cellTimeout: args.cellTimeout,
        submissionTimeout: args.submissionTimeout,
        executedDir,
        env: { GENLAB_QUICK: args.full ? '0' : '1' },
      },
      label,
    );
    rows.push(...result);
    const points = result.reduce((s, r) => s + r.points, 0);
    const max = result.reduce((s, r) => s + r.max_points, 0);
    console.log(
      `  ${label}: ${points}/${max} points (${((Date.now() - start) / 1000).toFixed(1)} s)`,
    );
    for (const r of result.filter((x) => x.points < x.max_points || x.max_points === 0))
      console.log(`    ${r.test}: ${r.reason}`);
  }
  fs.mkdirSync(args.outDir, { recursive: true });
  fs.writeFileSync(path.join(args.outDir, 'scores.csv'), toCsv(rows));
  fs.writeFileSync(path.join(args.outDir, 'scores.json'), `${JSON.stringify(rows, null, 2)}\n`);
  fs.writeFileSync(path.join(args.outDir, 'totals.csv'), totalsCsv(rows));
  const where = path.relative(process.cwd(), args.outDir) || '.';
  console.log(
    `\nScore table: ${where}/scores.csv and ${where}/scores.json; totals per submission: ` +
      `${where}/totals.csv; executed notebooks in ${where}/executed/`,
  );
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  process.exitCode = 2;
}
