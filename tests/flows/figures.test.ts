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
  assert.deepEqual(
    (fig.layout.annotations as { text: string }[]).map((a) => a.text),
    ['a', 'b'],
  );
});

test('figure helpers reject bad inputs with messages that name the parameter', () => {
  assert.throws(
    () => histogramDensity([0, 0, 1], 1, 4),
    /points must hold \[n, 2\] coordinates, got 3 numbers/,
  );
  assert.throws(() => histogramDensity([0, 0], 0, 4), /halfWidth must be > 0, got 0/);
  assert.throws(() => histogramDensity([0, 0], 1, 0), /bins must be a positive integer, got 0/);
  assert.throws(() => densityPanels([], [0]), /densityPanels needs at least one panel/);
});
