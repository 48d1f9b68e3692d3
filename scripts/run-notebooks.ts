/**
 * npm run notebooks -- [--quick] [--jobs N] [--timeout SECONDS] [--json FILE] [name | file ...]
 * Executes every notebook (or those whose file name contains one of the names) top to bottom
 * through Jupyter with the kit's kernel, writes build/notebooks/<name>.ipynb and .html, prints a
 * table of notebook, status, seconds and the kernel's peak memory (--json FILE also writes it as
 * JSON), and exits non-zero if any notebook fails. Where a Chromium is found, the kernel gives
 * every figure a static PNG, so the notebook reads without JavaScript (GitHub, nbviewer);
 * --no-static-images skips that (GENLAB_STATIC_FIGURES=0).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { plot } from 'genlab';
import {
  ExecuteResult,
  executeNotebook,
  exportHtml,
  listNotebooks,
  megabytes,
  NotebookRow,
} from './jupyter';
import { STATIC_FIGURES_ENV } from './kernel/figures';

const USAGE =
  'usage: npm run notebooks -- [--quick] [--jobs N] [--timeout SECONDS_PER_CELL] ' +
  '[--no-static-images] [--json FILE] [name | file.ipynb ...]';

interface Args {
  quick: boolean;
  jobs: number;
  cellTimeout: number;
  staticImages: boolean;
  json?: string;
  names: string[];
}

function positiveNumber(flag: string, value: string | undefined, integer: boolean): number {
  const n = Number(value);
  if (!(n > 0) || (integer && !Number.isInteger(n)))
    throw new Error(`${flag} needs a positive ${integer ? 'integer' : 'number'}, got ${value}`);
  return n;
}

function parseArgs(argv: string[]): Args {
  // Notebooks compute on one thread each (wasm), so by default two run at a time on a machine with
  // 2+ cores.
  const args: Args = {
    quick: false,
    jobs: Math.min(2, os.cpus().length),
    cellTimeout: 1800,
    staticImages: true,
    names: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--jobs') args.jobs = positiveNumber(a, argv[++i], true);
    else if (a === '--timeout') args.cellTimeout = positiveNumber(a, argv[++i], false);
    else if (a === '--no-static-images') args.staticImages = false;
    else if (a === '--json') {
      args.json = argv[++i];
      if (!args.json || args.json.startsWith('--'))
        throw new Error(`--json needs a file\n${USAGE}`);
    } else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (a.startsWith('--')) throw new Error(`unknown option ${a}\n${USAGE}`);
    else args.names.push(a);
  }
  return args;
}

async function runOne(file: string, args: Args): Promise<NotebookRow> {
  const name = path.basename(file);
  let result: ExecuteResult;
  try {
    result = await executeNotebook(file, {
      cellTimeout: args.cellTimeout,
      env: {
        GENLAB_QUICK: args.quick ? '1' : '0',
        ...(args.staticImages ? {} : { [STATIC_FIGURES_ENV]: '0' }),
      },
    });
  } catch (err) {
    result = { ok: false, seconds: 0, error: (err as Error).message };
  }
  const row: NotebookRow = {
    name,
    status: result.ok ? 'ok' : 'FAILED',
    seconds: result.seconds,
    peakMemory: result.peakMemory,
    error: result.error,
  };
  if (result.ok && result.output) {
    try {
      exportHtml(result.output);
    } catch (err) {
      row.status = 'FAILED (export)';
      row.error = (err as Error).message;
    }
  }
  console.log(
    `  ${name} ${row.status} (${row.seconds.toFixed(1)} s, peak ${megabytes(row.peakMemory)} MB)`,
  );
  if (row.error) console.log(`${row.error}\n`.replace(/^/gm, '    '));
  return row;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  // A name that is the path of an .ipynb file runs that file; other names select from notebooks/.
  const files = args.names
    .filter((n) => n.endsWith('.ipynb') && fs.existsSync(n))
    .map((n) => path.resolve(n));
  const names = args.names.filter((n) => !files.includes(path.resolve(n)));
  const notebooks = [...files, ...(names.length || !files.length ? listNotebooks(names) : [])];
  if (notebooks.length === 0) {
    console.error(`No notebook in notebooks/ matches ${names.map((n) => `'${n}'`).join(', ')}.`);
    return 2;
  }
  const jobs = Math.min(args.jobs, notebooks.length);
  console.log(
    `Executing ${notebooks.length} notebook(s)` +
      `${args.quick ? ' in quick mode' : ' at full size (use --quick for a fast run)'}, ` +
      `${jobs} at a time.`,
  );
  if (args.staticImages && !plot.findChromium())
    console.log(
      `No Chromium found, so figures in executed notebooks get no static image (GitHub and ` +
        `nbviewer show them blank).\n${plot.noBrowserMessage()}`,
    );
  const rows: NotebookRow[] = [];
  const queue = [...notebooks];
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      for (let file = queue.shift(); file; file = queue.shift())
        rows.push(await runOne(file, args));
    }),
  );
  rows.sort((a, b) => a.name.localeCompare(b.name));
  const width = Math.max(8, ...rows.map((r) => r.name.length));
  console.log(`\n${'notebook'.padEnd(width)}  ${'status'.padEnd(15)}  seconds  peak MB`);
  for (const r of rows)
    console.log(
      `${r.name.padEnd(width)}  ${r.status.padEnd(15)}  ${r.seconds.toFixed(1).padStart(7)}  ` +
        `${megabytes(r.peakMemory).padStart(7)}`,
    );
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(rows, null, 1) + '\n');
  const failed = rows.filter((r) => r.status !== 'ok').length;
  console.log(
    `\n${rows.length - failed} passed, ${failed} failed; executed notebooks and HTML pages are ` +
      `in build/notebooks/`,
  );
  return failed ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(`error: ${(err as Error).message}`);
    process.exitCode = 2;
  },
);
