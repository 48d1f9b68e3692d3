import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models } from 'genlab';

const { histogramDensity, densityPanels } = models.flows;

test('histogramDensity integrates to the fraction of points inside the window', () => {
  // 3 points inside [-1, 1]², 1 outside: the density sums (times cell area) to 3/4
  const points = [0.1, 0.2, -0.5, 0.5, 0.9, -0.9, 3, 0];
  const { x, z } = histogramDensity(points, 1, 4);
  assert.deepEqual(x, [-0.75, -0.25, 0.25, 0.75]);
  const mass = z.flat().reduce((s, v) => s + v, 0) * 0.5 * 0.5;
  assert.ok(Math.abs(mass - 0.75) < 1e-12);
  // (0.1, 0.2) falls in column 2 (z1 in [0, 0.5)) and row 2 (z2 in [0, 0.5))
  assert.equal(z[2][2], 1 / (4 * 0.25));
});

test('densityPanels lays out one heatmap per panel with its title', () => {
  const fig = densityPanels(
    [
      { title: 'a', z: [[1]] },
      { title: 'b', z: [[2]] },
    ],
    [0],
  );
  assert.equal(fig.data.length, 2);
  assert.equal(fig.data[1].xaxis, 'x2');
  assert.equal((fig.layout.xaxis as { title: { text: string } }).title.text, 'z₁');
  assert.deepEqual(
    (fig.layout.annotations as { text: string }[]).map((a) => a.text),
    ['a', 'b'],
  );
});

test('densityPanels draws a panel with its own cell centres on those, with the axis titles given', () => {
  const histogram = histogramDensity([0.1, 0.2], 1, 2);
  const fig = densityPanels(
    [
      {
        title: 'fine',
        z: [
          [1, 2, 3],
          [4, 5, 6],
          [7, 8, 9],
        ],
      },
      { title: 'histogram', ...histogram },
    ],
    [-0.5, 0, 0.5],
    { axisTitles: ['x₁', 'x₂'] },
  );
  assert.deepEqual(fig.data[0].x, [-0.5, 0, 0.5]);
  assert.deepEqual(fig.data[1].x, [-0.5, 0.5]);
  assert.deepEqual(fig.data[1].y, [-0.5, 0.5]);
  assert.equal((fig.layout.xaxis2 as { title: { text: string } }).title.text, 'x₁');
  assert.equal((fig.layout.yaxis as { title: { text: string } }).title.text, 'x₂');
});

test('figure helpers reject bad inputs with messages that name the parameter', () => {
  assert.throws(
    () => histogramDensity([0, 0, 1], 1, 4),
    /points must hold \[n, 2\] coordinates, got 3 numbers/,
  );
  assert.throws(() => histogramDensity([0, 0], 0, 4), /halfWidth must be > 0, got 0/);
  assert.throws(() => histogramDensity([0, 0], 1, 0), /bins must be a positive integer, got 0/);
  assert.throws(() => densityPanels([], [0]), /densityPanels needs at least one panel/);
  assert.throws(
    () => densityPanels([{ title: 'histogram', z: histogramDensity([0, 0], 1, 2).z }], [0, 1, 2]),
    /panel 'histogram' has a 2 x 2 grid for 3 cell centres per axis; give the panel its own x/,
  );
});
