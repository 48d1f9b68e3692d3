/**
 * The notebooks as a student uses them: Debian's classic Jupyter Notebook with the kit's kernel
 * and extension, driven by Chromium through playwright-core, every request that leaves the machine
 * blocked. Scenarios: run all; re-run twice, save, reopen; an executed notebook opened untrusted;
 * its exported HTML page offline; an error cell; the `{ a }` shorthand across cells; interrupt
 * during a full-size training. In each, every figure output must be drawn.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { plot } from 'genlab';
import {
  BUILD_DIR,
  enableNotebookExtension,
  executeNotebook,
  exportHtml,
  findPython,
  installKernelSpec,
  installNotebookExtension,
  KERNEL_PATH,
  listNotebooks,
  Notebook,
  readNotebook,
  ROOT,
} from '../../scripts/jupyter';

/** Why the front-end tests cannot run here, or undefined. */
function missing(): string | undefined {
  if (!plot.findChromium()) return 'no Chromium (apt-get install chromium)';
  let python: string;
  try {
    python = findPython();
  } catch (e) {
    return (e as Error).message;
  }
  const r = spawnSync(python, ['-c', 'import notebook.notebookapp'], { encoding: 'utf8' });
  if (r.status !== 0) return 'no classic Notebook (apt-get install jupyter-notebook)';
  return undefined;
}

const SKIP = missing();
const WORK = path.join(BUILD_DIR, 'frontend-test');
const TOKEN = 'genlab-frontend-test';

function notebook(cells: string[]): Notebook {
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

const INIT =
  "import { data, distributions, models, plot, runtime } from 'genlab';\n" +
  'await runtime.init({ seed: 0 });';

const FIXTURES: Record<string, string[]> = {
  'figures.ipynb': [
    INIT,
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
    'const a = 41;',
    'console.log({ a });',
  ],
  'error.ipynb': [
    INIT,
    '// a negative standard deviation\nconst p = new distributions.Normal(0, -1);',
    "console.log('not reached');",
  ],
  'interrupt.ipynb': [
    INIT,
    "const train = data.loadMnist('train');\n" +
      'const model = new models.vae.VAE(models.vae.LECTURE_CONFIG);\n' +
      'const trainer = new models.vae.VaeTrainer(model);',
    'const result = await trainer.fit(train, { epochs: 20 });',
    "console.log('next cell ran:', trainer.optimizer.iterations, 'steps');",
  ],
};

let server: ChildProcess | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let port = 0;
const blocked: string[] = [];

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

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value as T;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Opens a notebook of WORK in a new page and waits for its kernel. */
async function open(name: string): Promise<Page> {
  const page = await context!.newPage();
  page.on('dialog', (d) => void d.dismiss());

  await page.goto(`http://127.0.0.1:${port}/notebooks/${name}?token=${TOKEN}`, {
    waitUntil: 'domcontentloaded',
    timeout: 120_000,
  });
  await waitFor(
    `the kernel of ${name}`,
    () =>
      page.evaluate(
        `(() => { const nb = Jupyter.notebook; return nb && nb._fully_loaded && nb.kernel && ` +
          `nb.kernel.is_connected() && nb.kernel.info_reply && ` +
          `nb.kernel.info_reply.protocol_version; })()`,
      ),
    120_000,
  );
  return page;
}

/** Closes the page and shuts its kernel down (one kernel at a time on a small machine). */
async function close(page: Page): Promise<void> {
  await page.close();
  const api = `http://127.0.0.1:${port}/api/sessions`;
  const sessions = (await (await fetch(`${api}?token=${TOKEN}`)).json()) as Array<{ id: string }>;
  for (const { id } of sessions) await fetch(`${api}/${id}?token=${TOKEN}`, { method: 'DELETE' });
}

/** Run All, then wait until no cell is running. */
async function runAll(page: Page, ms = 120_000): Promise<void> {
  await page.evaluate('Jupyter.notebook.execute_all_cells()');
  await idle(page, ms);
}

async function idle(page: Page, ms: number): Promise<void> {
  await waitFor(
    'the cells to finish',
    () =>
      page.evaluate(
        `Jupyter.notebook.get_cells().every((c) => !c.element.hasClass('running'))`,
      ) as Promise<boolean>,
    ms,
  );
}

/**
 * Waits until the page's outputs show `text`. A cell stops running with its execute reply, but
 * what it printed travels on another channel and may arrive later; the messages on that channel
 * keep their order, so once the last cell's output is in, so is every earlier output.
 */
async function shows(page: Page, text: RegExp): Promise<void> {
  await waitFor(
    `the outputs to show ${text}`,
    async () => text.test((await state(page)).text),
    30_000,
  );
}

interface PageState {
  prompts: Array<number | string | null | undefined>;
  figureOutputs: number;
  drawn: number;
  trusted: boolean;
  text: string;
}

async function state(page: Page): Promise<PageState> {
  return page.evaluate(`(() => {
    const mime = ${JSON.stringify(plot.PLOTLY_MIME)};
    const nb = Jupyter.notebook;
    const code = nb.get_cells().filter((c) => c.cell_type === 'code');
    const outputs = code.flatMap((c) => (c.output_area ? c.output_area.outputs : []));
    const drawn = Array.from(document.querySelectorAll('.output_genlab_figure .genlab-figure'))
      .filter((el) => el.querySelector('svg.main-svg') !== null).length;
    return {
      prompts: code.map((c) => c.input_prompt_number),
      figureOutputs: outputs.filter((o) => o.data && o.data[mime]).length,
      drawn,
      trusted: nb.trusted,
      text: Array.from(document.querySelectorAll('.output_area')).map((e) => e.textContent)
        .join('\\n'),
    };
  })()`) as Promise<PageState>;
}

/** Waits until every figure output of the page is drawn; returns the final state. */
async function allDrawn(page: Page): Promise<PageState> {
  try {
    return await waitFor(
      'every figure to be drawn',
      async () => {
        const s = await state(page);
        return s.figureOutputs > 0 && s.drawn === s.figureOutputs ? s : undefined;
      },
      30_000,
    );
  } catch {
    return state(page);
  }
}

function savedSize(file: string): { bytes: number; imageBytes: number } {
  const nb = readNotebook(file);
  let imageBytes = 0;
  for (const cell of nb.cells)
    for (const output of cell.outputs ?? []) {
      const png = (output.data as Record<string, unknown> | undefined)?.['image/png'];
      if (png) imageBytes += (Array.isArray(png) ? png.join('') : String(png)).length;
    }
  return { bytes: fs.statSync(file).size, imageBytes };
}

describe('the classic Notebook in Chromium', { skip: SKIP, concurrency: 1 }, () => {
  before(async () => {
    fs.rmSync(WORK, { recursive: true, force: true });
    fs.mkdirSync(WORK, { recursive: true });
    for (const [name, cells] of Object.entries(FIXTURES))
      fs.writeFileSync(path.join(WORK, name), JSON.stringify(notebook(cells), null, 1));
    installKernelSpec();
    installNotebookExtension();
    const config = path.join(WORK, '.config');
    enableNotebookExtension(config);
    port = await freePort();
    server = spawn(
      findPython(),
      [
        '-m',
        'notebook',
        '--no-browser',
        '--ip=127.0.0.1',
        `--port=${port}`,
        `--NotebookApp.token=${TOKEN}`,
        `--notebook-dir=${WORK}`,
        ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
      ],
      {
        env: {
          ...process.env,
          JUPYTER_PATH: KERNEL_PATH,
          JUPYTER_CONFIG_DIR: config,
          JUPYTER_DATA_DIR: path.join(WORK, '.data'),
          JUPYTER_RUNTIME_DIR: path.join(WORK, '.runtime'),
          GENLAB_QUICK: '1',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
        detached: true,
      },
    );
    let log = '';
    server.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    try {
      await waitFor(
        'the Notebook server',
        async () => (await fetch(`http://127.0.0.1:${port}/api?token=${TOKEN}`)).ok || undefined,
        60_000,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}; its log:\n${log.slice(-2000)}`, { cause: e });
    }
    const { chromium } = require('playwright-core') as typeof import('playwright-core');
    browser = await chromium.launch({
      executablePath: plot.findChromium()!,
      // The kit's quiet flags without its proxy rules, which also cut off the local server;
      // requests leaving the machine are blocked below instead.
      args: plot.CHROMIUM_ARGS.filter((a) => !/^--(proxy|host-resolver)/.test(a)),
    });
    context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1' && url.port === String(port)) return route.continue();
      blocked.push(url.href);
      return route.abort('blockedbyclient');
    });
  });

  after(async () => {
    await browser?.close();
    if (server?.pid) {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  });

  test('run all: counts, figures drawn, the { a } shorthand across cells', async () => {
    const page = await open('figures.ipynb');
    await runAll(page);
    await shows(page, /\{ a: 41 \}/);
    const s = await allDrawn(page);
    assert.deepEqual(s.prompts, [1, 2, 3, 4, 5], 'every cell shows its execution count');
    assert.equal(s.figureOutputs, 3);
    assert.equal(s.drawn, s.figureOutputs, 'every figure output is drawn');
    assert.match(s.text, /\{ a: 41 \}/);
    assert.doesNotMatch(s.text, /ReferenceError/);
    await close(page);
  });

  test('re-run twice, save, reopen: every figure still drawn; the file is small', async () => {
    let page = await open('figures.ipynb');
    await runAll(page);
    await runAll(page);
    await shows(page, /\{ a: 41 \}/);
    await page.evaluate('Jupyter.notebook.save_notebook()');
    await close(page);
    page = await open('figures.ipynb');
    const s = await allDrawn(page);
    assert.deepEqual(s.prompts, [6, 7, 8, 9, 10], 'the counts of the last run were saved');
    assert.deepEqual([s.drawn, s.figureOutputs], [3, 3], 'figures drawn after reopening');
    await close(page);
    const saved = readNotebook(path.join(WORK, 'figures.ipynb'));
    const outputs = saved.cells.flatMap((c) => c.outputs ?? []);
    const figures = outputs.filter((o) => (o.data as Record<string, unknown>)?.[plot.PLOTLY_MIME]);
    assert.equal(figures.length, 3);
    for (const f of figures)
      assert.ok((f.data as Record<string, unknown>)['image/png'], 'each figure has a static PNG');
    assert.ok(!JSON.stringify(saved).includes('plotly.js v'), 'no copy of plotly.js is saved');
    const size = savedSize(path.join(WORK, 'figures.ipynb'));
    assert.ok(size.bytes - size.imageBytes < 2e6, `${size.bytes - size.imageBytes} bytes`);
  });

  test('an error shows the message and the cell line in at most 8 lines', async () => {
    const page = await open('error.ipynb');
    await runAll(page);
    await shows(page, /scale must be positive/);
    const error = (await page.evaluate(
      `(() => { const out = document.querySelectorAll('.cell')[1].querySelector('.output_error');` +
        ` return out ? out.textContent : ''; })()`,
    )) as string;
    const lines = error.trim().split('\n');
    assert.ok(lines.length <= 8, error);
    assert.match(error, /scale must be positive/);
    assert.match(error, /line 2 of this cell: const p = new distributions\.Normal\(0, -1\);/);
    assert.doesNotMatch(error, /lib[\\/]dist|node_modules|tslab|evalmachine|at Object\./);
    const s = await state(page);
    assert.deepEqual(s.prompts.slice(0, 2), [1, 2]);
    assert.doesNotMatch(s.text, /not reached/, 'Run All stops at the error');
    await close(page);
  });

  const real = listNotebooks(['02-kl-divergence'])[0];
  const realName = path.basename(real);
  test(`${realName} executed in quick mode, opened untrusted, exported offline`, async () => {
    const result = await executeNotebook(real, {
      outDir: WORK,
      cellTimeout: 600,
      env: { GENLAB_QUICK: '1' },
    });
    assert.ok(result.ok, result.error);
    const executed = readNotebook(result.output!);
    const codeCells = executed.cells.filter((c) => c.cell_type === 'code');
    assert.deepEqual(
      codeCells.map((c) => c.execution_count),
      codeCells.map((_, i) => i + 1),
      'the executed notebook has execution counts',
    );
    const page = await open(path.basename(real));
    const s = await allDrawn(page);
    assert.equal(s.trusted, false, 'a notebook executed elsewhere opens untrusted');
    assert.ok(s.figureOutputs >= 4);
    assert.equal(s.drawn, s.figureOutputs, 'every figure drawn in the untrusted notebook');
    await close(page);
    const html = fs.readFileSync(exportHtml(result.output!), 'utf8');
    const offline = await context!.newPage();
    const before = blocked.length;
    await offline.setContent(html, { waitUntil: 'load', timeout: 60_000 });
    const drawn = await waitFor(
      'the exported page to draw its figures',
      () =>
        offline.evaluate(
          `(() => { const f = document.querySelectorAll('.genlab-figure'); const d = ` +
            `Array.from(f).filter((e) => e.querySelector('svg.main-svg')).length; ` +
            `return d === f.length ? [f.length, d] : undefined; })()`,
        ) as Promise<number[] | undefined>,
      30_000,
    );
    assert.deepEqual(drawn, [s.figureOutputs, s.figureOutputs], 'exported page draws offline');
    assert.deepEqual(blocked.slice(before), [], 'the exported page loads nothing');
    await offline.close();
  });

  const loopRegistry = path.join(ROOT, 'lib', 'dist', 'runtime', 'loop.js');
  test(
    'interrupt during a full-size training: it stops within an epoch, the cell ends, the next runs',
    {
      skip: !fs.existsSync(loopRegistry) && 'needs the library side of the interrupt contract',
    },
    async (t) => {
      const page = await open('interrupt.ipynb');
      await page.evaluate('Jupyter.notebook.execute_all_cells()');
      const progress = /epoch (\d+): (\d+)\/(\d+)/;
      const shown = await waitFor(
        'training to start',
        async () => progress.exec((await state(page)).text) ?? undefined,
        120_000,
      );
      const pid = kernelPid('interrupt.ipynb');
      await page.click('#kernellink');
      await page.click('#int_kernel');
      const interruptedAt = Date.now();
      await idle(page, 60_000);
      // Reported, not asserted: the time depends on the machine's load (issue 19's target: 2 s).
      t.diagnostic(`the cell ended ${Date.now() - interruptedAt} ms after the interrupt`);
      const cpu = await cpuShare(pid, 1000);
      await shows(page, /next cell ran/);
      const s = await state(page);
      assert.ok(cpu < 0.1, `the kernel still uses ${(100 * cpu).toFixed(0)}% of a core`);
      assert.deepEqual(s.prompts, [1, 2, 3, 4]);
      assert.doesNotMatch(s.text, /Interrupted|Error/);
      const steps = /next cell ran: (\d+) steps/.exec(s.text);
      assert.ok(steps, s.text);
      // The bar redraws twice a second, so it lags the loop; 20 epochs would be 20 times as many.
      const [epoch, batch, perEpoch] = shown.slice(1).map(Number);
      const stepsShown = (epoch - 1) * perEpoch + batch;
      assert.ok(
        Number(steps[1]) >= stepsShown && Number(steps[1]) < stepsShown + perEpoch,
        `interrupted at step ${stepsShown} (as shown), stopped after ${steps[1]}`,
      );
      await close(page);
    },
  );
});

/** The pid of the kernel process of the notebook `name` (its connection file is in WORK). */
function kernelPid(name: string): number {
  const sessions = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  const pids = sessions.filter((p) => {
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
      const cwd = fs.readlinkSync(`/proc/${p}/cwd`);
      return cmd.includes(path.join('kernel', 'main.js')) && cwd === WORK;
    } catch {
      return false;
    }
  });
  assert.ok(pids.length > 0, `no kernel process for ${name}`);
  return Number(pids[pids.length - 1]);
}

/** The share of one core a process uses over `ms` milliseconds. */
async function cpuShare(pid: number, ms: number): Promise<number> {
  const ticks = () => {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  };
  const t0 = ticks();
  await new Promise((r) => setTimeout(r, ms));
  return (ticks() - t0) / 100 / (ms / 1000);
}
