import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models, runtime, samplers, tf } from 'genlab';

const { FullyVisibleBM } = models.boltzmann;

/** log Z by a plain loop over the 2^d states: E(y) = -(1/2 y^T W y + b^T y). */
function bruteLogZ(w: number[][], b: number[]): number {
  const d = b.length;
  let z = 0;
  for (let s = 0; s < 2 ** d; s++) {
    const y = Array.from({ length: d }, (_, i) => (s >> i) & 1);
    let e = 0;
    for (let i = 0; i < d; i++) {
      e -= b[i] * y[i];
      for (let j = 0; j < d; j++) e -= 0.5 * w[i][j] * y[i] * y[j];
    }
    z += Math.exp(-e);
  }
  return Math.log(z);
}

test('FVBM: symmetric zero-diagonal weights, log Z by enumeration matches a plain loop', async () => {
  await runtime.init({ seed: 0, report: false });
  const m = FullyVisibleBM.random(6, 1, 0.5);
  const w = m.weights.arraySync();
  for (let i = 0; i < 6; i++) {
    assert.equal(Math.abs(w[i][i]), 0);
    for (let j = 0; j < 6; j++) assert.equal(w[i][j], w[j][i]);
  }
  const expected = bruteLogZ(w, m.bias.arraySync());
  assert.ok(Math.abs(m.logPartition() - expected) < 1e-4, `${m.logPartition()} vs ${expected}`);
  const p = m.probabilities();
  assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  m.dispose();
});

test('FVBM: exact gradient equals finite differences of the average log-likelihood', async () => {
  await runtime.init({ seed: 1, report: false });
  const m = FullyVisibleBM.random(5, 0.7, 0.5);
  const truth = FullyVisibleBM.random(5, 1, 0.5);
  const data = truth.sample(64);
  const g = m.exactGradient(data);
  const gw = g.weights.arraySync();
  const gb = g.bias.arraySync();
  const w0 = m.weights.arraySync();
  const b0 = m.bias.arraySync();
  const eps = 1e-2;
  const ll = (w: number[][], b: number[]) => {
    const probe = new FullyVisibleBM(tf.tensor2d(w), tf.tensor1d(b));
    const v = probe.logLikelihood(data);
    probe.dispose();
    return v;
  };
  // W_ij and W_ji are one parameter (the pair moves together), entering E as -W_ij y_i y_j.
  const shifted = (i: number, j: number, s: number) =>
    w0.map((r, a) => r.map((x, c) => x + ((a === i && c === j) || (a === j && c === i) ? s : 0)));
  for (const [i, j] of [
    [0, 1],
    [2, 4],
    [1, 3],
  ]) {
    const fd = (ll(shifted(i, j, eps), b0) - ll(shifted(i, j, -eps), b0)) / (2 * eps);
    assert.ok(Math.abs(fd - gw[i][j]) < 2e-3, `W[${i}][${j}]: ${fd} vs ${gw[i][j]}`);
  }
  for (const i of [0, 3]) {
    const fd =
      (ll(
        w0,
        b0.map((x, k) => x + (k === i ? eps : 0)),
      ) -
        ll(
          w0,
          b0.map((x, k) => x - (k === i ? eps : 0)),
        )) /
      (2 * eps);
    assert.ok(Math.abs(fd - gb[i]) < 2e-3, `b[${i}]: ${fd} vs ${gb[i]}`);
  }
  tf.dispose([g.weights, g.bias, data]);
  m.dispose();
  truth.dispose();
});

test('FVBM: Gibbs samples match the enumerated distribution and the Gibbs gradient is unbiased', async () => {
  await runtime.init({ seed: 2, report: false });
  const m = FullyVisibleBM.random(4, 1, 0.5);
  const data = m.sample(32);
  const chains = 4000;
  const start = tf.tidy(() =>
    tf.cast(tf.less(tf.randomUniform([chains, 4]), 0.5), 'float32'),
  ) as tf.Tensor2D;
  const exact = m.exactGradient(data);
  const est = m.gibbsGradient(data, start, 25);
  // Frequencies of the 16 states among the chains vs P(y).
  const states = est.chains.arraySync();
  const codes = states.map((y) => y.reduce((s, yi, i) => s + (yi << i), 0));
  const tv = samplers.totalVariation(samplers.frequencies(codes, 16), m.probabilities());
  // With 4000 independent draws over 16 states, E[TV] ~ 0.025; 0.06 leaves a wide margin.
  assert.ok(tv < 0.06, `TV ${tv}`);
  // Each model correlation is a mean of 4000 Bernoulli draws: standard error <= 0.5 / sqrt(4000) =
  // 0.008.
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(exact.weights, est.weights))).dataSync()[0]);
  assert.ok(diff < 0.04, `max |exact - Gibbs| gradient ${diff}`);
  tf.dispose([exact.weights, exact.bias, est.weights, est.bias, est.chains, start, data]);
  m.dispose();
});

test(
  'FVBM: gradient ascent with the exact gradient increases the likelihood, without ' +
    'leaking tensors',
  async () => {
    await runtime.init({ seed: 3, report: false });
    const truth = FullyVisibleBM.random(6, 1, 0.5);
    const data = truth.sample(500);
    const m = FullyVisibleBM.zeros(6);
    const before = m.logLikelihood(data);
    const tensors = tf.memory().numTensors;
    for (let t = 0; t < 30; t++) m.applyGradient(m.exactGradient(data), 0.5);
    assert.equal(tf.memory().numTensors, tensors);
    const after = m.logLikelihood(data);
    assert.ok(after > before + 0.1, `${before} -> ${after}`);
    assert.ok(m.klFrom(truth) < truth.klFrom(m) + 10 && m.klFrom(truth) >= 0);
    tf.dispose(data);
    m.dispose();
    truth.dispose();
  },
);

test('FVBM rejects bad inputs', () => {
  assert.throws(() => FullyVisibleBM.zeros(21), /units must be in \[2, 20\]/);
  const m = FullyVisibleBM.zeros(3);
  const wrong = tf.zeros([2, 4]) as tf.Tensor2D;
  assert.throws(() => m.energy(wrong), /must be a \[batch, 3\] tensor/);
  assert.throws(
    () =>
      m.applyGradient(
        { weights: tf.zeros([3, 3]) as tf.Tensor2D, bias: tf.zeros([3]) as tf.Tensor1D },
        0,
      ),
    /learningRate must be > 0/,
  );
  assert.throws(() => m.sample(0), /n must be a positive integer/);
  assert.throws(
    () => new FullyVisibleBM(tf.zeros([3, 2]) as tf.Tensor2D, tf.zeros([3]) as tf.Tensor1D),
    /weights must be \[3, 3\]/,
  );
  tf.dispose(wrong);
  m.dispose();
});

test('FVBM: the Gibbs gradient error falls like 1/√C in the number of chains C', async () => {
  await runtime.init({ seed: 2, report: false });
  const m = FullyVisibleBM.random(6, 1, 0.5);
  const data = m.sample(500);
  const wrong = tf.zeros([2, 5]) as tf.Tensor2D;
  const before = tf.memory().numTensors;
  // Averaged over repeats, the RMS error with 64 times the chains is about 8 times smaller.
  const meanError = (chains: number) =>
    [1, 2, 3, 4].reduce((s) => s + m.gibbsGradientError(data, chains, 20), 0) / 4;
  const ratio = meanError(50) / meanError(3200);
  assert.ok(ratio > 5 && ratio < 12, `error ratio ${ratio} (theory 8)`);
  assert.equal(tf.memory().numTensors, before);
  runtime.seed(4);
  const once = m.gibbsGradientError(data, 10, 2);
  runtime.seed(4);
  assert.equal(m.gibbsGradientError(data, 10, 2), once, 'same seed, same number');
  assert.throws(() => m.gibbsGradientError(data, 10, 0), /gibbsGradientError: sweeps must be/);
  assert.throws(
    () => m.gibbsGradientError(data, 1.5, 1),
    /gibbsGradientError: chains must be a positive integer, got 1.5/,
  );
  assert.throws(
    () => m.gibbsGradientError(wrong, 10, 1),
    /gibbsGradientError\(data\) must be a \[batch, 6\] tensor/,
  );
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([data, wrong]);
  m.dispose();
});

test('FVBM: persistent chains under a fixed machine average to the exact gradient', async () => {
  await runtime.init({ seed: 3, report: false });
  const m = FullyVisibleBM.random(5, 1, 0.5);
  const data = m.sample(200);
  const exact = m.exactGradient(data);
  const before = tf.memory().numTensors;
  const persistent = new models.boltzmann.PersistentGibbsGradient(m, 200);
  let sum: tf.Tensor = tf.zerosLike(exact.weights);
  for (let t = 0; t < 60; t++) {
    const g = persistent.gradient(data);
    // The first sweeps leave the random start behind; the rest sample the machine's equilibrium.
    if (t >= 10) {
      const next = tf.add(sum, g.weights);
      sum.dispose();
      sum = next;
    }
    tf.dispose([g.weights, g.bias]);
  }
  const average = tf.div(sum, 50);
  const worst = tf.max(tf.abs(tf.sub(average, exact.weights))).dataSync()[0];
  assert.ok(worst < 0.02, `largest error of the averaged gradient ${worst}`);
  tf.dispose([sum, average]);
  persistent.dispose();
  assert.ok(tf.memory().numTensors <= before + 4, 'the chains are freed');
  assert.throws(
    () => new models.boltzmann.PersistentGibbsGradient(m, 10, 0),
    /PersistentGibbsGradient: sweeps must be a positive integer, got 0/,
  );
  assert.throws(() => new models.boltzmann.PersistentGibbsGradient(m, -1), /got -1/);
  tf.dispose([data, exact.weights, exact.bias]);
  m.dispose();
});
