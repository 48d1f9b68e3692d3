/**
 * npm run assignments -- [--keep-hidden] [--out DIR] [--markdown] [name ...]
 * Writes the student version of every notebook in notebooks/ (or those whose file name contains one
 * of the names) to build/assignments/: solutions replaced by a stub that throws "not implemented
 * yet", hidden tests removed unless --keep-hidden, outputs cleared, everything else unchanged.
 * Prints a table of exercises (by kind), tests and points per notebook; --markdown also prints one
 * row per exercise as a Markdown table (for the README).
 */
import * as fs from 'fs';
import * as path from 'path';
import { BUILD_DIR, listNotebooks, readNotebook } from './jupyter';
import { EXERCISE_KINDS } from './grading/format';
import {
  EXERCISE_TABLE_HEADER,
  exerciseTableRows,
  serializeNotebook,
  studentVersion,
} from './grading/release';

interface Args {
  keepHidden: boolean;
  markdown: boolean;
  outDir: string;
  names: string[];
}

const USAGE =
  'usage: npm run assignments -- [--keep-hidden] [--out DIR] [--markdown] [notebook-name ...]';

function parseArgs(argv: string[]): Args {
  const args: Args = {
    keepHidden: false,
    markdown: false,
    outDir: path.join(BUILD_DIR, 'assignments'),
    names: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--keep-hidden') args.keepHidden = true;
    else if (a === '--markdown') args.markdown = true;
    else if (a === '--out') {
      if (!argv[i + 1]) throw new Error(`--out needs a folder. ${USAGE}`);
      args.outDir = path.resolve(argv[++i]);
    } else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (a.startsWith('--')) throw new Error(`unknown option ${a}. ${USAGE}`);
    else args.names.push(a);
  }
  return args;
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  const notebooks = listNotebooks(args.names);
  if (notebooks.length === 0) {
    console.error(
      args.names.length
        ? `No notebook in notebooks/ matches ${args.names.join(', ')}.`
        : 'notebooks/ has no notebook.',
    );
    return 2;
  }
  fs.mkdirSync(args.outDir, { recursive: true });
  const rows: string[][] = [];
  const exerciseRows: string[] = [];
  let failed = 0;
  for (const file of notebooks) {
    const name = path.basename(file, '.ipynb');
    try {
      const report = studentVersion(readNotebook(file), name, { keepHidden: args.keepHidden });
      fs.writeFileSync(path.join(args.outDir, `${name}.ipynb`), serializeNotebook(report.notebook));
      for (const w of report.warnings) console.warn(`warning: ${w}`);
      const hidden = report.tests.filter((t) => t.hidden);
      const points = report.tests.reduce((s, t) => s + t.points, 0);
      const kinds = EXERCISE_KINDS.map(
        (kind) => [kind, report.exercises.filter((e) => e.kind === kind).length] as const,
      )
        .filter(([, n]) => n > 0)
        .map(([kind, n]) => `${n} ${kind}`)
        .join(', ');
      rows.push([
        name,
        `${report.exercises.length}${kinds ? ` (${kinds})` : ''}`,
        String(report.tests.length),
        String(hidden.length),
        String(points),
      ]);
      exerciseRows.push(...exerciseTableRows(name, report.exercises));
    } catch (err) {
      failed++;
      console.error(`error: ${(err as Error).message}`);
      rows.push([name, 'FAILED', '', '', '']);
    }
  }
  const header = ['notebook', 'exercises', 'tests', 'hidden', 'points'];
  if (args.markdown) console.log([...EXERCISE_TABLE_HEADER, ...exerciseRows, ''].join('\n'));
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const line = (r: string[]) =>
    r.map((c, k) => (k === 0 ? c.padEnd(widths[k]) : c.padStart(widths[k]))).join('  ');
  console.log([line(header), ...rows.map(line)].join('\n'));
  const hiddenNote = args.keepHidden
    ? 'hidden tests kept'
    : 'hidden tests removed (--keep-hidden keeps them)';
  console.log(
    `\nStudent versions of ${notebooks.length - failed} notebook(s) in ` +
      `${path.relative(process.cwd(), args.outDir) || '.'}/; ${hiddenNote}.`,
  );
  return failed ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  process.exitCode = 2;
}
