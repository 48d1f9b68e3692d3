/**
 * The notebooks as a student uses them: Debian's classic Jupyter Notebook with the kit's kernel
 * and extension, driven by Chromium through playwright-core, every request that leaves the machine
 * blocked. Scenarios: run all; re-run twice, save, reopen; an executed notebook opened untrusted;
 * its exported HTML page offline; an error cell; the `{ a }` shorthand across cells; interrupt
 * during a full-size training. In each, every figure output must be drawn.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { BrowserContext, Page } from 'playwright-core';
import { plot } from 'genlab';
import {
  BUILD_DIR,
  enableNotebookExtension,
  executeNotebook,
  exportHtml,
  findPython,
  installNotebookExtension,
  listNotebooks,
  readNotebook,
  ROOT,
} from '../../scripts/jupyter';
import {
  assertStudentError,
  cpuShare,
  ERROR_CELLS,
  FIGURE_CELLS,
  INIT,
  INTERRUPT_CELLS,
  JupyterServer,
  kernelPid,
  launchChromium,
  OfflineBrowser,
  savedSize,
  settled,
  SHORTHAND_CELLS,
  startJupyter,
  TOKEN,
  waitFor,
  waitForOutput,
  waitForPage,
  writeFixtures,
} from './harness';

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
const FIXTURES: Record<string, string[]> = {
  'figures.ipynb': [INIT, ...FIGURE_CELLS, ...SHORTHAND_CELLS],
  'error.ipynb': ERROR_CELLS,
  'interrupt.ipynb': INTERRUPT_CELLS,
};

let server: JupyterServer | undefined;
let chromium: OfflineBrowser | undefined;
let context: BrowserContext | undefined;
let port = 0;

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
  await server!.closeSessions();
}

/** Run All, then wait until no cell is running. */
async function runAll(page: Page, ms = 120_000): Promise<void> {
  await page.evaluate('Jupyter.notebook.execute_all_cells()');
  await idle(page, ms);
}

async function idle(page: Page, ms: number): Promise<void> {
  await waitForPage(
    page,
    'the cells to finish',
    `Jupyter.notebook.get_cells().every((c) => !c.element.hasClass('running'))`,
    ms,
  );
}

/** Waits until the page's outputs show `text`. */
async function shows(page: Page, text: RegExp): Promise<void> {
  await waitForOutput(text, async () => (await state(page)).text);
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
  return settled(
    'every figure to be drawn',
    () => state(page),
    (s) => s.figureOutputs > 0 && s.drawn === s.figureOutputs,
  );
}

describe('the classic Notebook in Chromium', { skip: SKIP, concurrency: 1 }, () => {
  before(async () => {
    writeFixtures(WORK, FIXTURES);
    installNotebookExtension();
    enableNotebookExtension(path.join(WORK, '.config'));
    server = await startJupyter(
      findPython(),
      ['-m', 'notebook', `--NotebookApp.token=${TOKEN}`, `--notebook-dir=${WORK}`],
      WORK,
      'the Notebook server',
    );
    port = server.port;
    chromium = await launchChromium(port);
    context = chromium.context;
  });

  after(async () => {
    await chromium?.browser.close();
    server?.stop();
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
    assertStudentError(error);
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
    const before = chromium!.blocked.length;
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
    assert.deepEqual(chromium!.blocked.slice(before), [], 'the exported page loads nothing');
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
      const pid = kernelPid(WORK);
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
