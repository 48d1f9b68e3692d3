/**
 * Figure export through a real headless Chromium with the network blocked: PNGs open with the
 * requested size and are not blank, SVGs are well-formed XML, HTML pages draw with no URL loads,
 * user strings cannot run script, executed notebooks get static images, and the figures script
 * writes every named output. Needs a Chromium-family browser (CI: Debian's `chromium`); without one
 * these tests are skipped, with the reason and what to install.
 */
import { after, before, test as nodeTest } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PNG } from 'pngjs';
import { plot, runtime } from 'genlab';
import { exportNotebook } from '../../scripts/figures';

let renderer: plot.FigureRenderer;

const skip = plot.findChromium()
  ? false
  : 'no Chromium-family browser found (Debian/Ubuntu: sudo apt-get install chromium; or set ' +
    'GENLAB_CHROMIUM=/path/to/chrome): figure export cannot be tested';
const test = (name: string, fn: () => Promise<void> | void) => nodeTest(name, { skip }, fn);

before(async () => {
  await runtime.init({ seed: 0, report: false });
  if (!skip) renderer = await plot.FigureRenderer.launch();
});

after(async () => {
  await renderer?.close();
});

const xs = plot.linspace(-3, 3, 61);
const lineFig = plot.lines(
  [
    { name: 'N(0, 1)', x: xs, y: xs.map((x) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI)) },
    { name: 'Laplace', x: xs, y: xs.map((x) => Math.exp(-Math.abs(x)) / 2) },
  ],
  { title: 'Densities', xTitle: 'x', yTitle: 'density' },
);
const heatFig = plot.heatmap(
  plot.evalGrid(xs, xs, (a, b) => Math.exp(-(a * a + b * b) / 2)),
  { x: xs, y: xs, xTitle: 'z1', yTitle: 'z2', zTitle: 'p(z)' },
);

/**
 * Per-channel variance of a PNG's pixels (0 for a blank image) and the share of non-white pixels.
 */
function pixelStats(png: PNG): { variance: number; inked: number } {
  let sum = 0;
  let sumSq = 0;
  let inked = 0;
  const n = png.width * png.height;
  for (let i = 0; i < n; i++) {
    const [r, g, b] = [png.data[4 * i], png.data[4 * i + 1], png.data[4 * i + 2]];
    const v = (r + g + b) / 3;
    sum += v;
    sumSq += v * v;
    if (r < 240 || g < 240 || b < 240) inked++;
  }
  const mean = sum / n;
  return { variance: sumSq / n - mean * mean, inked: inked / n };
}

/**
 * A small XML well-formedness check: one root element, tags nest and close in order, attributes
 * quoted, entity references known or numeric, no stray '<' or '&'. Returns the root's tag name.
 */
function checkXml(xml: string): string {
  const body = xml.replace(/^\s*<\?xml[^?]*\?>/, '').replace(/<!--[\s\S]*?-->/g, '');
  const token =
    /<!\[CDATA\[[\s\S]*?\]\]>|<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|([^<]+)/gy;
  const stack: string[] = [];
  let root: string | undefined;
  let pos = 0;
  for (let m = token.exec(body); m !== null && m.index === pos; m = token.exec(body)) {
    pos = token.lastIndex;
    const [, close, name, attrs, selfClose, text] = m;
    const entities =
      (m[0].startsWith('<![CDATA[') ? '' : (text ?? attrs ?? '')).match(/&[^;\s]*;?/g) ?? [];
    for (const e of entities)
      assert.match(
        e,
        /^&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);$/,
        `bad entity ${e} near offset ${pos}`,
      );
    if (text !== undefined || name === undefined) {
      if (text !== undefined && stack.length === 0)
        assert.match(text, /^\s*$/, `text outside the root element at offset ${pos}`);
      continue;
    }
    if (close) {
      assert.equal(stack.pop(), name, `closing </${name}> does not match at offset ${pos}`);
    } else {
      assert.ok(root === undefined || stack.length > 0, `second root element <${name}>`);
      root ??= name;
      if (!selfClose) stack.push(name);
    }
  }
  assert.equal(
    pos,
    body.length,
    `not well-formed XML at offset ${pos}: ${JSON.stringify(body.slice(pos, pos + 60))}`,
  );
  assert.deepEqual(stack, [], 'unclosed elements');
  assert.ok(root, 'no root element');
  return root!;
}

test('the XML check rejects malformed SVG (it can fail)', () => {
  assert.equal(
    checkXml('<?xml version="1.0"?><svg a="1"><g><path d="M0 0"/></g>&amp;</svg>'),
    'svg',
  );
  assert.throws(() => checkXml('<svg><g></svg>'), /does not match/);
  assert.throws(() => checkXml('<svg a=1></svg>'), /not well-formed/);
  assert.throws(() => checkXml('<svg>a & b</svg>'), /bad entity/);
  assert.throws(() => checkXml('<svg></svg><svg></svg>'), /second root/);
});

test('PNG export: requested pixel size, not blank', async () => {
  for (const [fig, size] of [
    [lineFig, { width: 500, height: 320, scale: 2 }],
    [heatFig, { width: 400, height: 400, scale: 1 }],
  ] as const) {
    const png = PNG.sync.read(await renderer.png(fig, size));
    assert.equal(png.width, size.width * size.scale);
    assert.equal(png.height, size.height * size.scale);
    const { variance, inked } = pixelStats(png);
    assert.ok(variance > 100, `pixel variance ${variance.toFixed(1)}: the image looks blank`);
    assert.ok(inked > 0.02, `only ${(100 * inked).toFixed(2)}% of pixels are not white`);
  }
  // Default size is the figure's own layout size.
  const own = PNG.sync.read(await renderer.png(lineFig));
  assert.deepEqual([own.width, own.height], [lineFig.layout.width, lineFig.layout.height]);
  // A blank figure is caught by the same statistics.
  const blank = PNG.sync.read(
    await renderer.png({
      data: [],
      layout: { width: 200, height: 100, xaxis: { visible: false }, yaxis: { visible: false } },
    }),
  );
  assert.ok(
    pixelStats(blank).variance < 1,
    'an empty figure should have (almost) no pixel variance',
  );
});

test('SVG export: well-formed XML with the requested size, text kept; LaTeX typeset by MathJax', async () => {
  const svg = await renderer.svg(lineFig, { width: 500, height: 320 });
  assert.equal(checkXml(svg), 'svg');
  assert.match(svg, /<svg[^>]* width="500" height="320"/);
  assert.ok(
    svg.includes('Densities') && svg.includes('density'),
    'title and axis label are in the SVG',
  );
  const tex = plot.lines([{ name: '$\\mathcal{N}(0,1)$', x: [0, 1], y: [1, 0] }], {
    title: 'ELBO $\\mathcal{L}(\\theta)$',
    xTitle: 'epoch',
    yTitle: 'nats',
  });
  const texSvg = await renderer.svg(tex);
  assert.equal(checkXml(texSvg), 'svg');
  assert.ok(/MJX-\d+-TEX/.test(texSvg), 'LaTeX should be typeset into MathJax glyphs');
  assert.ok(!/<text[^>]*>[^<]*\\mathcal/.test(texSvg), 'raw LaTeX source shown as text in the SVG');
  // The browser's XML parser agrees.
  const page = await renderer.checkPage(`<!DOCTYPE html><html><body><pre id="r"></pre><script>
    var svgs = ${plot.scriptJson([svg, texSvg])};
    document.getElementById('r').textContent = svgs.map(function (s) {
      var d = new DOMParser().parseFromString(s, 'image/svg+xml');
      var parsed = d.getElementsByTagName('parsererror').length === 0;
      return parsed && d.documentElement.nodeName === 'svg' ? 'ok' : 'bad';
    }).join(',');
    if (document.getElementById('r').textContent !== 'ok,ok') {
      throw new Error('DOMParser rejected an SVG');
    }
  </script></body></html>`);
  assert.deepEqual(page.errors, []);
});

/** Texts of the tick labels of one axis ('xtick' or 'ytick') in an exported SVG. */
function tickLabels(svg: string, axis: 'xtick' | 'ytick'): string[] {
  const ticks = svg.match(new RegExp(`<g class="${axis}">.*?</g>`, 'g')) ?? [];
  return ticks.map((t) => t.replace(/<[^>]+>|\u200b/g, ''));
}

test('titles hang below the mode bar; log axes across decades label only powers of ten', async () => {
  const decades = plot.linspace(0, 3, 31).map((e) => 10 ** e);
  const fig = plot.lines([{ name: 'error', x: decades, y: decades.map((n) => 1 / n) }], {
    title: 'a title long enough to reach the toolbar at the top right of the figure',
    xTitle: 'n',
    yTitle: 'error',
    logX: true,
    logY: true,
  });
  const svg = await renderer.svg(fig);
  // The title's top edge: its y plus its dy (the text hangs from y when dy is positive).
  const title = /<text class="gtitle" x="[\d.]+" y="([\d.]+)"[^>]* dy="([\d.-]+)em"/.exec(svg);
  assert.ok(title, 'the title is drawn');
  const top = Number(title[1]) + (Number(title[2]) - 0.7) * 17;
  assert.ok(top >= plot.MODE_BAR_HEIGHT - 1, `title top at ${top} px is under the mode bar`);
  assert.ok(top + 17 <= (fig.layout.margin as { t: number }).t, 'the title runs into the plot');
  assert.deepEqual(tickLabels(svg, 'xtick'), ['1', '10', '102', '103']);
  assert.deepEqual(tickLabels(svg, 'ytick'), ['10−3', '10−2', '10−1', '1']);
  // Within a decade the digits are the only labels there are, and they stay.
  const within = plot.lines([{ x: [2, 8], y: [1, 2] }], { xTitle: 'n', yTitle: 'y', logX: true });
  assert.ok(tickLabels(await renderer.svg(within), 'xtick').length >= 3);
});

const PAYLOAD =
  '</script><script>alert(1)</script><img src=x onerror=alert(2)><svg onload=alert(3)>';

test(
  'category axes: a bar chart labelled by strings draws one bar per label, with the labels ' +
    'as ticks',
  async () => {
    const labels = ['z_1', 'z_2', 'z_3'];
    const bars = plot.figure([{ type: 'bar', x: labels, y: [1.5, 0.2, 0.9] }], {
      xTitle: 'latent coordinate',
      yTitle: 'average KL (nats)',
    });
    const svg = await renderer.svg(bars);
    for (const label of labels)
      assert.ok(
        svg.includes(`>${label}</text>`),
        `tick label ${label} missing: the x axis was not a category axis`,
      );
    const drawn = (
      svg.match(/<g class="point"><path d="M[\d.]+,[\d.]+V[\d.]+H[\d.]+V[\d.]+Z"/g) ?? []
    ).length;
    assert.equal(drawn, labels.length, 'one drawn bar per label');
  },
);

test(
  'HTML pages draw offline with no URL loads, and markup in titles and labels cannot ' +
    'run script',
  async () => {
    // Control: the check sees a script that does run.
    const control = await renderer.checkPage(`<div>${PAYLOAD}</div>`);
    assert.ok(
      control.errors.some((e) => e.startsWith('dialog opened')),
      'the check should catch an injected script',
    );
    const fig = plot.scatter([{ name: PAYLOAD, x: [1, 2], y: [2, 1], text: [PAYLOAD, 'b'] }], {
      title: PAYLOAD,
      xTitle: PAYLOAD,
      yTitle: `${PAYLOAD} (cm)`,
    });
    const notebookHtml =
      `<script>${plot.plotlyJs()}</script>` +
      plot.figureEmbedHtml(fig, { id: 'evil-figure', name: 'evil' }) +
      (plot.tableBundle([{ [PAYLOAD]: PAYLOAD }], { caption: PAYLOAD })['text/html'] as string);
    for (const [what, html] of [
      ['exported figure page', plot.figureHtml(fig)],
      ['notebook output', `<!DOCTYPE html><html><body>${notebookHtml}</body></html>`],
    ]) {
      const check = await renderer.checkPage(html);
      assert.deepEqual(check.errors, [], `${what}: ${check.errors.join('; ')}`);
      assert.deepEqual([check.figures, check.rendered], [1, 1], `${what}: the figure should draw`);
      assert.deepEqual(check.blockedRequests, [], `${what}: the page tried to load URLs`);
    }
  },
);

test('an exported figure shows its static PNG until plotly.js draws it in its place', async () => {
  const small = plot.lines([{ x: [0, 1, 2], y: [1, 0, 1] }], {
    xTitle: 'step',
    yTitle: 'loss (nats)',
    width: 300,
    height: 200,
  });
  const png = (await renderer.png(small)).toString('base64');
  const embed = plot.figureEmbedHtml(small, { id: 'loss', name: 'loss', png });
  assert.ok(
    embed.startsWith(
      `<div id="loss" class="genlab-figure" data-name="loss"><img src="data:image/png;base64,` +
        `${png}" width="300" height="200" alt="figure loss"></div>`,
    ),
    'the static image is inside the figure element',
  );
  const without = await renderer.checkPage(`<html><body>${embed}</body></html>`, {
    timeoutMs: 1000,
  });
  assert.deepEqual([without.figures, without.rendered, without.errors], [1, 0, []]);
  const withPlotly = await renderer.checkPage(
    `<html><head><script>${plot.plotlyJs()}</script></head><body>${embed}</body></html>`,
  );
  assert.deepEqual([withPlotly.figures, withPlotly.rendered, withPlotly.errors], [1, 1, []]);
});

test('figures script writes PNG, SVG, HTML per figure, image grids and CSV tables', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-figures-'));
  try {
    const grid = plot
      .imageGridPng(
        [
          [0, 1, 1, 0],
          [1, 0, 0, 1],
        ],
        { scale: 3 },
      )
      .toString('base64');
    const out = (kind: string, name: string, data: Record<string, unknown>) => ({
      output_type: 'display_data',
      data,
      metadata: { genlab: { kind, name } },
    });
    const nb = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [
        {
          cell_type: 'code',
          outputs: [out('figure', 'densities', plot.figureBundle(lineFig, 'densities'))],
        },
        {
          cell_type: 'code',
          outputs: [out('image', 'digits', { 'image/png': grid, 'text/plain': '<image grid>' })],
        },
        {
          cell_type: 'code',
          outputs: [
            out(
              'table',
              'history',
              plot.tableBundle([
                { epoch: 1, elbo: -120.123456 },
                { epoch: 2, elbo: -110.5 },
              ]),
            ),
          ],
        },
      ],
    };
    const ipynb = path.join(dir, '01-test.ipynb');
    fs.writeFileSync(ipynb, JSON.stringify(nb));
    const outDir = path.join(dir, 'figures', '01-test');
    const result = await exportNotebook(
      ipynb,
      outDir,
      { width: 480, height: 300, scale: 2 },
      async () => renderer,
    );
    assert.deepEqual(result.files.sort(), [
      'densities.html',
      'densities.png',
      'densities.svg',
      'digits.png',
      'history.csv',
    ]);
    const png = PNG.sync.read(fs.readFileSync(path.join(outDir, 'densities.png')));
    assert.deepEqual([png.width, png.height], [960, 600]);
    assert.equal(checkXml(fs.readFileSync(path.join(outDir, 'densities.svg'), 'utf8')), 'svg');
    assert.deepEqual(fs.readFileSync(path.join(outDir, 'digits.png')), Buffer.from(grid, 'base64'));
    assert.equal(
      fs.readFileSync(path.join(outDir, 'history.csv'), 'utf8'),
      'epoch,elbo\n1,-120.123456\n2,-110.5\n',
    );
    assert.match(
      fs.readFileSync(path.join(outDir, 'densities.html'), 'utf8'),
      /<title>01-test: densities<\/title>/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('saveFigure writes the format its file name asks for', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-save-'));
  try {
    const png = PNG.sync.read(
      fs.readFileSync(
        await plot.saveFigure(heatFig, path.join(dir, 'a', 'heat.png'), {
          renderer,
          width: 300,
          height: 250,
        }),
      ),
    );
    assert.deepEqual([png.width, png.height], [600, 500], 'PNG default scale is 2');
    assert.equal(
      checkXml(
        fs.readFileSync(
          await plot.saveFigure(heatFig, path.join(dir, 'heat.svg'), { renderer }),
          'utf8',
        ),
      ),
      'svg',
    );
    assert.match(
      fs.readFileSync(await plot.saveFigure(heatFig, path.join(dir, 'heat.html')), 'utf8'),
      /^<!DOCTYPE html>/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
