import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models, runtime, tf } from 'genlab';

const ebm = models.ebm;
// E(x) = ½ ‖x‖²: a Langevin step is x ← (1 − ε/2) x + √ε ξ, so E[x_t] = (1 − ε/2)^t x_0
const quadratic = (x: tf.Tensor2D) =>
  tf.tidy(() => tf.mul(0.5, tf.sum(tf.square(x), 1)) as tf.Tensor1D);

test('langevinPaths: each path starts at its start; the mean follows (1 − ε/2)^t x₀', () => {
  const start = [2, -1];
  const starts = Array.from({ length: 4000 }, () => start);
  runtime.seed(3);
  const tensors = tf.memory().numTensors;
  const paths = ebm.langevinPaths(quadratic, starts, { steps: 5, stepSize: 0.1 });
  assert.equal(tf.memory().numTensors, tensors, 'langevinPaths must free its tensors');
  assert.equal(paths.length, 4000);
  assert.ok(paths.every((p) => p.length === 6 && p[0][0] === 2 && p[0][1] === -1));
  for (const t of [1, 5]) {
    // each coordinate's spread after t steps is below √(tε) = 0.71: s.e. of the mean < 0.012
    const decay = 0.95 ** t;
    [0, 1].forEach((j) => {
      const mean = paths.reduce((s, p) => s + p[t][j], 0) / paths.length;
      assert.ok(Math.abs(mean - decay * start[j]) < 0.05, `step ${t}, coordinate ${j}: ${mean}`);
    });
  }
  // the paths end where langevin itself ends with the same seed
  runtime.seed(3);
  const ends = ebm.langevin(quadratic, tf.tensor2d(starts), { steps: 5, stepSize: 0.1 });
  assert.deepEqual(
    paths.map((p) => p[5]),
    ends.arraySync(),
  );
  tf.dispose(ends);
});

test('totalVariationOf: exact draws are close, shifted draws far; nothing leaks', () => {
  const density = ebm.normalizeOnGrid((x) => tf.neg(quadratic(x)), 4, 20);
  runtime.seed(4);
  const tensors = tf.memory().numTensors;
  const exact = ebm.totalVariationOf(() => ebm.sampleFromGrid(density, 20000), density);
  const shifted = ebm.totalVariationOf(
    () => tf.add(ebm.sampleFromGrid(density, 20000), tf.tensor1d([2, 0])),
    density,
  );
  assert.equal(tf.memory().numTensors, tensors, 'totalVariationOf must free what draw makes');
  // 400 cells, 20,000 draws: the sampling floor is about ½ Σ √(p_c / n) < 0.06
  assert.ok(exact < 0.06, `exact draws: ${exact}`);
  // N(0, I) against N((2, 0), I): TV = 2Φ(1) − 1 = 0.683
  assert.ok(Math.abs(shifted - 0.683) < 0.05, `shifted draws: ${shifted}`);
  runtime.seed(4);
  const points = ebm.sampleFromGrid(density, 20000);
  assert.equal(ebm.sampleTotalVariation(points, density), exact);
  points.dispose();
});

test('histogramOf is histogramDensity of the points', () => {
  const points = tf.tensor2d([
    [0.1, 0.2],
    [-0.5, 0.5],
    [3, 0],
  ]);
  assert.deepEqual(
    ebm.histogramOf(points, 1, 4),
    models.flows.histogramDensity([0.1, 0.2, -0.5, 0.5, 3, 0], 1, 4),
  );
  points.dispose();
});

test('the value helpers reject bad input at once, naming the problem', () => {
  const density = ebm.normalizeOnGrid((x) => tf.neg(quadratic(x)), 2, 4);
  const tensors = tf.memory().numTensors;
  const options = { steps: 2, stepSize: 0.1 };
  assert.throws(() => ebm.langevinPaths(quadratic, [], options), /non-empty list of points/);
  assert.throws(
    () => ebm.langevinPaths(quadratic, [[0, 0], [1]], options),
    /start 1 must be 2 finite numbers/,
  );
  assert.throws(() => ebm.langevinPaths(quadratic, [[0, NaN]], options), /start 0 must be 2/);
  assert.throws(
    () => ebm.langevinPaths(quadratic, [[0, 0]], { steps: 2, stepSize: -1 }),
    /stepSize/,
  );
  assert.throws(
    () => ebm.langevinPaths(quadratic, [[0, 0]], { ...options, stepsize: 1 } as never),
    /stepsize/,
  );
  assert.throws(
    () => ebm.totalVariationOf('points' as unknown as () => tf.Tensor2D, density),
    /totalVariationOf: draw must be a function/,
  );
  assert.throws(
    () => ebm.totalVariationOf(() => [[0, 0]] as unknown as tf.Tensor2D, density),
    /draw must return a tensor of points/,
  );
  assert.throws(
    () => ebm.totalVariationOf(() => tf.zeros([3, 3]) as tf.Tensor2D, density),
    /expected points \[n, 2\]/,
  );
  const line = tf.zeros([4]);
  assert.throws(
    () => ebm.histogramOf(line as unknown as tf.Tensor2D, 1, 4),
    /histogramOf\(points\): expected points \[n, 2\]/,
  );
  line.dispose();
  assert.equal(tf.memory().numTensors, tensors, 'failed calls must not leak tensors');
});
