/**
 * Running notebooks through Jupyter itself (nbconvert/nbclient speaking the real kernel protocol) with the
 * project's own tslab kernel. Shared by the notebook runner, the grader and the tests.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const NOTEBOOK_DIR = path.join(ROOT, 'notebooks');
export const BUILD_DIR = path.join(ROOT, 'build');
/** JUPYTER_PATH entry holding the project's kernelspec. */
export const KERNEL_PATH = path.join(BUILD_DIR, 'jupyter');
export const KERNEL_NAME = 'tslab';

const INSTALL_HINT =
  'Install Jupyter (Debian/Ubuntu: `sudo apt-get install jupyter-nbconvert python3-nbclient python3-ipykernel`; ' +
  'elsewhere: `python3 -m pip install nbconvert nbclient ipykernel`) or set JUPYTER=/path/to/jupyter.';

function works(candidate: string): boolean {
  const r = spawnSync(candidate, ['nbconvert', '--version'], { encoding: 'utf8' });
  return r.status === 0;
}

let jupyterCache: string | undefined;

/** The `jupyter` command to use: $JUPYTER, else the first on PATH with nbconvert, else Debian's. */
export function findJupyter(): string {
  if (jupyterCache) return jupyterCache;
  const forced = process.env.JUPYTER;
  if (forced) {
    if (!works(forced)) throw new Error(`JUPYTER=${forced} cannot run \`nbconvert --version\`. ${INSTALL_HINT}`);
    return (jupyterCache = forced);
  }
  for (const candidate of ['jupyter', '/usr/bin/jupyter', '/usr/local/bin/jupyter']) {
    if (works(candidate)) return (jupyterCache = candidate);
  }
  throw new Error(`Jupyter with nbconvert was not found. ${INSTALL_HINT}`);
}

/** The kernelspec of the project's tslab: the kernel binary is this checkout's node_modules/.bin/tslab. */
export function kernelSpec(): object {
  const tslab = path.join(ROOT, 'node_modules', '.bin', 'tslab');
  if (!fs.existsSync(tslab)) throw new Error(`${tslab} is missing: run \`npm ci\` in ${ROOT} first.`);
  return {
    argv: [tslab, 'kernel', '--config-path', '{connection_file}'],
    display_name: 'TypeScript (genlab)',
    language: 'typescript',
  };
}

/** Writes the kernelspec under `dataDir`/kernels/tslab and returns that folder. */
export function installKernelSpec(dataDir = KERNEL_PATH): string {
  const dir = path.join(dataDir, 'kernels', KERNEL_NAME);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'kernel.json'), JSON.stringify(kernelSpec(), null, 2) + '\n');
  return dir;
}

export interface NotebookCell {
  cell_type: 'code' | 'markdown' | 'raw';
  id?: string;
  source: string | string[];
  metadata: Record<string, unknown>;
  outputs?: Array<Record<string, unknown>>;
  execution_count?: number | null;
}

export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: NotebookCell[];
}

/** Reads and checks a notebook file; a malformed one gives one error that names the file and the problem. */
export function readNotebook(file: string): Notebook {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let nb: Notebook;
  try {
    nb = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: malformed notebook, not valid JSON (${(err as Error).message})`);
  }
  const problem = notebookProblem(nb);
  if (problem) throw new Error(`${file}: malformed notebook, ${problem}`);
  return nb;
}

function notebookProblem(nb: Notebook): string | undefined {
  if (typeof nb !== 'object' || nb === null || Array.isArray(nb)) return 'the top level is not a JSON object';
  if (nb.nbformat !== 4) return `nbformat is ${JSON.stringify(nb.nbformat)}, expected 4`;
  if (typeof nb.nbformat_minor !== 'number') return 'nbformat_minor is missing';
  if (typeof nb.metadata !== 'object' || nb.metadata === null) return 'metadata is missing';
  if (!Array.isArray(nb.cells)) return "'cells' is missing or not a list";
  for (const [i, cell] of nb.cells.entries()) {
    if (!cell || !['code', 'markdown', 'raw'].includes(cell.cell_type)) return `cell ${i} has cell_type ${JSON.stringify(cell?.cell_type)}`;
    if (typeof cell.source !== 'string' && !(Array.isArray(cell.source) && cell.source.every((s) => typeof s === 'string'))) {
      return `cell ${i} has no text source`;
    }
    if (typeof cell.metadata !== 'object' || cell.metadata === null) return `cell ${i} has no metadata`;
    if (cell.cell_type === 'code' && !Array.isArray(cell.outputs)) return `code cell ${i} has no outputs list`;
    if (nb.nbformat_minor >= 5 && typeof cell.id !== 'string') return `cell ${i} has no id (required by nbformat 4.5)`;
  }
  return undefined;
}

/** The text of a cell's source. */
export function cellSource(cell: NotebookCell): string {
  return Array.isArray(cell.source) ? cell.source.join('') : cell.source;
}

export interface ExecuteOptions {
  /** Folder for the executed copy (default build/notebooks). */
  outDir?: string;
  /** Seconds one cell may run (default 1800). */
  cellTimeout?: number;
  /** Extra environment for the kernel, e.g. { GENLAB_QUICK: '1' }. */
  env?: Record<string, string>;
  /** Keep executing after a failing cell (the grader needs every test cell's result). */
  allowErrors?: boolean;
  /** Kill the whole execution after this many seconds (default: none). */
  totalTimeout?: number;
}

export interface ExecuteResult {
  ok: boolean;
  seconds: number;
  /** The executed copy, if Jupyter wrote one. */
  output?: string;
  /** What went wrong, in a few lines. */
  error?: string;
  timedOut: boolean;
}

function jupyterEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const existing = process.env.JUPYTER_PATH;
  return { ...process.env, JUPYTER_PATH: existing ? `${KERNEL_PATH}${path.delimiter}${existing}` : KERNEL_PATH, ...extra };
}

/** The part of nbconvert's error output that tells what failed (the failing cell and its error). */
export function summarizeFailure(stderr: string): string {
  const text = stderr;
  const marker = text.indexOf('An error occurred while executing the following cell');
  const relevant = marker >= 0 ? text.slice(marker) : text;
  const lines = relevant.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('[NbConvertApp]'));
  return lines.slice(0, 40).join('\n');
}

/** Executes `file` top to bottom through Jupyter with the project's tslab kernel. */
export async function executeNotebook(file: string, options: ExecuteOptions = {}): Promise<ExecuteResult> {
  readNotebook(file);
  const jupyter = findJupyter();
  installKernelSpec();
  const outDir = options.outDir ?? path.join(BUILD_DIR, 'notebooks');
  fs.mkdirSync(outDir, { recursive: true });
  const output = path.join(outDir, path.basename(file));
  fs.rmSync(output, { force: true });
  const args = [
    'nbconvert', '--to', 'notebook', '--execute',
    `--ExecutePreprocessor.kernel_name=${KERNEL_NAME}`,
    `--ExecutePreprocessor.timeout=${options.cellTimeout ?? 1800}`,
    ...(options.allowErrors ? ['--allow-errors'] : []),
    '--output-dir', outDir, '--output', path.basename(file, '.ipynb'), file,
  ];
  const start = Date.now();
  const child = spawn(jupyter, args, { cwd: path.dirname(file), env: jupyterEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let timedOut = false;
  const timer = options.totalTimeout
    ? setTimeout(() => {
        timedOut = true;
        // The kernel is a child of Jupyter: kill the whole process group.
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      }, options.totalTimeout * 1000)
    : undefined;
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  if (timer) clearTimeout(timer);
  const seconds = (Date.now() - start) / 1000;
  const written = fs.existsSync(output) ? output : undefined;
  if (status === 0 && written) return { ok: true, seconds, output: written, timedOut: false };
  const error = timedOut ? `timed out after ${options.totalTimeout} s` : summarizeFailure(stderr) || `jupyter exited with status ${status}`;
  return { ok: false, seconds, output: written, error, timedOut };
}

/** MathJax 3 (SVG output, fonts included) inline, so LaTeX in Markdown renders with no network. */
function inlineMathJax(): string {
  const file = path.join(path.dirname(require.resolve('mathjax/package.json')), 'es5', 'tex-svg-full.js');
  const config =
    "window.MathJax={tex:{inlineMath:[['$','$'],['\\\\(','\\\\)']],displayMath:[['$$','$$'],['\\\\[','\\\\]']],processEscapes:true,processEnvironments:true}," +
    "options:{skipHtmlTags:['script','noscript','style','textarea','pre','code']},svg:{fontCache:'local'}};";
  return `<script>${config}</script>\n<script>${fs.readFileSync(file, 'utf8').replace(/<\/script/gi, '<\\/script')}</script>`;
}

/**
 * Makes an nbconvert HTML page self-contained: the MathJax and require.js it loads from a CDN (or from
 * file:// paths on Debian) are replaced by an inline MathJax 3; plotly.js is already inline in the outputs.
 */
export function makeHtmlOffline(html: string): string {
  const externalScript = /<script\b[^>]*\bsrc\s*=\s*["'][^"']*["'][^>]*>\s*<\/script>/gi;
  let mathjaxDone = false;
  let out = html.replace(externalScript, (tag) => {
    if (/mathjax/i.test(tag) && !mathjaxDone) {
      mathjaxDone = true;
      return inlineMathJax();
    }
    return '';
  });
  // nbconvert's MathJax 2 configuration block is inert without MathJax 2; drop it to avoid confusion.
  out = out.replace(/<script type="text\/x-mathjax-config">[\s\S]*?<\/script>/gi, '');
  out = out.replace(/<link\b[^>]*\bhref\s*=\s*["']https?:[^"']*["'][^>]*>/gi, '');
  if (!mathjaxDone) out = out.replace('</head>', `${inlineMathJax()}\n</head>`);
  return out;
}

/** Exports an executed notebook to a self-contained HTML page next to it; returns its path. */
export function exportHtml(executed: string): string {
  const jupyter = findJupyter();
  const dir = path.dirname(executed);
  const base = path.basename(executed, '.ipynb');
  const r = spawnSync(jupyter, ['nbconvert', '--to', 'html', '--output-dir', dir, '--output', base, executed], {
    env: jupyterEnv(),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const html = path.join(dir, `${base}.html`);
  if (r.status !== 0 || !fs.existsSync(html)) throw new Error(`HTML export of ${executed} failed:\n${summarizeFailure(r.stderr ?? '')}`);
  fs.writeFileSync(html, makeHtmlOffline(fs.readFileSync(html, 'utf8')));
  return html;
}

/** The notebooks in notebooks/, sorted, optionally those whose file name contains one of `names`. */
export function listNotebooks(names: string[] = []): string[] {
  const all = fs
    .readdirSync(NOTEBOOK_DIR)
    .filter((f) => f.endsWith('.ipynb'))
    .sort();
  const chosen = names.length ? all.filter((f) => names.some((n) => f.includes(n))) : all;
  return chosen.map((f) => path.join(NOTEBOOK_DIR, f));
}
