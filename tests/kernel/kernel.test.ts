/**
 * The kit's kernel: source maps back to cell lines, the patched tslab (the `{ a }` shorthand across
 * cells, cell lines of errors), error reports for students, and static figure images.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ts from 'typescript';
import { createConverter } from 'tslab/dist/converter';
import { createExecutor } from 'tslab/dist/executor';
import { CellRegistry, compileErrorReport, runtimeErrorReport } from '../../scripts/kernel/errors';
import { DisplayContent, PngRenderer, StaticFigureImages } from '../../scripts/kernel/figures';
import { decodeSourceMap, originalPosition } from '../../scripts/kernel/sourcemap';
import { plot } from 'genlab';

test('source maps: every statement of compiled TypeScript maps back to its own line', () => {
  const source = [
    'const a: number = 1;',
    '',
    '// a comment',
    'interface P { x: number }',
    'function f(p: P): number {',
    '  return p.x * a; // line 6',
    '}',
    'f({ x: 2 });',
  ].join('\n');
  const out = ts.transpileModule(source, {
    compilerOptions: { sourceMap: true, target: ts.ScriptTarget.ES2020 },
  });
  const map = decodeSourceMap(out.sourceMapText!);
  const js = out.outputText.split('\n');
  const lineOf = (text: string) => js.findIndex((l) => l.includes(text));
  for (const [text, line] of [
    ['const a = 1', 1],
    ['return p.x * a', 6],
    ['f({ x: 2 })', 8],
  ] as const) {
    const at = lineOf(text);
    assert.ok(at >= 0, text);
    assert.equal(originalPosition(map, at, js[at].indexOf(text))?.line, line - 1, text);
  }
  assert.equal(originalPosition(map, js.length + 5, 0), null, 'a line past the end');
  assert.throws(() => decodeSourceMap('{"mappings": "AA!A"}'), /'!' is not a base-64 digit/);
  assert.throws(() => decodeSourceMap('{"mappings": "AAg"}'), /ends inside a number/);
  assert.throws(() => decodeSourceMap('{}'), /no mappings string/);
});

test('patched tslab: { a } of an earlier cell, and errors at the cell lines', async () => {
  const converter = createConverter({ isJS: false, isBrowser: false });
  const cells = new CellRegistry();
  const printed: string[] = [];
  let thrown: unknown;
  let file = '';
  const convert = converter.convert.bind(converter);
  converter.convert = (prev, src) => {
    const r = convert(prev, src);
    if (r.output !== undefined)
      cells.add(file, {
        label: file,
        source: src,
        sourceMaps: r.sourceMaps,
        sourceLineOffset: 1,
        firstLineColumns: (r.hasToplevelAwait ? '(async ' : '').length + 30,
      });
    return r;
  };
  const executor = createExecutor(
    process.cwd(),
    { node: converter, browser: converter, close: () => converter.close() },
    { log: (...a: unknown[]) => printed.push(a.map(String).join(' ')), error: (e) => (thrown = e) },
  );
  const run = (name: string, src: string) => {
    file = name;
    thrown = undefined;
    return executor.execute(src, { filename: name });
  };
  try {
    assert.ok(await run('c1', 'const a = 41;\nlet b = 1;'));
    assert.ok(await run('c2', 'const o = { a, c: a + 1 };\n({ b } = { b: 7 });'));
    assert.deepEqual(executor.locals.o, { a: 41, c: 42 }, '{ a } reads the earlier cell');
    assert.equal(executor.locals.b, 7, 'a shorthand assignment target writes the earlier cell');
    assert.ok(await run('c3', 'function f(s: number) {\n\n  throw new RangeError(`bad ${s}`);\n}'));
    assert.equal(
      await run('c4', '// call it\nconst k = 2;\nawait Promise.resolve();\nf(k);'),
      false,
    );
    assert.ok(thrown instanceof RangeError);
    assert.deepEqual(cells.frames((thrown as Error).stack!), [
      { file: 'c3', line: 3 },
      { file: 'c4', line: 4 },
    ]);
    const report = runtimeErrorReport(thrown, cells, 'c4');
    assert.deepEqual(report.traceback, [
      'RangeError: bad 2',
      '    at line 3 of c3: throw new RangeError(`bad ${s}`);',
      '    at line 4 of this cell: f(k);',
    ]);
    const full = runtimeErrorReport(thrown, cells, 'c4', true).traceback.join('\n');
    assert.match(full, /at (Proxy\.)?f \(c3, line 3\)/);
    assert.match(full, /c4, line 4/);
  } finally {
    converter.close();
  }
});

test('error reports: compile problems merged per position, at most 8 lines; odd values', () => {
  const source = "const x: number = 'a';\nconst y = z;\nw;\nv;\nu;";
  const report = compileErrorReport(
    [
      { file: '', line: 1, column: 7, message: "Type 'string' is not assignable" },
      { file: '', line: 1, column: 7, message: "to type 'number'." },
      { file: '', line: 2, column: 11, message: "Cannot find name 'z'." },
      { file: '', line: 3, column: 1, message: "Cannot find name 'w'." },
      { file: '', line: 4, column: 1, message: "Cannot find name 'v'." },
    ],
    source,
  );
  assert.equal(report.ename, 'CompileError');
  assert.equal(report.evalue, "Type 'string' is not assignable to type 'number'.");
  assert.deepEqual(report.traceback, [
    "CompileError: Type 'string' is not assignable to type 'number'.",
    "    at line 1 of this cell: const x: number = 'a';",
    "CompileError: Cannot find name 'z'.",
    '    at line 2 of this cell: const y = z;',
    "CompileError: Cannot find name 'w'.",
    '    at line 3 of this cell: w;',
    '... and 1 more',
  ]);
  const cells = new CellRegistry();
  assert.deepEqual(runtimeErrorReport('just a string', cells, 'c1').traceback, [
    'Error: just a string',
  ]);
  const interrupted = runtimeErrorReport(new Error('Interrupted asynchronously'), cells, 'c1');
  assert.equal(interrupted.ename, 'Interrupted');
  assert.match(interrupted.traceback[0], /Kernel > Restart stops everything/);
});

const FIG = plot.lines([{ x: [0, 1], y: [1, 0] }], { xTitle: 'x', yTitle: 'y', width: 300 });

function figureContent(fig: plot.Figure, displayId?: string): DisplayContent {
  return {
    data: { [plot.PLOTLY_MIME]: fig, 'text/plain': '<figure>' },
    metadata: { genlab: { kind: 'figure' } },
    transient: displayId ? { display_id: displayId } : {},
  };
}

/** A renderer whose PNGs are the figure's title, released one at a time by `release()`. */
function fakeRenderer() {
  const waiting: Array<() => void> = [];
  const rendered: string[] = [];
  const renderer: PngRenderer = {
    png: (fig) =>
      new Promise((resolve) => {
        waiting.push(() => {
          const title = JSON.stringify((fig as plot.Figure).data[0].y);
          rendered.push(title);
          resolve(Buffer.from(title));
        });
      }),
    close: async () => undefined,
  };
  const release = async () => {
    while (waiting.length === 0) await new Promise((r) => setImmediate(r));
    waiting.shift()!();
  };
  return { renderer, rendered, release };
}

test('static figure images: sent at once, PNG added in place, live updates coalesced', async () => {
  const { renderer, rendered, release } = fakeRenderer();
  const warnings: string[] = [];
  const images = new StaticFigureImages(
    async () => renderer,
    (w) => warnings.push(w),
    true,
  );
  const sent: Array<[DisplayContent, boolean]> = [];
  const send = (c: DisplayContent, update: boolean) => sent.push([c, update]);
  images.show({ data: { 'text/plain': 'hi' }, metadata: {}, transient: {} }, false, send);
  assert.equal(sent.length, 1, 'other outputs pass through');
  images.show(figureContent(FIG), false, send);
  const id = sent[1][0].transient.display_id!;
  assert.ok(id, 'a figure without a display id gets one, to be updated in place');
  assert.equal(sent[1][0].data['image/png'], undefined, 'the figure goes out at once');
  // A live figure: three versions while the first renders; only the newest gets an image.
  const live = (y: number[]) => ({ ...FIG, data: [{ ...FIG.data[0], y }] });
  images.show(figureContent(live([1]), 'live'), false, send);
  images.show(figureContent(live([2]), 'live'), true, send);
  images.show(figureContent(live([3]), 'live'), true, send);
  const flushed = images.flush();
  for (let i = 0; i < 3; i++) await release();
  await flushed;
  assert.deepEqual(rendered, ['[1,0]', '[1]', '[3]'], 'version [2] was never rendered');
  const updates = sent.filter(([c, u]) => u && c.data['image/png'] !== undefined);
  assert.deepEqual(
    updates.map(([c]) => [
      c.transient.display_id,
      Buffer.from(String(c.data['image/png']), 'base64').toString(),
    ]),
    [
      [id, '[1,0]'],
      ['live', '[3]'],
    ],
  );
  assert.deepEqual(updates[0][0].metadata['image/png'], { width: 300, height: FIG.layout.height });
  assert.deepEqual(warnings, []);
});

test('static figure images: no browser gives one warning and figures without images', async () => {
  const warnings: string[] = [];
  const images = new StaticFigureImages(
    async () => {
      throw new Error('no Chromium-based browser\nInstall one');
    },
    (w) => warnings.push(w),
    true,
  );
  const sent: DisplayContent[] = [];
  for (let i = 0; i < 3; i++) images.show(figureContent(FIG), false, (c) => sent.push(c));
  await images.flush();
  assert.equal(sent.length, 3);
  assert.ok(sent.every((c) => c.data['image/png'] === undefined));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /figures get no static image .*: no Chromium-based browser$/);
  const off = new StaticFigureImages(
    async () => assert.fail('GENLAB_STATIC_FIGURES=0 launches no browser'),
    () => undefined,
    false,
  );
  const content = figureContent(FIG);
  off.show(content, false, (c) => assert.equal(c, content));
  await off.flush();
});
