/**
 * The notebooks in JupyterLab, as classic.test.ts tries them in the classic Notebook: JupyterLab
 * with the kit's kernel, driven by Chromium through playwright-core, every request that leaves the
 * machine blocked. Scenarios: run all on a quick-mode notebook; re-run a figure cell, save,
 * reopen; an error cell; an executed notebook opened (untrusted). In each, every figure output
 * must show. With plotly's JupyterLab extension, a figure the kernel draws is drawn by plotly.js
 * at once, and one opened from a file shows its stored PNG until the mouse enters it, then is
 * drawn (that extension's choice for outputs that carry an image); without the extension, every
 * figure shows its static PNG (the test says which case it checked).
 *
 * JupyterLab is found as GENLAB_JUPYTER_LAB (a path to `jupyter-lab`) or `jupyter-lab` on PATH.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Page } from 'playwright-core';
import { plot } from 'genlab';
import { BUILD_DIR, executeNotebook, listNotebooks, readNotebook } from '../../scripts/jupyter';
import {
  assertStudentError,
  ERROR_CELLS,
  FIGURE_CELLS,
  INIT,
  JupyterServer,
  launchChromium,
  OfflineBrowser,
  settled,
  SHORTHAND_CELLS,
  startJupyter,
  TOKEN,
  waitFor,
  waitForOutput,
  waitForPage,
  writeFixtures,
} from './harness';

const LAB = process.env.GENLAB_JUPYTER_LAB || 'jupyter-lab';

/** Why the JupyterLab tests cannot run here, or undefined. */
function missing(): string | undefined {
  if (!plot.findChromium()) return 'no Chromium (apt-get install chromium)';
  const r = spawnSync(LAB, ['--version'], { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  return process.env.GENLAB_JUPYTER_LAB
    ? `GENLAB_JUPYTER_LAB=${LAB} does not run (${r.error?.message ?? r.stderr.trim()})`
    : 'no JupyterLab (python3 -m pip install jupyterlab plotly, then put jupyter-lab on PATH ' +
        'or set GENLAB_JUPYTER_LAB to its path)';
}

const SKIP = missing();
const WORK = path.join(BUILD_DIR, 'frontend-lab-test');
const SETTINGS = path.join(WORK, '.lab-settings');

const QUICK_MODE_CELLS = [
  INIT,
  "const size = runtime.runSizes({ steps: { full: 400, quick: 40, what: 'demo steps' } });",
  "const bar = runtime.progress(size.steps, { label: 'demo', redrawMs: 0 });\n" +
    'for (let k = 1; k <= size.steps; k++) {\n' +
    '  bar.tick({ loss: 1 / k });\n' +
    '  await new Promise((resolve) => setTimeout(resolve, 5));\n' +
    '}',
  ...FIGURE_CELLS,
  ...SHORTHAND_CELLS,
];

const FIXTURES: Record<string, string[]> = {
  'quick-mode.ipynb': QUICK_MODE_CELLS,
  'error.ipynb': ERROR_CELLS,
};

/** JupyterLab's settings for the test: the whole notebook in the DOM, no news, no update check. */
const LAB_SETTINGS: Record<string, object> = {
  '@jupyterlab/notebook-extension/tracker': { windowingMode: 'none' },
  '@jupyterlab/apputils-extension/notification': { fetchNews: 'false', checkForUpdates: false },
};

let server: JupyterServer | undefined;
let chromium: OfflineBrowser | undefined;
/** Whether plotly's JupyterLab extension (its renderer of the plotly MIME type) is installed. */
let interactive = false;

/** The current notebook panel of the page (JupyterLab runs with the app exposed). */
const PANEL = 'window.jupyterapp.shell.currentWidget';

/** Opens a notebook of WORK in a new page and waits for its kernel to be idle. */
async function open(name: string): Promise<Page> {
  const page = await chromium!.context.newPage();
  page.on('dialog', (d) => void d.dismiss());
  await page.goto(`http://127.0.0.1:${server!.port}/lab/tree/${name}?reset&token=${TOKEN}`, {
    waitUntil: 'domcontentloaded',
    timeout: 120_000,
  });
  await waitFor(
    `the kernel of ${name}`,
    () =>
      page.evaluate(
        `(() => { const p = ${PANEL}; return p && p.context && p.context.path === ` +
          `${JSON.stringify(name)} && p.context.isReady && p.sessionContext.session && ` +
          `p.sessionContext.session.kernel && ` +
          `p.sessionContext.session.kernel.connectionStatus === 'connected' && ` +
          `p.sessionContext.session.kernel.status === 'idle'; })()`,
      ),
    120_000,
  );
  return page;
}

async function close(page: Page): Promise<void> {
  await page.close();
  await server!.closeSessions();
}

function command(page: Page, id: string): Promise<unknown> {
  return page.evaluate(`window.jupyterapp.commands.execute(${JSON.stringify(id)})`);
}

/** Run > Run All Cells, then wait until no cell is running or queued. */
async function runAll(page: Page, ms = 120_000): Promise<void> {
  await command(page, 'notebook:run-all-cells');
  await idle(page, ms);
}

async function idle(page: Page, ms: number): Promise<void> {
  await waitForPage(
    page,
    'the cells to finish',
    `(() => { const p = ${PANEL}; return p.sessionContext.session.kernel.status === 'idle' ` +
      `&& Array.from(p.content.node.querySelectorAll('.jp-InputPrompt'))` +
      `.every((e) => !e.textContent.includes('*')); })()`,
    ms,
  );
}

/** Waits until the page's outputs show `text`. */
async function shows(page: Page, text: RegExp): Promise<void> {
  await waitForOutput(text, async () => (await state(page)).text);
}

interface PageState {
  /** The execution count of each code cell, as its model and its prompt show it. */
  prompts: Array<number | null>;
  promptTexts: string[];
  figureOutputs: number;
  /** Figure outputs drawn by plotly.js (an SVG inside `.js-plotly-plot`). */
  drawn: number;
  /** Figure outputs not drawn that show their static PNG (a loaded, visible image). */
  images: number;
  trusted: boolean;
  text: string;
}

async function state(page: Page): Promise<PageState> {
  return page.evaluate(`(() => {
    const mime = ${JSON.stringify(plot.PLOTLY_MIME)};
    const nb = ${PANEL}.content;
    const code = nb.widgets.filter((c) => c.model.type === 'code');
    let figureOutputs = 0, drawn = 0, images = 0;
    for (const cell of code) {
      const outputs = cell.model.outputs;
      for (let i = 0; i < outputs.length; i++) {
        if (!outputs.get(i).data[mime]) continue;
        figureOutputs++;
        const node = cell.outputArea.widgets[i].node;
        if (node.querySelector('.js-plotly-plot svg.main-svg')) drawn++;
        else {
          const img = node.querySelector('img');
          if (img && img.complete && img.naturalWidth > 0 && img.offsetWidth > 0) images++;
        }
      }
    }
    return {
      prompts: code.map((c) => c.model.executionCount),
      promptTexts: code.map((c) => c.node.querySelector('.jp-InputPrompt').textContent.trim()),
      figureOutputs,
      drawn,
      images,
      trusted: code.every((c) => c.model.trusted),
      text: Array.from(nb.node.querySelectorAll('.jp-OutputArea-output'))
        .map((e) => e.textContent).join('\\n'),
    };
  })()`) as Promise<PageState>;
}

/** How many figure outputs show: drawn by plotly.js or as their PNG. */
function shown(s: PageState): number {
  return s.drawn + s.images;
}

/** Waits until every figure output of the page shows; returns the final state. */
async function allShown(page: Page): Promise<PageState> {
  return settled(
    'every figure to show',
    () => state(page),
    (s) => s.figureOutputs > 0 && shown(s) === s.figureOutputs,
  );
}

function assertAllShown(s: PageState, where: string): void {
  assert.equal(shown(s), s.figureOutputs, `${where}: ${shown(s)} of ${s.figureOutputs} show`);
}

/**
 * Checks a notebook opened from a file: every figure shows; with plotly's extension, each one
 * still showing its PNG is drawn once the mouse enters it.
 */
async function assertOpenedFiguresShow(page: Page, where: string): Promise<PageState> {
  let s = await allShown(page);
  assertAllShown(s, where);
  if (!interactive) {
    assert.equal(s.images, s.figureOutputs, `${where}: every figure shows its PNG`);
    return s;
  }
  for (const img of await page.locator('.jp-RenderedPlotly img.plot-img').all())
    // The mouse on its way may have drawn a later figure already: its image is then hidden.
    if (await img.isVisible()) await img.hover({ force: true, timeout: 5000 }).catch(() => {});
  s = await settled(
    'every figure to be drawn',
    () => state(page),
    (now) => now.drawn === now.figureOutputs,
  );
  assert.equal(s.drawn, s.figureOutputs, `${where}: drawn once the mouse enters each figure`);
  return s;
}

describe('JupyterLab in Chromium', { skip: SKIP, concurrency: 1 }, () => {
  before(async () => {
    writeFixtures(WORK, FIXTURES);
    for (const [plugin, settings] of Object.entries(LAB_SETTINGS)) {
      const file = path.join(SETTINGS, `${plugin}.jupyterlab-settings`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify(settings));
    }
    server = await startJupyter(
      LAB,
      [
        `--ServerApp.token=${TOKEN}`,
        `--ServerApp.root_dir=${WORK}`,
        `--LabApp.user_settings_dir=${SETTINGS}`,
        `--LabApp.workspaces_dir=${path.join(WORK, '.workspaces')}`,
        '--LabApp.expose_app_in_browser=True',
      ],
      WORK,
      'the JupyterLab server',
    );
    chromium = await launchChromium(server.port);
    const page = await open('error.ipynb');
    interactive = (await page.evaluate(
      `JSON.parse(document.getElementById('jupyter-config-data').textContent)` +
        `.federated_extensions.some((e) => e.name === 'jupyterlab-plotly')`,
    )) as boolean;
    await close(page);
  });

  after(async () => {
    await chromium?.browser.close();
    server?.stop();
  });

  test('run all on a quick-mode notebook: counts, note, progress, every figure', async (t) => {
    t.diagnostic(
      interactive
        ? "plotly's JupyterLab extension is installed: figures must be drawn by plotly.js"
        : "plotly's JupyterLab extension is missing (pip install plotly): figures are checked " +
            'as their static PNGs',
    );
    const page = await open('quick-mode.ipynb');
    await runAll(page);
    await shows(page, /\{ a: 41 \}/);
    const s = await allShown(page);
    const counts = QUICK_MODE_CELLS.map((_, i) => i + 1);
    assert.deepEqual(s.prompts, counts, 'every cell has its execution count');
    assert.deepEqual(
      s.promptTexts,
      counts.map((n) => `[${n}]:`),
      'every prompt shows it',
    );
    assert.match(s.text, /\| quick mode/, 'runtime.init says quick mode');
    assert.match(s.text, /Quick mode \(GENLAB_QUICK=1\): this run is reduced: demo steps 40/);
    assert.match(s.text, /demo: 40\/40/, 'the progress bar reached its end');
    const bars = (await page.evaluate(
      `${PANEL}.content.node.querySelectorAll('progress').length`,
    )) as number;
    assert.equal(bars, 1, 'one progress bar, updated in place');
    assert.equal(s.figureOutputs, 3);
    assert.equal(interactive ? s.drawn : s.images, 3, 'every figure shows as it should');
    assert.match(s.text, /\{ a: 41 \}/);
    assert.doesNotMatch(s.text, /ReferenceError/);
    await close(page);
  });

  test('re-run a figure cell, save, reopen: every figure still shows', async () => {
    let page = await open('quick-mode.ipynb');
    await runAll(page);
    await page.evaluate(`(() => { const p = ${PANEL}; p.content.activeCellIndex = 3; })()`);
    await command(page, 'notebook:run-cell');
    await idle(page, 60_000);
    let s = await allShown(page);
    assert.equal(s.prompts[3], QUICK_MODE_CELLS.length + 1, 'the figure cell ran again');
    assertAllShown(s, 'after the re-run');
    await command(page, 'docmanager:save');
    await waitFor(
      'the notebook to be saved',
      () => page.evaluate(`!${PANEL}.context.model.dirty`) as Promise<boolean>,
      30_000,
    );
    await close(page);
    page = await open('quick-mode.ipynb');
    s = await assertOpenedFiguresShow(page, 'after save and reopen');
    assert.equal(s.figureOutputs, 3);
    await close(page);
    const saved = readNotebook(path.join(WORK, 'quick-mode.ipynb'));
    const figures = saved.cells
      .flatMap((c) => c.outputs ?? [])
      .filter((o) => (o.data as Record<string, unknown>)?.[plot.PLOTLY_MIME]);
    assert.equal(figures.length, 3);
    for (const f of figures)
      assert.ok((f.data as Record<string, unknown>)['image/png'], 'each figure has a static PNG');
  });

  test('an error shows the message and the cell line in at most 8 lines', async () => {
    const page = await open('error.ipynb');
    await runAll(page);
    await shows(page, /scale must be positive/);
    const error = (await page.evaluate(
      `${PANEL}.content.widgets[1].outputArea.node.textContent`,
    )) as string;
    assertStudentError(error);
    const s = await state(page);
    assert.deepEqual(s.prompts.slice(0, 2), [1, 2]);
    assert.doesNotMatch(s.text, /not reached/, 'Run All stops at the error');
    await close(page);
  });

  const real = listNotebooks(['02-kl-divergence'])[0];
  const realName = path.basename(real);
  test(`${realName} executed in quick mode, then opened: counts and every figure`, async () => {
    const result = await executeNotebook(real, {
      outDir: WORK,
      cellTimeout: 600,
      env: { GENLAB_QUICK: '1' },
    });
    assert.ok(result.ok, result.error);
    const page = await open(realName);
    const s = await assertOpenedFiguresShow(page, 'in the executed notebook');
    assert.equal(s.trusted, false, 'a notebook executed elsewhere opens untrusted');
    assert.deepEqual(
      s.prompts,
      s.prompts.map((_, i) => i + 1),
      'the executed notebook shows its execution counts',
    );
    assert.ok(s.figureOutputs >= 4);
    assert.deepEqual(chromium!.blocked, [], 'JupyterLab and the figures load nothing remote');
    await close(page);
  });
});
