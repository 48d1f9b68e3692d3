/**
 * Figure export, offline: PNG and SVG rendered by plotly.js in a headless Chromium, and
 * self-contained interactive HTML pages. The browser is the system's own (Debian's `chromium`, or
 * Chrome/Chromium/Edge on the usual paths, or `GENLAB_CHROMIUM`), driven by playwright-core, with
 * every network request blocked: plotly.js and MathJax come from the installed npm packages and are
 * inlined into the page.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { checkOptions } from '../runtime/checks';
import { escapeHtml } from '../runtime/display';
import { Figure } from './figure';

/**
 * JSON safe to place inside a <script> element: no '<', so no '</script>' or '<!--' can close it.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Environment variable naming the Chromium-family executable to use for export. */
export const CHROMIUM_ENV = 'GENLAB_CHROMIUM';

/** Usual install locations of Chromium, Chrome and Edge, most specific first. */
export function chromiumCandidates(
  platform: string = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  if (platform === 'darwin') {
    const apps = [
      'Chromium.app/Contents/MacOS/Chromium',
      'Google Chrome.app/Contents/MacOS/Google Chrome',
      'Microsoft Edge.app/Contents/MacOS/Microsoft Edge',
    ];
    return [
      ...apps.map((a) => `/Applications/${a}`),
      ...apps.map((a) => path.join(os.homedir(), 'Applications', a)),
    ];
  }
  if (platform === 'win32') {
    const roots = [env.LOCALAPPDATA, env.PROGRAMFILES, env['PROGRAMFILES(X86)']].filter(
      (r): r is string => !!r,
    );
    const exes = [
      'Chromium\\Application\\chrome.exe',
      'Google\\Chrome\\Application\\chrome.exe',
      'Microsoft\\Edge\\Application\\msedge.exe',
    ];
    return roots.flatMap((root) => exes.map((exe) => path.win32.join(root, exe)));
  }
  return [
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/lib/chromium/chromium',
    '/snap/bin/chromium',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
    '/opt/google/chrome/chrome',
    '/usr/bin/microsoft-edge',
  ];
}

/** What to do when no browser is found. */
export function noBrowserMessage(): string {
  return [
    'Figure export needs a Chromium-based browser (Chromium, Google Chrome or Microsoft Edge), ' +
      'and none was found.',
    'Install one:',
    '  Debian/Ubuntu:  sudo apt-get install chromium',
    '  macOS:          brew install --cask chromium   (or install Google Chrome)',
    '  Windows:        install Google Chrome or Microsoft Edge',
    `or set ${CHROMIUM_ENV} to the browser's executable, e.g. ${CHROMIUM_ENV}=/path/to/chrome ` +
      `npm run figures`,
    `Searched: ${chromiumCandidates().join(', ')}`,
  ].join('\n');
}

function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    if (process.platform !== 'win32') fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Path of the browser to use: `GENLAB_CHROMIUM` if set (it must exist), else the first usual path
 * that exists; null when there is none.
 */
export function findChromium(
  env: NodeJS.ProcessEnv = process.env,
  platform: string = process.platform,
): string | null {
  const fromEnv = env[CHROMIUM_ENV];
  if (fromEnv) {
    if (!isExecutableFile(fromEnv))
      throw new Error(
        `${CHROMIUM_ENV}=${fromEnv} is not an executable file; point it at chromium, chrome or ` +
          `msedge, or unset it`,
      );
    return fromEnv;
  }
  return chromiumCandidates(platform, env).find(isExecutableFile) ?? null;
}

/** Command-line flags for a quiet headless browser that never reaches the network. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--proxy-server=127.0.0.1:9',
  '--proxy-bypass-list=<-loopback>',
  '--host-resolver-rules=MAP * ~NOTFOUND',
];

function readPackageFile(request: string): string {
  const source = fs.readFileSync(require.resolve(request), 'utf8');
  if (/<\/script/i.test(source))
    throw new Error(`${request} contains '</script' and cannot be inlined into a page`);
  return source;
}

let plotlySource: string | undefined;
let mathjaxSource: string | undefined;

/** The plotly.js bundle (the installed plotly.js-dist-min), to inline into a page. */
export function plotlyJs(): string {
  return (plotlySource ??= readPackageFile('plotly.js-dist-min/plotly.min.js'));
}

/**
 * MathJax 3 (TeX input, SVG output with glyphs kept inside each formula, which is what plotly needs
 * to typeset `$...$` in titles and labels and to keep them in exported SVG): [configuration,
 * library] scripts.
 */
function mathjaxSources(): [string, string] {
  mathjaxSource ??= readPackageFile('mathjax/es5/tex-svg.js');
  const config = {
    tex: {
      inlineMath: [
        ['$', '$'],
        ['\\(', '\\)'],
      ],
    },
    svg: { fontCache: 'local' },
    startup: { typeset: false },
  };
  return [`window.MathJax=${scriptJson(config)};`, mathjaxSource];
}

/** MathJax as inline <script> elements, for pages that show figures with LaTeX. */
export function mathjaxScripts(): string {
  return mathjaxSources()
    .map((s) => `<script>${s}</script>`)
    .join('');
}

/** True if any string in the figure holds `$...$`, which plotly typesets as LaTeX with MathJax. */
export function hasLatex(fig: Figure): boolean {
  const visit = (v: unknown): boolean => {
    if (typeof v === 'string') return /\$[^$]+\$/.test(v);
    if (Array.isArray(v)) return v.some(visit);
    if (v && typeof v === 'object') return Object.values(v as Record<string, unknown>).some(visit);
    return false;
  };
  return visit(fig.layout) || fig.data.some((t) => visit(t));
}

function checkFigure(fig: Figure, what: string): void {
  if (!fig || !Array.isArray(fig.data) || typeof fig.layout !== 'object' || fig.layout === null) {
    throw new Error(
      `${what}: expected a plotly figure { data: [...], layout: {...} }; build one with the ` +
        `plot helpers`,
    );
  }
}

/**
 * Content-Security-Policy of exported pages: inline scripts and styles and data: images only, no
 * URL loads.
 */
export const OFFLINE_CSP =
  "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; " +
  'img-src data: blob:; font-src data:';

export interface FigureHtmlOptions {
  /** Page title (default: the figure's title or 'figure'). */
  title?: string;
  /** Inline MathJax: 'auto' (default) when the figure has `$...$` text. */
  mathjax?: boolean | 'auto';
}

/**
 * A self-contained interactive page for one figure: plotly.js (and MathJax if needed) inline, no
 * URL loads.
 */
export function figureHtml(fig: Figure, options: FigureHtmlOptions = {}): string {
  checkFigure(fig, 'figureHtml');
  const layoutTitle = fig.layout.title as { text?: unknown } | string | undefined;
  const title =
    options.title ??
    (typeof layoutTitle === 'string'
      ? layoutTitle
      : typeof layoutTitle?.text === 'string'
        ? layoutTitle.text
        : 'figure');
  const mathjax =
    options.mathjax === 'auto' || options.mathjax === undefined ? hasLatex(fig) : options.mathjax;
  const config = {
    displaylogo: false,
    responsive: true,
    toImageButtonOptions: { format: 'png', scale: 2, filename: title || 'figure' },
  };
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    `<meta http-equiv="Content-Security-Policy" content="${OFFLINE_CSP}">\n` +
    `<meta name="viewport" content="width=device-width, ` +
    `initial-scale=1">\n<title>${escapeHtml(title || 'figure')}</title>\n` +
    '<style>body{margin:16px;background:white;font-family:Helvetica,Arial,sans-serif}</style>\n' +
    (mathjax ? mathjaxScripts() + '\n' : '') +
    `<script>${plotlyJs()}</script>\n</head>\n<body>\n<div id="figure"></div>\n` +
    `<script>(function(){var ` +
    `fig=${scriptJson(fig)};` +
    `Plotly.newPlot('figure',fig.data,fig.layout,${scriptJson(config)});})();</script>\n` +
    '</body>\n</html>\n'
  );
}

export interface FigureEmbedOptions {
  /** The element id of the figure, unique in the page. */
  id: string;
  /** The figure's name (for the PNG download button and the image's alt text). */
  name?: string;
  /** A static PNG of the figure (base64), shown until plotly.js draws. */
  png?: string;
}

/**
 * A figure inside a page that loads plotly.js before it (an exported notebook): a div showing the
 * static PNG, if any, which plotly.js replaces with the interactive figure.
 */
export function figureEmbedHtml(fig: Figure, options: FigureEmbedOptions): string {
  checkFigure(fig, 'figureEmbedHtml');
  const { width, height } = imageSize(fig);
  const name = options.name ?? '';
  const image = options.png
    ? `<img src="data:image/png;base64,${options.png}" width="${width}" height="${height}" ` +
      `alt="${escapeHtml(name ? `figure ${name}` : 'figure')}">`
    : '';
  const config = {
    displaylogo: false,
    responsive: true,
    toImageButtonOptions: { format: 'png', scale: 2, filename: name || 'figure' },
  };
  return (
    `<div id="${escapeHtml(options.id)}" class="genlab-figure" data-name="${escapeHtml(name)}">` +
    `${image}</div><script>(function(){var el=document.getElementById(${scriptJson(options.id)});` +
    `if(!window.Plotly)return;var fig=${scriptJson(fig)};el.innerHTML='';` +
    `window.Plotly.newPlot(el,fig.data,fig.layout,${scriptJson(config)});})();</script>`
  );
}

export interface ImageSize {
  /** Width in CSS pixels (default: the figure's layout.width, else 700). */
  width?: number;
  /** Height in CSS pixels (default: the figure's layout.height, else 450). */
  height?: number;
  /** Pixel density: a PNG has width*scale x height*scale pixels (default 1). Ignored for SVG. */
  scale?: number;
}

/** The size a figure is drawn at: `size` where given, else its layout's size, else 700 x 450. */
export function imageSize(
  fig: Figure,
  size: ImageSize = {},
): { width: number; height: number; scale: number } {
  const pick = (v: unknown, fallback: number) => (typeof v === 'number' && v > 0 ? v : fallback);
  const width = size.width ?? pick(fig.layout.width, 700);
  const height = size.height ?? pick(fig.layout.height, 450);
  const scale = size.scale ?? 1;
  for (const [k, v, max] of [
    ['width', width, 10000],
    ['height', height, 10000],
    ['scale', scale, 10],
  ] as const) {
    if (!Number.isFinite(v) || v <= 0 || v > max)
      throw new Error(`figure export: ${k} must be a number in (0, ${max}], got ${v}`);
  }
  if (width * scale * height * scale > 1e8)
    throw new Error(
      `figure export: ${width}x${height} at scale ${scale} is over 100 megapixels; lower the scale`,
    );
  return { width, height, scale };
}

export interface LaunchOptions {
  /** Browser executable (default: findChromium()). */
  executablePath?: string;
}

/** Result of loading a whole HTML page (e.g. an exported notebook) offline. */
export interface PageCheck {
  /** Plotly figures in the page (elements with class genlab-figure or js-plotly-plot). */
  figures: number;
  /** Figures that plotly drew (they contain an SVG). */
  rendered: number;
  /** URLs the page tried to load (all were blocked). */
  blockedRequests: string[];
  /** Uncaught errors and console errors of the page. */
  errors: string[];
  /** Full-page screenshot (PNG), when asked for. */
  screenshot?: Buffer;
}

/**
 * A headless browser page with plotly.js loaded, for rendering many figures; launch once, render,
 * close. Every request that would leave the page (http, https, ws, file URLs) is blocked and
 * recorded.
 */
export class FigureRenderer {
  /** URLs that pages tried to load (all blocked). */
  readonly blockedRequests: string[] = [];
  private page?: Page;
  private mathjaxLoaded = false;

  private constructor(
    private readonly browser: Browser,
    private readonly context: BrowserContext,
  ) {}

  static async launch(options: LaunchOptions = {}): Promise<FigureRenderer> {
    const executablePath = options.executablePath ?? findChromium();
    if (!executablePath) throw new Error(noBrowserMessage());
    const { chromium } = require('playwright-core') as typeof import('playwright-core');
    let browser: Browser;
    try {
      browser = await chromium.launch({
        executablePath,
        headless: true,
        args: CHROMIUM_ARGS,
        timeout: 60_000,
      });
    } catch (e) {
      throw new Error(
        `could not start the browser ${executablePath}: ` +
          `${(e as Error).message.split('\n')[0]}\n${noBrowserMessage()}`,
        { cause: e },
      );
    }
    const context = await browser.newContext({
      offline: true,
      viewport: { width: 1000, height: 800 },
    });
    const renderer = new FigureRenderer(browser, context);
    await context.route('**/*', (route) => {
      renderer.blockedRequests.push(route.request().url());
      return route.abort('blockedbyclient');
    });
    return renderer;
  }

  private async figurePage(latex: boolean): Promise<Page> {
    if (!this.page) {
      this.page = await this.context.newPage();
      await this.page.setContent(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body></body></html>',
      );
      await this.page.addScriptTag({ content: plotlyJs() });
    }
    if (latex && !this.mathjaxLoaded) {
      for (const content of mathjaxSources()) await this.page.addScriptTag({ content });
      await this.page.evaluate('window.MathJax.startup.promise');
      this.mathjaxLoaded = true;
    }
    return this.page;
  }

  private async toImage(fig: Figure, format: 'png' | 'svg', size: ImageSize): Promise<string> {
    checkFigure(fig, `figure export (${format})`);
    const { width, height, scale } = imageSize(fig, size);
    const page = await this.figurePage(hasLatex(fig));
    const figJson = JSON.stringify(fig);
    try {
      return await page.evaluate(
        ([json, opts]) =>
          (
            globalThis as unknown as {
              Plotly: { toImage(f: unknown, o: unknown): Promise<string> };
            }
          ).Plotly.toImage(JSON.parse(json), opts),
        [figJson, { format, width, height, scale }] as const,
      );
    } catch (e) {
      throw new Error(
        `plotly could not render the figure as ${format}: ${(e as Error).message.split('\n')[0]}`,
        { cause: e },
      );
    }
  }

  /** The figure as PNG bytes, width*scale x height*scale pixels. */
  async png(fig: Figure, size: ImageSize = {}): Promise<Buffer> {
    const url = await this.toImage(fig, 'png', size);
    return Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
  }

  /** The figure as an SVG document (text and LaTeX as vector paths, fonts by name). */
  async svg(fig: Figure, size: ImageSize = {}): Promise<string> {
    const url = await this.toImage(fig, 'svg', size);
    const body = url.slice(url.indexOf(',') + 1);
    const svg = url.slice(0, url.indexOf(',')).endsWith(';base64')
      ? Buffer.from(body, 'base64').toString('utf8')
      : decodeURIComponent(body);
    return svg.startsWith('<?xml')
      ? svg
      : `<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n${svg}`;
  }

  /**
   * Loads a whole HTML page (an exported figure or notebook) with the network blocked, waits for
   * its plotly figures to draw (up to timeoutMs), and reports what rendered; optionally screenshots
   * it.
   */
  async checkPage(
    html: string,
    options: { timeoutMs?: number; screenshot?: boolean; width?: number } = {},
  ): Promise<PageCheck> {
    const page = await this.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (
        m.type() === 'error' &&
        !/ERR_BLOCKED_BY_CLIENT|ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(m.text())
      )
        errors.push(m.text());
    });
    page.on('dialog', (d) => {
      errors.push(`dialog opened: ${d.type()} ${d.message()}`);
      void d.dismiss();
    });
    const before = this.blockedRequests.length;
    try {
      await page.setViewportSize({ width: options.width ?? 1100, height: 800 });
      await page.setContent(html, { waitUntil: 'load', timeout: 60_000 });
      const count =
        `(() => { const f = document.querySelectorAll('.genlab-figure, ` +
        `.js-plotly-plot:not(.genlab-figure .js-plotly-plot)'); let r = 0; f.forEach((e) => { if ` +
        `(e.querySelector('svg.main-svg')) r++; }); return [f.length, r]; })()`;
      const deadline = Date.now() + (options.timeoutMs ?? 20_000);
      let [figures, rendered] = (await page.evaluate(count)) as [number, number];
      while (rendered < figures && Date.now() < deadline) {
        await page.waitForTimeout(200);
        [figures, rendered] = (await page.evaluate(count)) as [number, number];
      }
      const screenshot = options.screenshot ? await page.screenshot({ fullPage: true }) : undefined;
      return {
        figures,
        rendered,
        blockedRequests: this.blockedRequests.slice(before),
        errors,
        screenshot,
      };
    } finally {
      await page.close();
    }
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}

/** Runs `fn` with a renderer and always closes the browser. */
export async function withFigureRenderer<T>(
  fn: (renderer: FigureRenderer) => Promise<T>,
  options: LaunchOptions = {},
): Promise<T> {
  const renderer = await FigureRenderer.launch(options);
  try {
    return await fn(renderer);
  } finally {
    await renderer.close();
  }
}

export type ExportFormat = 'png' | 'svg' | 'html';

export interface SaveFigureOptions extends ImageSize {
  /** Reuse an open renderer (faster for many figures); default: launch one and close it after. */
  renderer?: FigureRenderer;
}

/**
 * Writes a figure to `file`, the format given by its extension: .png (scale default 2, for slides),
 * .svg (for papers) or .html (interactive, self-contained). Returns the absolute path written.
 *   await plot.saveFigure(fig, 'figures/elbo-gap.svg');
 */
export async function saveFigure(
  fig: Figure,
  file: string,
  options: SaveFigureOptions = {},
): Promise<string> {
  checkOptions('saveFigure', options, { width: true, height: true, scale: true, renderer: true });
  checkFigure(fig, 'saveFigure');
  const ext = path.extname(file).slice(1).toLowerCase();
  if (ext !== 'png' && ext !== 'svg' && ext !== 'html')
    throw new Error(`saveFigure: '${file}' must end in .png, .svg or .html`);
  imageSize(fig, options);
  const out = path.resolve(file);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  if (ext === 'html') {
    fs.writeFileSync(out, figureHtml(fig));
    return out;
  }
  const render = async (r: FigureRenderer) =>
    ext === 'png' ? r.png(fig, { scale: 2, ...options }) : r.svg(fig, options);
  const content = options.renderer
    ? await render(options.renderer)
    : await withFigureRenderer(render);
  fs.writeFileSync(out, content);
  return out;
}
