/**
 * npm run notebooks -- [--quick] [--timeout SECONDS] [name | file.ipynb ...]
 * Executes every notebook (or those whose file name contains one of the names) top to bottom through
 * Jupyter with the project's tslab kernel, writes build/notebooks/<name>.ipynb and .html, prints a table of
 * notebook, status and seconds, and exits non-zero if any notebook fails.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ExecuteResult, executeNotebook, exportHtml, listNotebooks } from './jupyter';

interface Args {
  quick: boolean;
  cellTimeout: number;
  names: string[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, cellTimeout: 1800, names: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--timeout') {
      args.cellTimeout = Number(argv[++i]);
      if (!(args.cellTimeout > 0)) throw new Error(`--timeout needs a positive number of seconds, got ${argv[i]}`);
    } else if (a === '--help' || a === '-h') {
      console.log('usage: npm run notebooks -- [--quick] [--timeout SECONDS_PER_CELL] [name | file.ipynb ...]');
      process.exit(0);
    } else if (a.startsWith('--')) throw new Error(`unknown option ${a} (use --quick, --timeout, or notebook names)`);
    else args.names.push(a);
  }
  return args;
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  // A name that is the path of an .ipynb file runs that file; other names select from notebooks/.
  const files = args.names.filter((n) => n.endsWith('.ipynb') && fs.existsSync(n)).map((n) => path.resolve(n));
  const names = args.names.filter((n) => !files.includes(path.resolve(n)));
  const notebooks = [...files, ...(names.length || !files.length ? listNotebooks(names) : [])];
  if (notebooks.length === 0) {
    console.error(`No notebook in notebooks/ matches ${args.names.map((n) => `'${n}'`).join(', ')}.`);
    return 2;
  }
  console.log(`Executing ${notebooks.length} notebook(s)${args.quick ? ' in quick mode' : ' at full size (use --quick for a fast run)'}.`);
  const rows: Array<{ name: string; status: string; seconds: number }> = [];
  for (const nb of notebooks) {
    const name = path.basename(nb);
    process.stdout.write(`  ${name} ... `);
    let result: ExecuteResult;
    try {
      result = executeNotebook(nb, { cellTimeout: args.cellTimeout, env: { GENLAB_QUICK: args.quick ? '1' : '0' } });
    } catch (err) {
      result = { ok: false, seconds: 0, error: (err as Error).message, timedOut: false };
    }
    let status = result.ok ? 'ok' : 'FAILED';
    if (result.ok && result.output) {
      try {
        exportHtml(result.output);
      } catch (err) {
        status = 'FAILED (html)';
        result.error = (err as Error).message;
      }
    }
    console.log(`${status} (${result.seconds.toFixed(1)} s)`);
    if (status !== 'ok') console.log(`${result.error}\n`.replace(/^/gm, '    '));
    rows.push({ name, status, seconds: result.seconds });
  }
  const width = Math.max(8, ...rows.map((r) => r.name.length));
  console.log(`\n${'notebook'.padEnd(width)}  ${'status'.padEnd(13)}  seconds`);
  for (const r of rows) console.log(`${r.name.padEnd(width)}  ${r.status.padEnd(13)}  ${r.seconds.toFixed(1).padStart(7)}`);
  const failed = rows.filter((r) => r.status !== 'ok').length;
  console.log(`\n${rows.length - failed} passed, ${failed} failed; executed notebooks and HTML pages are in build/notebooks/`);
  return failed ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  process.exitCode = 2;
}
