import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distributions } from 'genlab';

const {
  elboAscentFigure,
  elboGapFigure,
  evidenceEstimatesFigure,
  klMonteCarloErrorFigure,
  klToStandardNormalFigure,
} = distributions;

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

test('elboGapFigure: log p(x) as a constant line, the ELBO and log p(x) − KL', () => {
  const ts = [0, 1, 2];
  const fig = elboGapFigure(ts, { elbo: [-5, -3, -4], viaKl: [-5, -3, -4] }, -3);
  const data = traces(fig);
  assert.deepEqual(
    data.map((t) => [t.name, t.y]),
    [
      ['log p(x) (exact)', [-3, -3, -3]],
      ['ELBO(q_t)', [-5, -3, -4]],
      ['log p(x) - KL(q_t || p(z|x))', [-5, -3, -4]],
    ],
  );
  assert.equal(axis(fig, 'yaxis').title.text, 'nats');
  assert.match(axis(fig, 'xaxis').title.text, /^t \(q_t has mean t times/);
});

test('elboGapFigure: refuses curves of the wrong length and a non-finite log p(x)', () => {
  assert.throws(
    () => elboGapFigure([0, 1], { elbo: [-5], viaKl: [-5, -3] }, -3),
    /the ELBO curve has 1 values, expected 2/,
  );
  assert.throws(
    () => elboGapFigure([0, 1], { elbo: [-5, -3], viaKl: [-5, -3] }, NaN),
    /log p\(x\) must be finite, got NaN/,
  );
});

test('elboAscentFigure: the ELBO per step under log p(x)', () => {
  const fig = elboAscentFigure([-6, -4, -3.5], -3.4);
  const [elbo, exact] = traces(fig);
  assert.deepEqual([elbo.name, elbo.x, elbo.y], ['ELBO(q)', [0, 1, 2], [-6, -4, -3.5]]);
  assert.deepEqual([exact.name, exact.y], ['log p(x)', [-3.4, -3.4, -3.4]]);
  assert.equal(axis(fig, 'xaxis').title.text, 'Adam step');
  assert.throws(() => elboAscentFigure([], -3.4), /no steps yet/);
  assert.throws(() => elboAscentFigure([-6], Infinity), /log p\(x\) must be finite/);
});

test('evidenceEstimatesFigure: Monte Carlo with error bars and three reference levels', () => {
  const sizes = [10, 100];
  const fig = evidenceEstimatesFigure(
    sizes,
    { mean: [-2.1, -2.0], spread: [0.3, 0.1] },
    { quadrature: -2, bestUniform: -2.05, prior: -2.5 },
  );
  const data = traces(fig);
  assert.deepEqual(
    data.map((t) => [t.name, t.y]),
    [
      ['Monte Carlo over the prior (mean ± sd of runs)', [-2.1, -2.0]],
      ['quadrature log p(x0)', [-2, -2]],
      ['ELBO, q = best uniform', [-2.05, -2.05]],
      ['ELBO, q = prior', [-2.5, -2.5]],
    ],
  );
  assert.deepEqual((data[0].error_y as { array: number[] }).array, [0.3, 0.1]);
  assert.equal(axis(fig, 'xaxis').title.text, 'Monte Carlo draws N');
  assert.equal(axis(fig, 'xaxis').type, 'log');
});

test('evidenceEstimatesFigure: refuses bad lengths, a negative spread, a NaN or misspelled level', () => {
  const levels = { quadrature: -2, bestUniform: -2.05, prior: -2.5 };
  assert.throws(
    () => evidenceEstimatesFigure([10, 100], { mean: [-2], spread: [0.1, 0.1] }, levels),
    /the Monte Carlo mean has 1 values, expected 2/,
  );
  assert.throws(
    () => evidenceEstimatesFigure([10], { mean: [-2], spread: [-0.1] }, levels),
    /a spread \(standard deviation\) must be >= 0/,
  );
  assert.throws(
    () => evidenceEstimatesFigure([10], { mean: [-2], spread: [0.1] }, { ...levels, prior: NaN }),
    /prior must be finite, got NaN/,
  );
  assert.throws(
    () =>
      evidenceEstimatesFigure([10], { mean: [-2], spread: [0.1] }, {
        ...levels,
        quadratur: -2,
      } as typeof levels),
    /evidenceEstimatesFigure: .*'quadratur'/,
  );
});
