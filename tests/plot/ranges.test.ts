import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plot } from 'genlab';

const points = () =>
  plot.scatter([{ name: 'a', x: [0, 1], y: [2, 3] }], { xTitle: 'x', yTitle: 'y', logY: true });

test('withAxisRanges fixes the ranges of a new figure and leaves the given one unchanged', () => {
  const original = points();
  const fixed = plot.withAxisRanges(original, { x: [-2, 2], y: [1, 100] });
  const xaxis = fixed.layout.xaxis as Record<string, unknown>;
  const yaxis = fixed.layout.yaxis as Record<string, unknown>;
  assert.deepEqual(xaxis.range, [-2, 2]);
  // plotly takes a log axis's range as powers of ten
  assert.deepEqual(yaxis.range, [0, 2]);
  assert.equal(yaxis.type, 'log');
  assert.equal((xaxis.title as { text: string }).text, 'x');
  assert.equal((original.layout.xaxis as Record<string, unknown>).range, undefined);
  const onlyX = plot.withAxisRanges(original, { x: [0, 1] });
  assert.equal((onlyX.layout.yaxis as Record<string, unknown>).range, undefined);
});

test('withAxisRanges rejects bad ranges and options, naming them', () => {
  const fig = points();
  assert.throws(() => plot.withAxisRanges(fig, { x: [2, 1] }), /x must be \[low, high\]/);
  assert.throws(() => plot.withAxisRanges(fig, { y: [0, NaN] }), /y must be \[low, high\]/);
  assert.throws(
    () => plot.withAxisRanges(fig, { x: [0, 1, 2] as never }),
    /x must be \[low, high\]/,
  );
  assert.throws(() => plot.withAxisRanges(fig, { y: [0, 10] }), /y is a log axis/);
  assert.throws(() => plot.withAxisRanges(fig, { z: [0, 1] } as never), /unknown option/);
  assert.throws(() => plot.withAxisRanges({} as plot.Figure, {}), /expected a plotly figure/);
});
