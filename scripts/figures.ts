/**
 * npm run figures -- [--width W] [--height H] [--scale S] [--execute] [--quick] [--check-html]
 * [notebook ...]
 *
 * Writes every named output of every executed notebook in build/notebooks/ (or of the notebooks
 * whose names contain one of the given words) to build/figures/<notebook>/:
 *   figures (plot.show / LiveFigure)  -> <name>.png, <name>.svg,
 *                                        <name>.html (self-contained, interactive)
 *   image grids (plot.showImages)     -> <name>.png
 *   tables (plot.showTable)           -> <name>.csv
 * Figures render in a headless Chromium with the network blocked. --width/--height override each
 * figure's own size (CSS pixels), --scale sets the PNG pixel density (default 2, for slides).
 * Notebooks that were not executed yet are run first with --execute (add --quick for quick mode);
 * otherwise the script says how. --check-html also loads each exported notebook page
 * build/notebooks/<notebook>.html offline, checks that every figure draws, and saves a screenshot
 * as build/figures/<notebook>/notebook-page.png.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { plot } from 'genlab';

const { FigureRenderer, figureHtml, PLOTLY_MIME, TABLE_MIME, tableCsv } = plot;
type FigureRenderer = plot.FigureRenderer;
/** The parts of an executed notebook's .ipynb JSON that export reads. */
interface NotebookOutput {
  output_type: string;
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}
interface NotebookJson {
  cells: Array<{ outputs?: NotebookOutput[] }>;
}
type Figure = plot.Figure;
type Row = plot.Row;

const ROOT = path.resolve(__dirname, '..', '..');

export interface FiguresOptions {
  width?: number;
  height?: number;
  scale: number;
}

export interface NotebookExport {
  notebook: string;
  figures: string[];
  images: string[];
  tables: string[];
  /** Outputs that could be exported but have no name. */
  unnamed: number;
  /** Files written, relative to the output folder. */
  files: string[];
}

interface NamedOutput {
  kind: 'figure' | 'image' | 'table';
  name: string;
  data: Record<string, unknown>;
}

/**
 * Named figure, image and table outputs of an executed notebook, in order; repeated names get -2,
 * -3.
 */
export function namedOutputs(notebook: NotebookJson): {
  outputs: NamedOutput[];
  unnamed: number;
  renamed: string[];
} {
  const outputs: NamedOutput[] = [];
  const seen = new Map<string, number>();
  const renamed: string[] = [];
  let unnamed = 0;
  for (const cell of notebook.cells) {
    for (const output of cell.outputs ?? []) {
      const data = output.data;
      if (!data) continue;
      const meta = (output.metadata?.genlab ?? {}) as { kind?: string; name?: string };
      const kind = data[PLOTLY_MIME]
        ? 'figure'
        : data[TABLE_MIME]
          ? 'table'
          : meta.kind === 'image' && data['image/png']
            ? 'image'
            : undefined;
      if (!kind) continue;
      if (!meta.name) {
        unnamed++;
        continue;
      }
      const count = (seen.get(meta.name) ?? 0) + 1;
      seen.set(meta.name, count);
      const name = count === 1 ? meta.name : `${meta.name}-${count}`;
      if (count > 1) renamed.push(`${meta.name} -> ${name}`);
      outputs.push({ kind, name, data });
    }
  }
  return { outputs, unnamed, renamed };
}

function pngBase64(value: unknown): Buffer {
  return Buffer.from(Array.isArray(value) ? value.join('') : String(value), 'base64');
}

/** Exports one executed notebook's named outputs into outDir (emptied first). */
export async function exportNotebook(
  ipynb: string,
  outDir: string,
  options: FiguresOptions,
  renderer: () => Promise<FigureRenderer>,
): Promise<NotebookExport> {
  const notebook = JSON.parse(fs.readFileSync(ipynb, 'utf8')) as NotebookJson;
  const { outputs, unnamed, renamed } = namedOutputs(notebook);
  const result: NotebookExport = {
    notebook: path.basename(ipynb, '.ipynb'),
    figures: [],
    images: [],
    tables: [],
    unnamed,
    files: [],
  };
  for (const r of renamed)
    console.warn(`  ${result.notebook}: repeated name ${r}; give every output its own name`);
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const write = (file: string, content: string | Buffer) => {
    fs.writeFileSync(path.join(outDir, file), content);
    result.files.push(file);
  };
  for (const { kind, name, data } of outputs) {
    if (kind === 'figure') {
      const fig = data[PLOTLY_MIME] as Figure;
      const r = await renderer();
      const size = { width: options.width, height: options.height };
      write(`${name}.png`, await r.png(fig, { ...size, scale: options.scale }));
      write(`${name}.svg`, await r.svg(fig, size));
      write(`${name}.html`, figureHtml(fig, { title: `${result.notebook}: ${name}` }));
      result.figures.push(name);
    } else if (kind === 'image') {
      write(`${name}.png`, pngBase64(data['image/png']));
      result.images.push(name);
    } else {
      const table = data[TABLE_MIME] as { columns: string[]; rows: Row[string][][] };
      write(
        `${name}.csv`,
        tableCsv(table.rows.map((r) => Object.fromEntries(table.columns.map((c, j) => [c, r[j]])))),
      );
      result.tables.push(name);
    }
  }
  return result;
}

interface Args extends FiguresOptions {
  names: string[];
  execute: boolean;
  quick: boolean;
  checkHtml: boolean;
  notebooksDir: string;
  executedDir: string;
  outDir: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    names: [],
    scale: 2,
    execute: false,
    quick: false,
    checkHtml: false,
    notebooksDir: path.join(ROOT, 'notebooks'),
    executedDir: path.join(ROOT, 'build', 'notebooks'),
    outDir: path.join(ROOT, 'build', 'figures'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const positive = (max: number): number => {
      const raw = value();
      const v = Number(raw);
      if (!Number.isFinite(v) || v <= 0 || v > max)
        throw new Error(`${a} must be a number in (0, ${max}], got '${raw}'`);
      return v;
    };
    if (a === '--width') args.width = positive(10000);
    else if (a === '--height') args.height = positive(10000);
    else if (a === '--scale') args.scale = positive(10);
    else if (a === '--execute') args.execute = true;
    else if (a === '--quick') args.quick = true;
    else if (a === '--check-html') args.checkHtml = true;
    else if (a === '--notebooks-dir') args.notebooksDir = path.resolve(value());
    else if (a === '--executed-dir') args.executedDir = path.resolve(value());
    else if (a === '--out-dir') args.outDir = path.resolve(value());
    else if (a === '--help' || a === '-h') {
      console.log(
        'usage: npm run figures -- [--width W] [--height H] [--scale S] [--execute] [--quick] ' +
          '[--check-html] [notebook ...]',
      );
      process.exit(0);
    } else if (a.startsWith('-'))
      throw new Error(`unknown option ${a}; see npm run figures -- --help`);
    else args.names.push(a);
  }
  return args;
}

function ipynbNames(dir: string): string[] {
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.ipynb'))
        .map((f) => f.slice(0, -'.ipynb'.length))
        .sort()
    : [];
}

function runNotebooks(names: string[], quick: boolean): void {
  const runner = path.join(ROOT, 'dist', 'scripts', 'run-notebooks.js');
  if (!fs.existsSync(runner))
    throw new Error(`cannot execute notebooks: ${runner} is missing; run npm run build`);
  for (const name of names) {
    console.log(`executing ${name} (${quick ? 'quick' : 'full'} mode) ...`);
    const run = spawnSync(process.execPath, [runner, ...(quick ? ['--quick'] : []), name], {
      stdio: 'inherit',
      cwd: ROOT,
    });
    if (run.status !== 0) throw new Error(`executing ${name} failed (exit code ${run.status})`);
  }
}

/** Which executed notebooks to export, and which requested ones were not executed yet. */
function selectNotebooks(args: Args): { selected: string[]; notExecuted: string[] } {
  const sources = ipynbNames(args.notebooksDir);
  const executed = ipynbNames(args.executedDir);
  const matches = (n: string) => args.names.length === 0 || args.names.some((w) => n.includes(w));
  const wanted = Array.from(new Set([...sources, ...executed]))
    .filter(matches)
    .sort();
  for (const w of args.names) {
    if (!wanted.some((n) => n.includes(w)))
      throw new Error(
        `no notebook matches '${w}'; notebooks: ${sources.join(', ') || '(none in notebooks/)'}`,
      );
  }
  return {
    selected: wanted.filter((n) => executed.includes(n)),
    notExecuted: wanted.filter((n) => !executed.includes(n)),
  };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  let { selected, notExecuted } = selectNotebooks(args);
  if (notExecuted.length > 0 && args.execute) {
    runNotebooks(notExecuted, args.quick);
    ({ selected, notExecuted } = selectNotebooks(args));
  }
  for (const n of notExecuted) {
    console.warn(
      `${n}: not executed yet; run  npm run notebooks -- --quick ${n}  first (or add ` +
        `--execute here)`,
    );
  }
  if (selected.length === 0) {
    console.error(
      `nothing to export: no executed notebook in ` +
        `${path.relative(ROOT, args.executedDir) || '.'}; run  npm run notebooks  first`,
    );
    return 1;
  }
  let renderer: FigureRenderer | undefined;
  const getRenderer = async () => (renderer ??= await FigureRenderer.launch());
  let failed = notExecuted.length > 0 && args.names.length > 0;
  try {
    for (const name of selected) {
      const ipynb = path.join(args.executedDir, `${name}.ipynb`);
      const source = path.join(args.notebooksDir, `${name}.ipynb`);
      if (fs.existsSync(source) && fs.statSync(source).mtimeMs > fs.statSync(ipynb).mtimeMs) {
        console.warn(
          `${name}: the notebook changed after it was executed; figures are from the older run ` +
            `(npm run notebooks -- ${name})`,
        );
      }
      const outDir = path.join(args.outDir, name);
      const t0 = Date.now();
      const r = await exportNotebook(ipynb, outDir, args, getRenderer);
      const parts = [
        `${r.figures.length} figure(s)`,
        `${r.images.length} image grid(s)`,
        `${r.tables.length} table(s)`,
      ];
      console.log(
        `${name}: ${parts.join(', ')} -> ${path.relative(ROOT, outDir)}/ ` +
          `(${((Date.now() - t0) / 1000).toFixed(1)} s)`,
      );
      if (r.unnamed > 0)
        console.warn(
          `  ${r.unnamed} output(s) without a name were skipped; name them: plot.show(fig, { ` +
            `name: 'kebab-name' })`,
        );
      if (args.checkHtml) {
        const html = path.join(args.executedDir, `${name}.html`);
        if (!fs.existsSync(html)) {
          console.warn(
            `  ${path.relative(ROOT, html)} is missing; export it with npm run notebooks`,
          );
          failed = true;
          continue;
        }
        const check = await (
          await getRenderer()
        ).checkPage(fs.readFileSync(html, 'utf8'), { screenshot: true });
        fs.writeFileSync(path.join(outDir, 'notebook-page.png'), check.screenshot!);
        const ok = check.rendered === check.figures && check.errors.length === 0;
        console.log(
          `  ${path.basename(html)} offline: ${check.rendered}/${check.figures} figures drawn, ` +
            `${check.blockedRequests.length} request(s) blocked, ${check.errors.length} page ` +
            `error(s)`,
        );
        for (const e of check.errors) console.log(`    error: ${e}`);
        for (const u of check.blockedRequests) console.log(`    blocked: ${u.slice(0, 120)}`);
        if (!ok) failed = true;
      }
    }
  } finally {
    await renderer?.close();
  }
  return failed ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: Error) => {
      console.error(`figures: ${e.message}`);
      process.exit(1);
    },
  );
}
