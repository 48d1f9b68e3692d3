/**
 * Running notebooks through Jupyter itself (nbconvert/nbclient speaking the real kernel protocol)
 * with the project's own tslab kernel. Shared by the notebook runner, the grader and the tests.
 */
import { spawn, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { plot } from 'genlab';

export const ROOT = path.resolve(__dirname, '..', '..');
export const NOTEBOOK_DIR = path.join(ROOT, 'notebooks');
export const BUILD_DIR = path.join(ROOT, 'build');
/** JUPYTER_PATH entry holding the project's kernelspec. */
export const KERNEL_PATH = path.join(BUILD_DIR, 'jupyter');
export const KERNEL_NAME = 'tslab';

const PYTHON_ENV = 'GENLAB_PYTHON';
const INSTALL_HINT =
  'Install Jupyter (Debian/Ubuntu: `sudo apt-get install jupyter-nbconvert python3-nbclient ' +
  'python3-ipykernel`; ' +
  `elsewhere: \`python3 -m pip install nbconvert nbclient ipykernel\`) or set ` +
  `${PYTHON_ENV}=/path/to/python.`;

let pythonCache: string | undefined;

/**
 * The Python whose Jupyter (nbclient, nbconvert) runs the notebooks: $GENLAB_PYTHON, else `python3`
 * on PATH if it has Jupyter, else Debian's /usr/bin/python3 (a pyenv or venv python3 often lacks
 * Jupyter).
 */
export function findPython(): string {
  if (pythonCache) return pythonCache;
  const forced = process.env[PYTHON_ENV];
  const candidates = forced ? [forced] : ['python3', '/usr/bin/python3', 'python'];
  for (const candidate of candidates) {
    const r = spawnSync(candidate, ['-c', 'import nbclient, nbconvert, nbformat, jupyter_core'], {
      encoding: 'utf8',
    });
    if (r.status === 0) return (pythonCache = candidate);
  }
  const problem = forced
    ? `${PYTHON_ENV}=${forced} has no Jupyter (nbclient, nbconvert)`
    : `No Python with Jupyter (nbclient, nbconvert) was found (tried ${candidates.join(', ')})`;
  throw new Error(`${problem}. ${INSTALL_HINT}`);
}

/** The kit's kernel (scripts/kernel/main.ts, compiled by `npm run build`). */
export const KERNEL_MAIN = path.join(ROOT, 'dist', 'scripts', 'kernel', 'main.js');

/**
 * The kernelspec of the kit's kernel: this Node.js running the kit's kernel wrapper around this
 * checkout's tslab.
 */
export function kernelSpec(): object {
  if (!fs.existsSync(path.join(ROOT, 'node_modules', 'tslab')))
    throw new Error(`tslab is missing: run \`npm ci\` in ${ROOT} first.`);
  if (!fs.existsSync(KERNEL_MAIN))
    throw new Error(`${KERNEL_MAIN} is missing: run \`npm run build\` in ${ROOT} first.`);
  return {
    argv: [process.execPath, KERNEL_MAIN, '--config-path', '{connection_file}'],
    display_name: 'TypeScript (genlab)',
    language: 'typescript',
    interrupt_mode: 'signal',
  };
}

/** Writes the kernelspec under `dataDir`/kernels/tslab and returns that folder. */
export function installKernelSpec(dataDir = KERNEL_PATH): string {
  const dir = path.join(dataDir, 'kernels', KERNEL_NAME);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'kernel.json'), JSON.stringify(kernelSpec(), null, 2) + '\n');
  return dir;
}

/** The classic Notebook's name of the kit's extension (nbextensions/genlab/main.js). */
export const NBEXTENSION = 'genlab/main';

/**
 * Copies the kit's classic-Notebook extension and the plotly.js it draws with under
 * `dataDir`/nbextensions/genlab; returns that folder.
 */
export function installNotebookExtension(dataDir = KERNEL_PATH): string {
  const dir = path.join(dataDir, 'nbextensions', path.dirname(NBEXTENSION));
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(
    path.join(ROOT, 'scripts', 'kernel', 'nbextension', 'main.js'),
    path.join(dir, 'main.js'),
  );
  fs.writeFileSync(path.join(dir, 'plotly.min.js'), plot.plotlyJs());
  return dir;
}

/**
 * Enables the extension in the classic Notebook's configuration under `configDir`
 * (nbconfig/notebook.json, other settings kept); returns that file.
 */
export function enableNotebookExtension(configDir: string): string {
  const file = path.join(configDir, 'nbconfig', 'notebook.json');
  let config: { load_extensions?: Record<string, boolean> } = {};
  if (fs.existsSync(file)) {
    try {
      config = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`${file} is not valid JSON (${(err as Error).message}); fix or remove it`, {
        cause: err,
      });
    }
  }
  config.load_extensions = { ...config.load_extensions, [NBEXTENSION]: true };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(config, null, 2) + '\n');
  return file;
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

/**
 * Reads and checks a notebook file; a malformed one gives one error that names the file and the
 * problem.
 */
export function readNotebook(file: string): Notebook {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(
      `${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      { cause: err },
    );
  }
  let nb: Notebook;
  try {
    nb = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: malformed notebook, not valid JSON (${(err as Error).message})`, {
      cause: err,
    });
  }
  const problem = notebookProblem(nb);
  if (problem) throw new Error(`${file}: malformed notebook, ${problem}`);
  return nb;
}

function notebookProblem(nb: Notebook): string | undefined {
  if (typeof nb !== 'object' || nb === null || Array.isArray(nb))
    return 'the top level is not a JSON object';
  if (nb.nbformat !== 4) return `nbformat is ${JSON.stringify(nb.nbformat)}, expected 4`;
  if (typeof nb.nbformat_minor !== 'number') return 'nbformat_minor is missing';
  if (typeof nb.metadata !== 'object' || nb.metadata === null) return 'metadata is missing';
  if (!Array.isArray(nb.cells)) return "'cells' is missing or not a list";
  for (const [i, cell] of nb.cells.entries()) {
    if (!cell || !['code', 'markdown', 'raw'].includes(cell.cell_type))
      return `cell ${i} has cell_type ${JSON.stringify(cell?.cell_type)}`;
    if (
      typeof cell.source !== 'string' &&
      !(Array.isArray(cell.source) && cell.source.every((s) => typeof s === 'string'))
    ) {
      return `cell ${i} has no text source`;
    }
    if (typeof cell.metadata !== 'object' || cell.metadata === null)
      return `cell ${i} has no metadata`;
    if (cell.cell_type === 'code' && !Array.isArray(cell.outputs))
      return `code cell ${i} has no outputs list`;
    if (nb.nbformat_minor >= 5 && typeof cell.id !== 'string')
      return `cell ${i} has no id (required by nbformat 4.5)`;
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
}

export interface ExecuteResult {
  ok: boolean;
  seconds: number;
  /** The executed copy, if Jupyter wrote one. */
  output?: string;
  /** What went wrong, in a few lines. */
  error?: string;
  /**
   * Peak resident memory of the kernel's process tree in bytes (sampled every second, and at least
   * the kernel's own high-water mark); undefined where /proc is missing (not Linux).
   */
  peakMemory?: number;
}

/** The environment for Jupyter: the project's kernelspec first on JUPYTER_PATH, plus `extra`. */
export function jupyterEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const existing = process.env.JUPYTER_PATH;
  return {
    ...process.env,
    JUPYTER_PATH: existing ? `${KERNEL_PATH}${path.delimiter}${existing}` : KERNEL_PATH,
    ...extra,
  };
}

/** What a notebook run says after a cell timeout: the limit is an option of the scripts. */
const CELL_TIMEOUT_HINT =
  'if the cell is just slow (a slow or busy machine, a full-size training), raise the limit: ' +
  'npm run notebooks -- --timeout SECONDS (also for npm run full-runs)';

/**
 * The first error output of an executed notebook, as "cell N: Name: message" with the cell's first
 * lines (after a cell timeout, how to raise the limit).
 */
export function firstError(nb: Notebook): string | undefined {
  for (const [i, cell] of nb.cells.entries()) {
    const error = (cell.outputs ?? []).find((o) => o.output_type === 'error') as
      { ename?: string; evalue?: string } | undefined;
    if (!error) continue;
    const source = cellSource(cell)
      .split('\n')
      .slice(0, 6)
      .map((l) => `  | ${l}`)
      .join('\n');
    const hint = error.ename === 'CellTimeout' ? `\n  ${CELL_TIMEOUT_HINT}` : '';
    return `cell ${i + 1}: ${error.ename}: ${error.evalue}${hint}\n${source}`;
  }
  return undefined;
}

/** A field of /proc/<pid>/status in bytes (the kB values), or 0 when the process is gone. */
function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? 1024 * Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** The process `root` and its descendants, from the parent ids in /proc/<pid>/stat. */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while the folder was read
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  return tree;
}

/**
 * Tracks the peak resident memory of the kernel whose pid run_cells.py writes to `pidFile` (a new
 * pid after a restart), with its child processes: undefined where /proc is missing.
 */
class KernelMemory {
  private peak = 0;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(private readonly pidFile: string) {
    if (fs.existsSync('/proc/self/status')) this.timer = setInterval(() => this.sample(), 1000);
  }

  private sample(): void {
    let pid: number;
    try {
      pid = Number(fs.readFileSync(this.pidFile, 'utf8'));
    } catch {
      return;
    }
    if (!(pid > 0)) return;
    const tree = processTree(pid);
    const resident = tree.reduce((sum, p) => sum + statusBytes(p, 'VmRSS'), 0);
    this.peak = Math.max(this.peak, resident, statusBytes(pid, 'VmHWM'));
  }

  /** Stops sampling; returns the peak in bytes. */
  stop(): number | undefined {
    if (this.timer === undefined) return undefined;
    clearInterval(this.timer);
    fs.rmSync(this.pidFile, { force: true });
    return this.peak;
  }
}

/**
 * The lines of a kernel's own stderr (which Jupyter passes through to the runner) that say why it
 * died: Node's fatal errors (such as a full JavaScript heap) and WebAssembly aborts.
 */
export function kernelLastWords(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) =>
      /FATAL ERROR|out of memory|Aborted\(|Segmentation fault|std::bad_alloc/i.test(line),
    )
    .slice(-3);
}

/**
 * Executes `file` top to bottom through Jupyter (nbclient) with the project's tslab kernel,
 * stopping at the first failing cell; the executed copy (written either way) shows where and why it
 * stopped. A failure always comes with a message: the cell's error, or how its kernel died (signal
 * or exit status, and the kernel's last words on stderr, e.g. that its JavaScript heap was full).
 */
export async function executeNotebook(
  file: string,
  options: ExecuteOptions = {},
): Promise<ExecuteResult> {
  const source = readNotebook(file);
  const python = findPython();
  installKernelSpec();
  const outDir = options.outDir ?? path.join(BUILD_DIR, 'notebooks');
  fs.mkdirSync(outDir, { recursive: true });
  const output = path.join(outDir, path.basename(file));
  if (path.resolve(output) === path.resolve(file))
    throw new Error(
      `executeNotebook: the executed copy would overwrite ${file}; choose another outDir`,
    );
  fs.rmSync(output, { force: true });
  const cellTimeout = options.cellTimeout ?? 1800;
  const pidFile = path.join(os.tmpdir(), `genlab-kernel-${randomBytes(6).toString('hex')}.pid`);
  const args = [
    path.join(ROOT, 'scripts', 'grading', 'run_cells.py'),
    file,
    output,
    '--kernel',
    KERNEL_NAME,
    '--cwd',
    path.dirname(file),
    '--stop-on-error',
    '--cell-timeout',
    String(cellTimeout),
    '--total-timeout',
    String(cellTimeout * Math.max(1, source.cells.length)),
    '--pid-file',
    pidFile,
  ];
  const start = Date.now();
  const child = spawn(python, args, {
    env: jupyterEnv(options.env),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const memory = new KernelMemory(pidFile);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    // The kernel's last words come last: keep the tail of a long log.
    stderr = (stderr + chunk.toString()).slice(-200_000);
  });
  const status = await new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  );
  const peakMemory = memory.stop();
  const seconds = (Date.now() - start) / 1000;
  const lastWords = kernelLastWords(stderr);
  if (status !== 0 || !fs.existsSync(output)) {
    return {
      ok: false,
      seconds,
      peakMemory,
      error:
        stderr.trim().split('\n').slice(-15).join('\n') ||
        `the notebook runner exited with status ${status}`,
    };
  }
  const error = firstError(readNotebook(output));
  return {
    ok: error === undefined,
    seconds,
    output,
    peakMemory,
    error:
      error && lastWords.length
        ? `${error}\nthe kernel's last words:\n  ${lastWords.join('\n  ')}`
        : error,
  };
}

/** One notebook's outcome in the runner's table (and in its --json file). */
export interface NotebookRow {
  name: string;
  status: string;
  seconds: number;
  /** Peak resident memory of the kernel's process tree, bytes (absent where not measured). */
  peakMemory?: number;
  error?: string;
}

/** Bytes as whole megabytes for a table, '?' when not measured. */
export function megabytes(bytes: number | undefined): string {
  return bytes === undefined ? '?' : (bytes / 2 ** 20).toFixed(0);
}

/** MathJax 3 (SVG output, fonts included) inline, so LaTeX in Markdown renders with no network. */
function inlineMathJax(): string {
  const file = path.join(
    path.dirname(require.resolve('mathjax/package.json')),
    'es5',
    'tex-svg-full.js',
  );
  const config =
    "window.MathJax={tex:{inlineMath:[['$','$'],['\\\\(','\\\\)']]," +
    "displayMath:[['$$','$$'],['\\\\[','\\\\]']],processEscapes:true,processEnvironments:true}," +
    "options:{skipHtmlTags:['script','noscript','style','textarea','pre','code']}," +
    "svg:{fontCache:'local'}};";
  const mathjax = fs.readFileSync(file, 'utf8').replace(/<\/script/gi, '<\\/script');
  return `<script>${config}</script>\n<script>${mathjax}</script>`;
}

/**
 * Makes an nbconvert HTML page self-contained: the MathJax and require.js it loads from a CDN (or
 * from file:// paths on Debian) are replaced by an inline MathJax 3, and plotly.js is inlined once
 * in the page's head when `plotly` is set (the page has figures).
 */
export function makeHtmlOffline(html: string, options: { plotly?: boolean } = {}): string {
  const externalScript = /<script\b[^>]*\bsrc\s*=\s*["'][^"']*["'][^>]*>\s*<\/script>/gi;
  let mathjaxDone = false;
  let out = html.replace(externalScript, (tag) => {
    if (/mathjax/i.test(tag) && !mathjaxDone) {
      mathjaxDone = true;
      return inlineMathJax();
    }
    return '';
  });
  // nbconvert's MathJax 2 configuration block is inert without MathJax 2; drop it to avoid
  // confusion.
  out = out.replace(/<script type="text\/x-mathjax-config">[\s\S]*?<\/script>/gi, '');
  out = out.replace(/<link\b[^>]*\bhref\s*=\s*["']https?:[^"']*["'][^>]*>/gi, '');
  const head = (mathjaxDone ? '' : inlineMathJax()) + (options.plotly ? plotlyScript() : '');
  // A function as replacement: '$' in the scripts is literal.
  return head ? out.replace('</head>', () => `${head}\n</head>`) : out;
}

function plotlyScript(): string {
  return `<script type="text/javascript">${plot.plotlyJs()}</script>`;
}

function base64(value: unknown): string | undefined {
  if (Array.isArray(value)) return value.join('');
  return typeof value === 'string' ? value : undefined;
}

/**
 * Gives every figure output of a notebook (plotly JSON) an HTML rendering for an exported page:
 * its static PNG, replaced by the interactive figure once plotly.js (inlined in the page) draws.
 * Modifies `nb` in place; returns the number of figures.
 */
export function embedFigures(nb: Notebook): number {
  let figures = 0;
  for (const cell of nb.cells) {
    for (const output of cell.outputs ?? []) {
      const data = output.data as Record<string, unknown> | undefined;
      if (!data || typeof data[plot.PLOTLY_MIME] !== 'object' || data[plot.PLOTLY_MIME] === null)
        continue;
      const meta = (output.metadata as { genlab?: { name?: string } } | undefined)?.genlab;
      data['text/html'] = plot.figureEmbedHtml(data[plot.PLOTLY_MIME] as plot.Figure, {
        id: `genlab-figure-${++figures}`,
        name: meta?.name,
        png: base64(data['image/png']),
      });
    }
  }
  return figures;
}

/**
 * Exports an executed notebook to a self-contained HTML page next to it (interactive figures,
 * plotly.js and MathJax inline, nothing loaded from the network); returns its path.
 */
export function exportHtml(executed: string): string {
  const dir = path.dirname(executed);
  const base = path.basename(executed, '.ipynb');
  const nb = readNotebook(executed);
  const figures = embedFigures(nb);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-export-'));
  const copy = path.join(tmp, `${base}.ipynb`);
  try {
    fs.writeFileSync(copy, JSON.stringify(nb));
    const r = spawnSync(
      findPython(),
      ['-m', 'nbconvert', '--to', 'html', '--output-dir', dir, '--output', base, copy],
      { env: jupyterEnv(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    const html = path.join(dir, `${base}.html`);
    if (r.status !== 0 || !fs.existsSync(html))
      throw new Error(
        `HTML export of ${executed} ` +
          `failed:\n${(r.stderr ?? '').trim().split('\n').slice(-10).join('\n')}`,
      );
    fs.writeFileSync(html, makeHtmlOffline(fs.readFileSync(html, 'utf8'), { plotly: figures > 0 }));
    return html;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The notebooks in notebooks/, sorted, optionally those whose file name contains one of `names`.
 */
export function listNotebooks(names: string[] = []): string[] {
  const all = fs
    .readdirSync(NOTEBOOK_DIR)
    .filter((f) => f.endsWith('.ipynb'))
    .sort();
  const chosen = names.length ? all.filter((f) => names.some((n) => f.includes(n))) : all;
  return chosen.map((f) => path.join(NOTEBOOK_DIR, f));
}
