/**
 * Figure builders, notebook bundles and tables, without a browser: valid plotly figures with
 * labeled axes, clear errors for bad inputs, escaped user strings, raw table rows for CSV export.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'os';
import * as path from 'path';
import { plot, runtime } from 'genlab';
import { namedOutputs } from '../../scripts/figures';

type Axis = { title: { text: string }; type: string };

function axes(fig: plot.Figure): { x: Axis; y: Axis } {
  return { x: fig.layout.xaxis as Axis, y: fig.layout.yaxis as Axis };
}

test('builders produce plotly figures with labeled axes, palette colors and sizes', async () => {
  await runtime.init({ seed: 0, report: false });
  const xs = plot.linspace(-2, 2, 21);
  const grid = plot.evalGrid(xs, xs, (a, b) => Math.exp(-(a * a + b * b) / 2));
  const figs: Array<[string, plot.Figure, string]> = [
    [
      'lines',
      plot.lines([{ name: 'f', x: xs, y: xs.map((v) => v * v) }], {
        xTitle: 'iteration',
        yTitle: 'KL (nats)',
        title: 'loss',
      }),
      'scatter',
    ],
    [
      'scatter',
      plot.scatter(
        [
          { name: 'a', x: [1, 2], y: [3, 4] },
          { name: 'b', x: [0], y: [1] },
        ],
        { xTitle: 'z1', yTitle: 'z2', equalAxes: true },
      ),
      'scatter',
    ],
    [
      'histogram',
      plot.histogram([0.1, 0.5, 0.5, 0.9], {
        xTitle: 'x',
        density: { f: () => 1, name: 'uniform' },
      }),
      'histogram',
    ],
    [
      'heatmap',
      plot.heatmap(grid, { x: xs, y: xs, xTitle: 'z1', yTitle: 'z2', zTitle: 'p(z)' }),
      'heatmap',
    ],
    [
      'contour',
      plot.contour(grid, { x: xs, y: xs, xTitle: 'z1', yTitle: 'z2', lines: true }),
      'contour',
    ],
  ];
  for (const [what, fig, type] of figs) {
    assert.ok(Array.isArray(fig.data) && fig.data.length > 0, `${what}: no traces`);
    assert.equal(fig.data[0].type, type, what);
    const { x, y } = axes(fig);
    assert.notEqual(x.title.text, '', `${what}: x axis has no label`);
    assert.notEqual(y.title.text, '', `${what}: y axis has no label`);
    assert.deepEqual(fig.layout.colorway, plot.PALETTE);
    assert.equal(fig.layout.width, 640);
    assert.doesNotThrow(() => JSON.stringify(fig), what);
  }
  assert.equal(axes(figs[0][1]).y.title.text, 'KL (nats)');
  assert.equal((figs[0][1].layout.title as { text: string }).text, 'loss');
  assert.equal((figs[1][1].layout.yaxis as { scaleanchor?: string }).scaleanchor, 'x');
  assert.equal(figs[1][1].layout.showlegend, true);
  const logFig = plot.lines([{ x: [1, 10], y: [1, 100] }], {
    xTitle: 'n',
    yTitle: 'error',
    logX: true,
    logY: true,
    width: 300,
    height: 200,
  });
  assert.equal(axes(logFig).x.type, 'log');
  assert.equal(logFig.layout.height, 200);
  // The histogram is a density: bins cover the data and the density curve spans it.
  const hist = figs[2][1].data;
  assert.equal(hist[0].histnorm, 'probability density');
  assert.equal(hist.length, 2);
});

test('room for the mode bar above titles; decades spanned by log-axis data', () => {
  assert.equal(plot.topMargin(undefined), plot.MODE_BAR_HEIGHT);
  const one = plot.topMargin('loss');
  const two = plot.topMargin('loss<br>per epoch');
  assert.ok(one > plot.MODE_BAR_HEIGHT + 17, `one title line needs more than ${one} px`);
  assert.ok(two - one >= 17, 'a second title line gets its own room');
  const fig = plot.lines([{ x: [1, 2], y: [1, 2] }], { title: 'loss', height: 300 });
  const title = fig.layout.title as { y: number; yref: string; yanchor: string };
  // The title's top edge is the mode bar's bottom edge, in px from the top of the figure.
  assert.deepEqual([title.yref, title.yanchor], ['container', 'top']);
  assert.ok(Math.abs((1 - title.y) * 300 - plot.MODE_BAR_HEIGHT) < 1e-9);
  assert.equal((fig.layout.margin as { t: number }).t, one);

  const trace = (x: unknown[]) => ({ type: 'scatter', x, y: x });
  assert.ok(Math.abs(plot.decadesSpanned([trace([1e-3, 0.5, 10])], 'x') - 4) < 1e-12);
  // Zero, negatives, NaN and non-numbers cannot sit on a log axis and are ignored.
  const messy = [trace([0, -5, NaN, 'a', 2]), trace([20, Infinity])];
  assert.ok(Math.abs(plot.decadesSpanned(messy, 'y') - 1) < 1e-12);
  assert.equal(plot.decadesSpanned([{ type: 'heatmap', z: [[1]] }], 'x'), 0);
  const logAxes = (x: number[], logX: boolean) =>
    plot.lines([{ x, y: x }], { logX, xTitle: 'n', yTitle: 'e' }).layout.xaxis as {
      minorloglabels?: string;
    };
  assert.equal(logAxes([1, 100], true).minorloglabels, 'none');
  assert.equal(logAxes([2, 8], true).minorloglabels, undefined);
  assert.equal(logAxes([1, 100], false).minorloglabels, undefined);
});

test('levelSeries: a constant line across the given x, dotted grey unless styled', () => {
  const exact = plot.levelSeries('log p(x)', [1, 10, 100], -3.5);
  assert.deepEqual(exact, {
    name: 'log p(x)',
    x: [1, 10, 100],
    y: [-3.5, -3.5, -3.5],
    dash: 'dot',
    color: plot.PALETTE[7],
  });
  const styled = plot.levelSeries('teacher', new Float64Array([0, 5]), 2, { dash: 'dash' });
  assert.deepEqual([styled.y, styled.dash, styled.color], [[2, 2], 'dash', undefined]);
  for (const bad of [NaN, Infinity])
    assert.throws(
      () => plot.levelSeries('exact', [0, 1], bad),
      /levelSeries: the level of 'exact' must be a finite number/,
    );
});

test('bad inputs throw errors that name the problem', () => {
  assert.throws(
    () => plot.lines([{ name: 's', x: [1, 2, 3], y: [1, 2] }]),
    /series 's': x has 3 values but y has 2/,
  );
  assert.throws(() => plot.scatter([{ x: [1], y: [] }]), /x has 1 values but y has 0/);
  assert.throws(() => plot.histogram([]), /histogram: no values/);
  assert.throws(() => plot.histogram([1, NaN, Infinity]), /2 values are NaN or infinite/);
  assert.throws(
    () => plot.heatmap([[1, 2]], { x: [0, 1, 2], y: [0] }),
    /z must have 1 rows .* of 3 values/,
  );
  assert.throws(() => plot.contour([[1], [2]], { x: [0], y: [0] }), /contour: z must have 1 rows/);
  assert.throws(() => plot.linspace(0, 1, 1), /n must be an integer >= 2, got 1/);
  // A misspelled option is refused with the valid ones, never dropped.
  assert.throws(
    () => plot.lines([{ x: [1], y: [1] }], { xtitle: 'epoch' } as never),
    /plot.lines: unknown option 'xtitle' \(did you mean 'xTitle'\?\); the options are title, /,
  );
  assert.throws(
    () => plot.lines([{ name: 'a', x: [1], y: [1], colour: 'red' } as never]),
    /series 'a': unknown option 'colour' \(did you mean 'color'\?\)/,
  );
  assert.throws(
    () => plot.scatter([{ x: [1], y: [1], opacty: 0.5 } as never]),
    /unknown option 'opacty' \(did you mean 'opacity'\?\)/,
  );
  assert.throws(() => plot.histogram([1, 2], { bin: 5 } as never), /unknown option 'bin'/);
  assert.throws(
    () => plot.contour([[1]], { x: [0], y: [0], line: true } as never),
    /plot.contour: unknown option 'line' \(did you mean 'lines'\?\)/,
  );
  assert.throws(() => plot.figure([], { logx: true } as never), /did you mean 'logX'/);
  assert.throws(
    () => plot.show(plot.figure([]), { name: 'bad name!' }),
    /figure name 'bad name!' must start with a letter or digit/,
  );
  assert.throws(() => plot.show({} as plot.Figure), /expected a plotly figure/);
  assert.throws(
    () => plot.figureBundle({ data: 'x' } as unknown as plot.Figure),
    /expected a plotly figure/,
  );
  assert.throws(
    () => plot.figureHtml({ layout: {} } as unknown as plot.Figure),
    /figureHtml: expected a plotly figure/,
  );
  assert.throws(() => plot.showTable([]), /showTable: no rows/);
  assert.throws(
    () => plot.tableBundle({ columns: 'a' } as unknown as plot.DataFrameLike),
    /expected an array of row objects or a DataFrame/,
  );
  assert.throws(() => plot.imageGridPng([[0, 1, 0]]), /images of 3 pixels are not square/);
  assert.throws(() => plot.imageGridPng([[0, NaN, 0, 1]]), /pixel 1 of image 0 is NaN/);
});

test('saveFigure rejects unknown formats and bad sizes before starting a browser', async () => {
  const fig = plot.lines([{ x: [0, 1], y: [0, 1] }], { xTitle: 'x', yTitle: 'y' });
  await assert.rejects(
    plot.saveFigure(fig, path.join(os.tmpdir(), 'f.jpg')),
    /must end in .png, .svg or .html/,
  );
  await assert.rejects(
    plot.saveFigure(fig, path.join(os.tmpdir(), 'f.png'), { width: -5 }),
    /width must be a number in \(0, 10000\], got -5/,
  );
  await assert.rejects(
    plot.saveFigure(fig, path.join(os.tmpdir(), 'f.png'), { scale: 0 }),
    /scale must be a number in \(0, 10\], got 0/,
  );
  await assert.rejects(
    plot.saveFigure(fig, path.join(os.tmpdir(), 'f.png'), {
      width: 10000,
      height: 10000,
      scale: 2,
    }),
    /over 100 megapixels/,
  );
});

test('texLabel makes mixed text and LaTeX one formula plotly can typeset', () => {
  assert.equal(plot.texLabel('KL $q(z|x)$ (nats)'), '$\\text{KL }q(z|x)\\text{ (nats)}$');
  assert.equal(plot.texLabel('$\\beta$'), '$\\beta$');
  assert.equal(plot.texLabel('price in $'), 'price in $');
  assert.equal(plot.texLabel('no math'), 'no math');
  assert.equal(plot.texLabel(undefined), undefined);
  assert.equal(plot.texLabel('a {b} $x$'), '$\\text{a \\{b\\} }x$');
  const fig = plot.lines([{ name: 'true $p(x)$', x: [0, 1], y: [0, 1] }], {
    xTitle: '$x$',
    yTitle: 'density $p(x)$',
  });
  assert.equal(axes(fig).y.title.text, '$\\text{density }p(x)$');
  assert.equal(fig.data[0].name, '$\\text{true }p(x)$');
  assert.ok(plot.hasLatex(fig));
  assert.ok(!plot.hasLatex(plot.lines([{ x: [0], y: [0] }], { xTitle: 'cost ($)', yTitle: 'y' })));
});

const PAYLOAD = '</script><script>alert(1)</script><img src=x onerror=alert(2)>';

test('a figure output is plotly JSON and a summary: no script, no HTML, no plotly.js', () => {
  const fig = plot.lines([{ name: PAYLOAD, x: [0, 1], y: [0, 1] }], {
    title: PAYLOAD,
    xTitle: PAYLOAD,
    yTitle: 'y',
  });
  const bundle = plot.figureBundle(fig, 'evil');
  assert.deepEqual(Object.keys(bundle).sort(), [plot.PLOTLY_MIME, 'text/plain']);
  assert.deepEqual(bundle[plot.PLOTLY_MIME], fig);
  assert.equal(bundle['text/plain'], '<figure evil: 1 trace(s)>');
});

test('an exported figure keeps user strings out of the markup and round-trips its JSON', () => {
  const fig = plot.lines([{ name: PAYLOAD, x: [0, 1], y: [0, 1] }], {
    title: PAYLOAD,
    xTitle: PAYLOAD,
    yTitle: 'y',
  });
  const html = plot.figureEmbedHtml(fig, { id: 'f1', name: 'evil' });
  assert.ok(!html.includes('<script>alert'), 'payload script element reached the HTML');
  assert.ok(!html.includes('<img'), 'payload img element reached the HTML');
  const json = /var fig=(.*?);el\.innerHTML/.exec(html)![1];
  assert.equal(JSON.parse(json).layout.title.text, PAYLOAD);
  assert.throws(
    () => plot.figureEmbedHtml({ data: 'x' } as unknown as plot.Figure, { id: 'f' }),
    /figureEmbedHtml: expected a plotly figure/,
  );
});

test('tables: escaped HTML, raw rows as JSON for CSV, danfojs DataFrames', () => {
  const rows = [
    { epoch: 1, loss: 0.123456789, note: 'a,b' },
    { epoch: 2, loss: NaN, note: `say "hi" ${PAYLOAD}` },
  ];
  const bundle = plot.tableBundle(rows, { caption: PAYLOAD });
  const html = bundle['text/html'] as string;
  assert.ok(!html.includes('<script>') && !html.includes('<img'), 'table HTML must escape strings');
  assert.ok(html.includes('0.1235'), 'HTML shows 4 significant digits');
  const json = bundle[plot.TABLE_MIME] as { columns: string[]; rows: unknown[][] };
  assert.deepEqual(json.columns, ['epoch', 'loss', 'note']);
  assert.deepEqual(json.rows[0], [1, 0.123456789, 'a,b']);
  assert.equal(json.rows[1][1], 'NaN');
  const csv = plot.tableCsv(rows);
  assert.equal(csv.split('\n')[0], 'epoch,loss,note');
  assert.equal(csv.split('\n')[1], '1,0.123456789,"a,b"');
  assert.ok(csv.split('\n')[2].startsWith('2,NaN,"say ""hi"" '));
  const dfd = require('danfojs-node') as {
    DataFrame: new (data: Record<string, unknown[]>) => plot.DataFrameLike;
  };
  const df = new dfd.DataFrame({ epoch: [1, 2], elbo: [-120.5, -110.25] });
  assert.deepEqual(plot.tableRows(df), [
    { epoch: 1, elbo: -120.5 },
    { epoch: 2, elbo: -110.25 },
  ]);
  assert.deepEqual((plot.tableBundle(df)[plot.TABLE_MIME] as { rows: unknown[][] }).rows, [
    [1, -120.5],
    [2, -110.25],
  ]);
});

test('exported figure HTML is self-contained: no URL loads in its markup', () => {
  const html = plot.figureHtml(
    plot.lines([{ x: [0, 1], y: [0, 1] }], { title: PAYLOAD, xTitle: 'x', yTitle: 'y' }),
  );
  const markup = html.replace(/<script>[\s\S]*?<\/script>/g, '<script></script>');
  assert.ok(
    !/<[a-z][^>]*\s(src|href|srcset|action|data|poster)\s*=/i.test(markup),
    'an element loads a URL',
  );
  assert.ok(!/url\(|@import/i.test(markup), 'CSS loads a URL');
  assert.ok(html.includes(`content="${plot.OFFLINE_CSP}"`), 'the page forbids URL loads');
  assert.ok(markup.includes(`<title>${'&lt;/script&gt;'}`), 'the title is escaped');
  assert.equal(
    (html.match(/<script>/g) ?? []).length,
    2,
    'one plotly.js script and one figure script, no MathJax without LaTeX',
  );
  assert.equal(
    (
      plot
        .figureHtml(plot.lines([{ x: [0], y: [0] }], { xTitle: '$x$', yTitle: 'y' }))
        .match(/<script>/g) ?? []
    ).length,
    4,
  );
});

test('finding a browser: the environment variable wins and must exist; usual paths per platform', () => {
  assert.throws(
    () => plot.findChromium({ GENLAB_CHROMIUM: '/no/such/chrome' }),
    /GENLAB_CHROMIUM=\/no\/such\/chrome is not an executable file/,
  );
  assert.equal(plot.findChromium({ GENLAB_CHROMIUM: process.execPath }), process.execPath);
  assert.ok(plot.chromiumCandidates('darwin').some((p) => p.includes('Google Chrome.app')));
  assert.ok(
    plot
      .chromiumCandidates('win32', { PROGRAMFILES: 'C:\\Program Files' })
      .includes('C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe'),
  );
  assert.ok(plot.chromiumCandidates('linux').includes('/usr/bin/chromium'));
  assert.match(plot.noBrowserMessage(), /apt-get install chromium[\s\S]*GENLAB_CHROMIUM/);
});

test(
  'figures script: named outputs of an executed notebook, repeated names numbered, ' +
    'unnamed counted',
  () => {
    const fig = plot.lines([{ x: [0, 1], y: [0, 1] }], { xTitle: 'x', yTitle: 'y' });
    const out = (kind: string, name: string | undefined, data: Record<string, unknown>) => ({
      output_type: 'display_data',
      data,
      metadata: { genlab: { kind, ...(name ? { name } : {}) } },
    });
    const nb = {
      cells: [
        {
          cell_type: 'code',
          outputs: [
            out('figure', 'loss', { [plot.PLOTLY_MIME]: fig }),
            out('figure', undefined, { [plot.PLOTLY_MIME]: fig }),
          ],
        },
        {
          cell_type: 'code',
          outputs: [
            out('figure', 'loss', { [plot.PLOTLY_MIME]: fig }),
            out('image', 'digits', { 'image/png': 'AAAA' }),
          ],
        },
        {
          cell_type: 'code',
          outputs: [
            out('table', 'history', plot.tableBundle([{ a: 1 }])),
            { output_type: 'stream', text: 'x' },
          ],
        },
      ],
    };
    const { outputs, unnamed, renamed } = namedOutputs(nb);
    assert.deepEqual(
      outputs.map((o) => `${o.kind}:${o.name}`),
      ['figure:loss', 'figure:loss-2', 'image:digits', 'table:history'],
    );
    assert.equal(unnamed, 1);
    assert.deepEqual(renamed, ['loss -> loss-2']);
  },
);
