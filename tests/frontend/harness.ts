/**
 * What the front-end tests share: notebooks written from cell sources, a Jupyter server on a free
 * local port with the kit's kernel, Chromium with every request that leaves the machine blocked,
 * waiting for a page, and the kernel process's pid and CPU use.
 */
import assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { plot } from 'genlab';
import { installKernelSpec, KERNEL_PATH, Notebook, readNotebook } from '../../scripts/jupyter';

export const TOKEN = 'genlab-frontend-test';

/** A notebook of code cells on the kit's kernel, unexecuted. */
export function notebook(cells: string[]): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'tslab', display_name: 'TypeScript (genlab)', language: 'typescript' },
    },
    cells: cells.map((source, i) => ({
      cell_type: 'code',
      id: `cell-${i}`,
      source,
      metadata: {},
      outputs: [],
      execution_count: null,
    })),
  };
}

export const INIT =
  "import { data, distributions, models, plot, runtime } from 'genlab';\n" +
  'await runtime.init({ seed: 0 });';

/** Two cells with three figure outputs: two figures, then a live figure redrawn three times. */
export const FIGURE_CELLS = [
  "plot.show(plot.lines([{ name: 'a', x: [0, 1, 2], y: [1, 0, 1] }], { xTitle: 'step', " +
    "yTitle: 'loss (nats)' }), { name: 'curve' });\n" +
    "plot.show(plot.scatter([{ name: 'b', x: [1, 2], y: [2, 1] }], { xTitle: 'x (cm)', " +
    "yTitle: 'y (cm)' }), { name: 'points' });",
  "const live = new plot.LiveFigure('live');\n" +
    'for (let k = 1; k <= 3; k++) {\n' +
    '  const x = [...Array(k).keys()];\n' +
    "  live.update(plot.lines([{ name: 'loss', x, y: x }], { xTitle: 'epoch', " +
    "yTitle: 'loss (nats)' }));\n" +
    '  await new Promise((resolve) => setTimeout(resolve, 50));\n' +
    '}',
];

/** The `{ a }` shorthand across cells: prints `{ a: 41 }`. */
export const SHORTHAND_CELLS = ['const a = 41;', 'console.log({ a });'];

/** A notebook whose second cell fails on its line 2 (a negative standard deviation). */
export const ERROR_CELLS = [
  INIT,
  '// a negative standard deviation\nconst p = new distributions.Normal(0, -1);',
  "console.log('not reached');",
];

/** The error output of ERROR_CELLS' second cell: at most 8 lines, the problem, the cell line. */
export function assertStudentError(error: string): void {
  assert.ok(error.trim().split('\n').length <= 8, error);
  assert.match(error, /scale must be positive/);
  assert.match(error, /line 2 of this cell: const p = new distributions\.Normal\(0, -1\);/);
  assert.doesNotMatch(error, /lib[\\/]dist|node_modules|tslab|evalmachine|at Object\./);
}

/** A notebook that trains the lecture's VAE at full size for 20 epochs, then prints its steps. */
export const INTERRUPT_CELLS = [
  INIT,
  "const train = data.loadMnist('train');\n" +
    'const model = new models.vae.VAE(models.vae.LECTURE_CONFIG);\n' +
    'const trainer = new models.vae.VaeTrainer(model);',
  'const result = await trainer.fit(train, { epochs: 20 });',
  "console.log('next cell ran:', trainer.optimizer.iterations, 'steps');",
];

/** Empties `dir` and writes each notebook of `fixtures` (file name to cell sources) into it. */
export function writeFixtures(dir: string, fixtures: Record<string, string[]>): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, cells] of Object.entries(fixtures))
    fs.writeFileSync(path.join(dir, name), JSON.stringify(notebook(cells), null, 1));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port: p } = s.address() as net.AddressInfo;
      s.close(() => resolve(p));
    });
  });
}

/** Polls `probe` every 250 ms until it returns a truthy value; throws after `ms`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms: number,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value as T;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface JupyterServer {
  port: number;
  /** Shuts every kernel of the server down (one kernel at a time on a small machine). */
  closeSessions(): Promise<void>;
  stop(): void;
}

/**
 * Starts a Jupyter server (`command` with `args`, the app's own options) serving `dir` on a free
 * local port with the token TOKEN, the kit's kernel spec and quick mode; its config, data and
 * runtime folders are inside `dir`.
 */
export async function startJupyter(
  command: string,
  args: string[],
  dir: string,
  what: string,
): Promise<JupyterServer> {
  installKernelSpec();
  const port = await freePort();
  const server = spawn(
    command,
    [
      ...args,
      '--no-browser',
      '--ip=127.0.0.1',
      `--port=${port}`,
      ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
    ],
    {
      env: {
        ...process.env,
        JUPYTER_PATH: KERNEL_PATH,
        JUPYTER_CONFIG_DIR: path.join(dir, '.config'),
        JUPYTER_DATA_DIR: path.join(dir, '.data'),
        JUPYTER_RUNTIME_DIR: path.join(dir, '.runtime'),
        GENLAB_QUICK: '1',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    },
  );
  let log = '';
  server.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const stop = () => {
    try {
      if (server.pid) process.kill(-server.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  const api = `http://127.0.0.1:${port}/api`;
  try {
    await waitFor(what, async () => (await fetch(`${api}?token=${TOKEN}`)).ok || undefined, 60_000);
  } catch (e) {
    stop();
    throw new Error(`${(e as Error).message}; its log:\n${log.slice(-2000)}`, { cause: e });
  }
  return {
    port,
    stop,
    async closeSessions() {
      const sessions = (await (await fetch(`${api}/sessions?token=${TOKEN}`)).json()) as Array<{
        id: string;
      }>;
      for (const { id } of sessions)
        await fetch(`${api}/sessions/${id}?token=${TOKEN}`, { method: 'DELETE' });
    },
  };
}

export interface OfflineBrowser {
  browser: Browser;
  context: BrowserContext;
  /** Every request that was blocked, in order. */
  blocked: string[];
}

/** Chromium whose pages reach only 127.0.0.1:`port`; every other request is blocked. */
export async function launchChromium(port: number): Promise<OfflineBrowser> {
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const browser = await chromium.launch({
    executablePath: plot.findChromium()!,
    // The kit's quiet flags without its proxy rules, which also cut off the local server;
    // requests leaving the machine are blocked below instead.
    args: plot.CHROMIUM_ARGS.filter((a) => !/^--(proxy|host-resolver)/.test(a)),
  });
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const blocked: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' && url.port === String(port)) return route.continue();
    blocked.push(url.href);
    return route.abort('blockedbyclient');
  });
  return { browser, context, blocked };
}

/** The pid of the newest kit kernel whose working directory is `dir`. */
export function kernelPid(dir: string): number {
  const pids = fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
        return (
          cmd.includes(path.join('kernel', 'main.js')) && fs.readlinkSync(`/proc/${p}/cwd`) === dir
        );
      } catch {
        return false;
      }
    });
  assert.ok(pids.length > 0, `no kernel process in ${dir}`);
  return Number(pids[pids.length - 1]);
}

/** The share of one core a process uses over `ms` milliseconds. */
export async function cpuShare(pid: number, ms: number): Promise<number> {
  const ticks = () => {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  };
  const t0 = ticks();
  await new Promise((r) => setTimeout(r, ms));
  return (ticks() - t0) / 100 / (ms / 1000);
}

/** A saved notebook's size in bytes and how much of it is PNG images (base64). */
export function savedSize(file: string): { bytes: number; imageBytes: number } {
  const nb = readNotebook(file);
  let imageBytes = 0;
  for (const cell of nb.cells)
    for (const output of cell.outputs ?? []) {
      const png = (output.data as Record<string, unknown> | undefined)?.['image/png'];
      if (png) imageBytes += (Array.isArray(png) ? png.join('') : String(png)).length;
    }
  return { bytes: fs.statSync(file).size, imageBytes };
}

/** Waits until the page-side `expression` is true (e.g. no cell running). */
export async function waitForPage(
  page: Page,
  what: string,
  expression: string,
  ms: number,
): Promise<void> {
  await waitFor(what, () => page.evaluate(expression) as Promise<boolean>, ms);
}

/**
 * Waits until `outputText()`, the text of a page's outputs, matches `text`. A cell stops running
 * with its execute reply, but what it printed travels on another channel and may arrive later;
 * the messages on that channel keep their order, so once the last cell's output is in, so is
 * every earlier output.
 */
export async function waitForOutput(text: RegExp, outputText: () => Promise<string>) {
  await waitFor(`the outputs to show ${text}`, async () => text.test(await outputText()), 30_000);
}

/** Waits up to 30 s until `read()` returns a state that is `done`; returns the last state. */
export async function settled<S>(what: string, read: () => Promise<S>, done: (s: S) => boolean) {
  try {
    return await waitFor(
      what,
      async () => {
        const s = await read();
        return done(s) ? s : undefined;
      },
      30_000,
    );
  } catch {
    return read();
  }
}
