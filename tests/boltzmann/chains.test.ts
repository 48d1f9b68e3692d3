import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models, runtime, tf } from 'genlab';
import { captureLines, interruptAfter } from '../runtime/loop-helpers';

const { RBM, GaussianBernoulliRBM, gibbsSnapshots, filterImages } = models.boltzmann;

const bits = (s: number, n: number) => Array.from({ length: n }, (_, i) => (s >> i) & 1);

/** E_P[v] of a small binary RBM by summing over all (v, h). */
function exactVisibleMean(rbm: InstanceType<typeof RBM>): number[] {
  const [w, a, b] = [
    rbm.weights.arraySync(),
    rbm.visibleBias.arraySync(),
    rbm.hiddenBias.arraySync(),
  ];
  const [d, h] = [a.length, b.length];
  const mean = new Array(d).fill(0);
  let z = 0;
  for (let s = 0; s < 2 ** d; s++) {
    const v = bits(s, d);
    for (let t = 0; t < 2 ** h; t++) {
      const hh = bits(t, h);
      let minusE = 0;
      for (let i = 0; i < d; i++) minusE += a[i] * v[i];
      for (let j = 0; j < h; j++) minusE += b[j] * hh[j];
      for (let i = 0; i < d; i++) for (let j = 0; j < h; j++) minusE += v[i] * w[i][j] * hh[j];
      const p = Math.exp(minusE);
      z += p;
      v.forEach((vi, i) => (mean[i] += p * vi));
    }
  }
  return mean.map((m) => m / z);
}

const columnMeans = (rows: number[][]) =>
  rows[0].map((_, i) => rows.reduce((s, r) => s + r[i], 0) / rows.length);

test('gibbsSnapshots: E[v | h] of long chains averages to the exact E_P[v] of a small RBM', async () => {
  await runtime.init({ seed: 3, report: false });
  const rbm = RBM.random(4, 3, 1, 0.5);
  const exact = exactVisibleMean(rbm);
  const before = tf.memory().numTensors;
  const images = await gibbsSnapshots(rbm, 4000, [1, 30]);
  assert.equal(images.length, 8000);
  const late = columnMeans(images.slice(4000));
  late.forEach((m, i) =>
    assert.ok(Math.abs(m - exact[i]) < 0.02, `E[v_${i}]: ${m} vs ${exact[i]}`),
  );
  assert.equal(tf.memory().numTensors, before);
  runtime.seed(5);
  const again = await gibbsSnapshots(rbm, 3, [2, 5]);
  runtime.seed(5);
  assert.deepEqual(await gibbsSnapshots(rbm, 3, [2, 5]), again, 'same seed, same numbers');
  rbm.dispose();
});

test('gibbsSnapshots: step 0 is the start itself; Gaussian visible units average to E_P[v]', async () => {
  await runtime.init({ seed: 4, report: false });
  const rbm = RBM.random(3, 2, 1, 0.5);
  const start = Float32Array.from([1, 0, 1, 0, 0, 1]);
  const images = await gibbsSnapshots(rbm, start, [0, 1]);
  assert.deepEqual(images.slice(0, 2), [
    [1, 0, 1],
    [0, 0, 1],
  ]);
  assert.equal(images.length, 4);
  rbm.dispose();

  // E_P[v] = Σ_h P(h) (a + σ ⊙ W h), P(h) ∝ exp(b·h + Σ_i ((W h)_i² + 2 a_i (W h)_i / σ_i) / 2)
  const gb = new GaussianBernoulliRBM(2, 3, {
    sigma: tf.tensor1d([0.7, 1.3]),
    visibleBias: tf.tensor1d([0.4, -0.3]),
    weightScale: 0.8,
  });
  gb.hiddenBias.assign(tf.tensor1d([0.5, -1, 0.2]));
  const [w, a, b] = [gb.weights.arraySync(), gb.visibleBias.arraySync(), gb.hiddenBias.arraySync()];
  const sigma = gb.sigma.arraySync();
  const exact = [0, 0];
  let z = 0;
  for (let t = 0; t < 8; t++) {
    const h = bits(t, 3);
    const wh = w.map((row) => row.reduce((s, x, j) => s + x * h[j], 0));
    const logP =
      b.reduce((s, x, j) => s + x * h[j], 0) +
      wh.reduce((s, x, i) => s + (x * x + (2 * a[i] * x) / sigma[i]) / 2, 0);
    z += Math.exp(logP);
    wh.forEach((x, i) => (exact[i] += Math.exp(logP) * (a[i] + sigma[i] * x)));
  }
  const means = columnMeans((await gibbsSnapshots(gb, 4000, [40])) as number[][]);
  means.forEach((m, i) => assert.ok(Math.abs(m - exact[i] / z) < 0.05, `${m} vs ${exact[i] / z}`));
  gb.dispose();
});

test('gibbsSnapshots: an interrupt returns the snapshots taken before it', async () => {
  await runtime.init({ seed: 0, report: false });
  const rbm = RBM.random(4, 3, 1, 0.5);
  const stop = interruptAfter(3);
  const sampleHidden = rbm.sampleHidden.bind(rbm);
  rbm.sampleHidden = (v) => {
    const h = sampleHidden(v);
    stop.hook();
    return h;
  };
  const tensors = tf.memory().numTensors;
  const { value, lines } = await captureLines(() => gibbsSnapshots(rbm, 5, [0, 2, 10]));
  runtime.loopRegistry().reset();
  assert.equal(value.length, 10, 'the start and the snapshot after 2 steps');
  assert.deepEqual(lines, [
    'Gibbs sampling: stopped at step 3/10 (interrupted); ' +
      'the figure shows the snapshots taken before',
  ]);
  assert.equal(tf.memory().numTensors, tensors);
  rbm.dispose();
});

test('filterImages gives W[:, j] per hidden unit; bad inputs are named', async () => {
  await runtime.init({ seed: 0, report: false });
  const rbm = RBM.random(5, 3, 1, 0.5);
  const w = rbm.weights.arraySync();
  assert.deepEqual(
    filterImages(rbm, 2),
    [0, 1].map((j) => w.map((row) => row[j])),
  );
  assert.throws(() => filterImages(rbm, 4), /count must be an integer in \[1, 3\].*got 4/);
  assert.throws(() => filterImages(rbm, 0), /got 0/);
  const bad = /after must be increasing step counts >= 0/;
  await assert.rejects(gibbsSnapshots(rbm, 2, [3, 3]), bad);
  await assert.rejects(gibbsSnapshots(rbm, 2, [-1]), bad);
  await assert.rejects(gibbsSnapshots(rbm, 2, []), bad);
  await assert.rejects(gibbsSnapshots(rbm, 0, [1]), /number of chains must be a positive integer/);
  await assert.rejects(
    gibbsSnapshots(rbm, new Float32Array(7), [1]),
    /start must be a number of chains or a Float32Array of whole images of 5 values/,
  );
  await assert.rejects(gibbsSnapshots(rbm, NaN, [1]), /got NaN/);
  rbm.dispose();
});
