import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models } from 'genlab';

const { ascentGapFigure, likelihoodSurfaceFigure } = models.gaussian;

type Trace = Record<string, unknown> & { name?: string; x: number[]; y: number[] };
const traces = (fig: { data: unknown[] }) => fig.data as Trace[];
const axisTitle = (fig: { layout: Record<string, unknown> }, axis: 'xaxis' | 'yaxis') =>
  (fig.layout[axis] as { title: { text: string } }).title.text;

test('ascentGapFigure: the gaps floored at the resolution, and the resolution line', () => {
  const fig = ascentGapFigure([0, 1, 2, 3], [0.5, 1e-3, 0, -2e-7], 1e-6);
  const [ascent, floor] = traces(fig);
  assert.equal(ascent.name, 'gradient ascent');
  assert.deepEqual(ascent.x, [0, 1, 2, 3]);
  // zero and negative gaps (round-off) land on the resolution line, which a log axis can draw
  assert.deepEqual(ascent.y, [0.5, 1e-3, 1e-6, 1e-6]);
  assert.equal(floor.name, 'float32 resolution of ℓ/N');
  assert.deepEqual(
    [floor.x, floor.y],
    [
      [0, 3],
      [1e-6, 1e-6],
    ],
  );
  assert.equal(axisTitle(fig, 'xaxis'), 'Adam step');
  assert.equal(axisTitle(fig, 'yaxis'), 'ℓ(θ̂)/N − ℓ(θ)/N (nats)');
  assert.equal((fig.layout.yaxis as { type: string }).type, 'log');
});

test('ascentGapFigure: refuses mismatched lengths, a bad resolution and NaN gaps', () => {
  assert.throws(() => ascentGapFigure([0, 1], [0.5], 1e-6), /2 steps and 1 gaps/);
  assert.throws(() => ascentGapFigure([], [], 1e-6), /at least one/);
  assert.throws(
    () => ascentGapFigure([0], [0.5], -1),
    /resolution must be positive and finite, got -1/,
  );
  assert.throws(() => ascentGapFigure([0, 10], [0.5, NaN], 1e-6), /the gap at step 10 is NaN/);
});

const grid = {
  mus: [0, 1, 2],
  sigmas: [0.5, 1],
  average: [
    [-3, -2, -3],
    [-2, -1.5, -2],
  ],
};
const marks = {
  path: [
    { mu: 0, sigma: 1 },
    { mu: 0.5, sigma: 0.9 },
    { mu: 1, sigma: 0.8 },
  ],
  mle: { mu: 1, sigma: 0.8 },
  floor: -4,
  maximum: -1.4,
};

test('likelihoodSurfaceFigure: contours from floor to maximum, the path and the MLE', () => {
  const fig = likelihoodSurfaceFigure(grid, marks);
  const [surface, path, mle] = traces(fig);
  assert.equal(surface.type, 'contour');
  assert.deepEqual(surface.z, grid.average);
  assert.deepEqual(surface.contours, { start: -4, end: -1.4, size: 0.1 });
  assert.deepEqual([path.name, path.x, path.y], ['Adam path', [0, 0.5, 1], [1, 0.9, 0.8]]);
  assert.deepEqual([mle.name, mle.x, mle.y], ['MLE', [1], [0.8]]);
  assert.equal(axisTitle(fig, 'xaxis'), 'μ');
  assert.equal(axisTitle(fig, 'yaxis'), 'σ');
  assert.equal(fig.layout.showlegend, true);
});

test('likelihoodSurfaceFigure: refuses a misspelled mark, levels upside down, a bad grid', () => {
  assert.throws(
    () => likelihoodSurfaceFigure(grid, { ...marks, maximun: -1 } as typeof marks),
    /likelihoodSurfaceFigure: .*'maximun'/,
  );
  assert.throws(
    () => likelihoodSurfaceFigure(grid, { ...marks, floor: -1 }),
    /floor \(-1\) must lie below maximum \(-1.4\)/,
  );
  assert.throws(
    () => likelihoodSurfaceFigure(grid, { ...marks, mle: { mu: 1, sigma: -0.8 } }),
    /sigma must be positive, got -0.8/,
  );
  assert.throws(
    () => likelihoodSurfaceFigure({ ...grid, sigmas: [1] }, marks),
    /z must have 1 rows \(one per y\) of 3 values/,
  );
});
