import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distributions } from 'genlab';

const { klMonteCarloErrorFigure, klToStandardNormalFigure } = distributions;

type Trace = Record<string, unknown> & { name?: string; x: number[]; y: number[] };
const traces = (fig: { data: unknown[] }) => fig.data as Trace[];
const axis = (fig: { layout: Record<string, unknown> }, name: 'xaxis' | 'yaxis') =>
  fig.layout[name] as { title: { text: string }; type?: string };

test('klMonteCarloErrorFigure: one line per pair and a 1/√N line through the first point', () => {
  const sizes = [10, 40, 160];
  const fig = klMonteCarloErrorFigure(
    sizes,
    [
      { name: '1-D', rmse: [0.2, 0.1, 0.05] },
      { name: 'full', rmse: [0.4, 0.2, 0.1] },
    ],
    20,
  );
  const data = traces(fig);
  assert.deepEqual(
    data.map((t) => t.name),
    ['1-D', 'full', '∝ 1/√N'],
  );
  assert.deepEqual(data[1].y, [0.4, 0.2, 0.1]);
  // quadrupling N halves the reference line, which starts at the first pair's first error
  const reference = data[2].y;
  assert.equal(reference[0], 0.2);
  for (let i = 1; i < sizes.length; i++)
    assert.ok(Math.abs(reference[i] / reference[i - 1] - 0.5) < 1e-12);
  assert.equal(axis(fig, 'xaxis').title.text, 'samples N');
  assert.equal(axis(fig, 'yaxis').title.text, 'RMSE (nats)');
  assert.deepEqual([axis(fig, 'xaxis').type, axis(fig, 'yaxis').type], ['log', 'log']);
  assert.match((fig.layout.title as { text: string }).text, /RMSE over 20 repeats/);
});

test('klMonteCarloErrorFigure: refuses no pairs, a length mismatch, bad sizes and repeats', () => {
  assert.throws(() => klMonteCarloErrorFigure([10], [], 5), /no pairs to draw/);
  assert.throws(
    () => klMonteCarloErrorFigure([10, 100], [{ name: 'a', rmse: [0.1] }], 5),
    /'a' has 1 errors for 2 sample sizes/,
  );
  assert.throws(
    () => klMonteCarloErrorFigure([0, 100], [{ name: 'a', rmse: [0.1, 0.01] }], 5),
    /sample sizes must be positive/,
  );
  assert.throws(
    () => klMonteCarloErrorFigure([10], [{ name: 'a', rmse: [0.1] }], 2.5),
    /repeats must be a positive integer, got 2.5/,
  );
});

test('klToStandardNormalFigure: log10 of the KL grid and the marked minimum', () => {
  const grid = {
    mus: [-1, 0, 1],
    sigmas: [0.5, 1],
    kl: [
      [0.9, 0.4, 0.9],
      [0.5, 0, 0.5],
    ],
  };
  const fig = klToStandardNormalFigure(grid, { mu: 0, sigma: 1 });
  const [heat, minimum] = traces(fig);
  assert.equal(heat.type, 'heatmap');
  const z = heat.z as number[][];
  assert.ok(Math.abs(z[0][0] - Math.log10(0.9 + 1e-6)) < 1e-12);
  assert.equal(z[1][1], -6);
  assert.deepEqual([minimum.name, minimum.x, minimum.y], ['minimum', [0], [1]]);
  assert.equal(axis(fig, 'xaxis').title.text, 'μ');
  assert.equal(axis(fig, 'yaxis').title.text, 'σ');
});

test('klToStandardNormalFigure: refuses NaN and a grid of the wrong shape', () => {
  const minimum = { mu: 0, sigma: 1 };
  assert.throws(
    () => klToStandardNormalFigure({ mus: [0, 1], sigmas: [1], kl: [[0, NaN]] }, minimum),
    /the KL grid holds NaN/,
  );
  assert.throws(
    () => klToStandardNormalFigure({ mus: [0, 1], sigmas: [1, 2], kl: [[0, 1]] }, minimum),
    /z must have 2 rows/,
  );
});
