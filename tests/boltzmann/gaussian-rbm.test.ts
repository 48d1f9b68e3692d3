import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { models, runtime, tf, training } from 'genlab';

const { GaussianBernoulliRBM, CdTrainer, binaryStates, pixelMoments, trainOrLoadGaussianRbm } =
  models.boltzmann;
type GbRbm = InstanceType<typeof GaussianBernoulliRBM>;

/** A random 2 x 3 model with unequal σ. */
function tinyModel(): GbRbm {
  const rbm = new GaussianBernoulliRBM(2, 3, {
    sigma: tf.tensor1d([0.7, 1.3]),
    visibleBias: tf.tensor1d([0.4, -0.3]),
    weightScale: 0.8,
  });
  rbm.hiddenBias.assign(tf.tensor1d([0.5, -1, 0.2]));
  return rbm;
}

test(
  'Gaussian-Bernoulli RBM: F(v) = -log Σ_h exp(-E(v, h)) by enumeration, and Z by numerical ' +
    'integration of exp(-F) equals the closed form',
  async () => {
    await runtime.init({ seed: 0, report: false });
    const rbm = tinyModel();
    const v = tf.mul(tf.randomNormal([8, 2]), 2) as tf.Tensor2D;
    const f = rbm.freeEnergy(v).arraySync();
    const h = binaryStates(3);
    v.arraySync().forEach((row, k) => {
      const energies = rbm.energy(tf.tensor2d([row, row, row, row, row, row, row, row]), h);
      const e = energies.arraySync();
      energies.dispose();
      const enumerated = -Math.log(e.reduce((s, x) => s + Math.exp(-x), 0));
      assert.ok(Math.abs(f[k] - enumerated) < 1e-4, `F(v) ${f[k]} vs ${enumerated}`);
    });
    // ∫ exp(-F(v)) dv on a 600 x 600 grid over [-12, 12]²
    const n = 600;
    const step = 24 / n;
    const axis = Array.from({ length: n }, (_, i) => -12 + (i + 0.5) * step);
    const points = tf.tensor2d(
      axis.flatMap((a) => axis.flatMap((b) => [a, b])),
      [n * n, 2],
    );
    const negF = tf.neg(rbm.freeEnergy(points));
    const numeric = tf.logSumExp(negF).dataSync()[0] + Math.log(step * step);
    const exact = rbm.logPartitionExact();
    assert.ok(
      Math.abs(numeric - exact) < 1e-3,
      `log Z: quadrature ${numeric}, closed form ${exact}`,
    );
    tf.dispose([v, h, points, negF]);
    rbm.dispose();
  },
);

test('Gaussian-Bernoulli RBM conditionals: p(v | h) = N(a + σ W h, σ²), p(h_j | v) the Boltzmann ratio', async () => {
  await runtime.init({ seed: 1, report: false });
  const rbm = tinyModel();
  const h = tf.tidy(() => tf.tile(tf.tensor2d([[1, 0, 1]]), [40000, 1])) as tf.Tensor2D;
  const draws = rbm.sampleVisible(h);
  const mean = tf.mean(draws, 0).arraySync() as number[];
  const variance = tf.moments(draws, 0).variance.arraySync() as number[];
  const expected = rbm.visibleMean(tf.tensor2d([[1, 0, 1]])).arraySync()[0];
  const sigma = [0.7, 1.3];
  [0, 1].forEach((i) => {
    assert.ok(
      Math.abs(mean[i] - expected[i]) < 4 * (sigma[i] / 200),
      `mean ${mean} vs ${expected}`,
    );
    assert.ok(Math.abs(variance[i] / sigma[i] ** 2 - 1) < 0.03, `variance ${variance}`);
  });
  const W = rbm.weights.arraySync();
  const a = rbm.visibleBias.arraySync();
  const bh = rbm.hiddenBias.arraySync();
  assert.deepEqual(a, [0.4, -0.3].map(Math.fround));
  const v = [0.9, -1.4];
  const ph = rbm.hiddenProbs(tf.tensor2d([v])).arraySync()[0];
  for (let j = 0; j < 3; j++) {
    // E(v, h_j = 0) - E(v, h_j = 1) = b_j + Σ_i (v_i / σ_i) W_ij
    const delta = bh[j] + v.reduce((s, x, i) => s + (x / sigma[i]) * W[i][j], 0);
    assert.ok(Math.abs(ph[j] - 1 / (1 + Math.exp(-delta))) < 1e-5);
  }
  tf.dispose([h, draws]);
  rbm.dispose();
});

test('Gaussian-Bernoulli RBM: the CD statistics are the gradients of mean F(vk) - mean F(v0) (autodiff)', async () => {
  await runtime.init({ seed: 2, report: false });
  const rbm = tinyModel();
  const v0 = tf.randomNormal([7, 2]) as tf.Tensor2D;
  const vk = tf.mul(tf.randomNormal([5, 2]), 2) as tf.Tensor2D;
  const cd = rbm.contrastiveGradients(v0, rbm.hiddenProbs(v0), vk, rbm.hiddenProbs(vk));
  const { grads, value } = tf.variableGrads(
    () => tf.sub(tf.mean(rbm.freeEnergy(vk)), tf.mean(rbm.freeEnergy(v0))) as tf.Scalar,
    [rbm.weights, rbm.visibleBias, rbm.hiddenBias],
  );
  value.dispose();
  for (const [name, t] of Object.entries({
    weights: rbm.weights,
    visibleBias: rbm.visibleBias,
    hiddenBias: rbm.hiddenBias,
  })) {
    const diff = tf.tidy(
      () => tf.max(tf.abs(tf.sub(cd[name as keyof typeof cd], grads[t.name]))).dataSync()[0],
    );
    assert.ok(diff < 1e-5, `${name}: ${diff}`);
  }
  rbm.dispose();
});

test('Gaussian-Bernoulli RBM: CD-1 raises the exact log-likelihood of 2-D data', async () => {
  await runtime.init({ seed: 3, report: false });
  // two clusters at (±1.5, 0.5) with standard deviation 0.4
  const data = tf.tidy(() =>
    tf.add(
      tf.mul(tf.randomNormal([600, 2]), 0.4),
      tf
        .concat([tf.fill([300, 2], 1.5), tf.fill([300, 2], -1.5)])
        .mul(tf.tensor1d([1, 0]))
        .add(tf.tensor1d([0, 0.5])),
    ),
  ) as tf.Tensor2D;
  const images = data.dataSync() as Float32Array;
  // σ = 0.4: each h selects one Gaussian of the clusters' width (the pixel standard deviation,
  // 1.5 along the first axis, could only make one broad bump).
  const { mean } = pixelMoments(images, 2, 0.1);
  const sigma = tf.tensor1d([0.4, 0.4]);
  const rbm = new GaussianBernoulliRBM(2, 6, { sigma, visibleBias: mean, weightScale: 0.1 });
  const logLikelihood = () =>
    tf.tidy(() => -tf.mean(rbm.freeEnergy(data)).dataSync()[0] - rbm.logPartitionExact());
  const before = logLikelihood();
  const trainer = new CdTrainer(rbm, { learningRate: 0.02 });
  const tensors = tf.memory().numTensors;
  for (let e = 0; e < 40; e++) await trainer.epoch(images, 30);
  assert.equal(tf.memory().numTensors, tensors, 'CD steps leak tensors');
  const after = logLikelihood();
  assert.ok(after > before + 0.5, `log-likelihood ${before} -> ${after}`);
  tf.dispose([data, mean, sigma]);
  trainer.dispose();
  rbm.dispose();
});

test('trainOrLoadGaussianRbm saves σ with the weights; bad inputs are clear errors', async () => {
  await runtime.init({ seed: 4, report: false });
  const images = Float32Array.from({ length: 200 * 4 }, () => runtime.random());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-gbrbm-'));
  const recipe = {
    hidden: 3,
    minSigma: 0.05,
    fit: { epochs: 2, batchSize: 20, learningRate: 0.01 },
    seed: 1,
    images: 200,
  };
  try {
    const first = await trainOrLoadGaussianRbm(dir, images, 4, recipe);
    const again = await trainOrLoadGaussianRbm(dir, images, 4, recipe);
    assert.equal(first.loaded, false);
    assert.equal(again.loaded, true);
    assert.equal(first.history.length, 2);
    assert.deepEqual(again.rbm.sigma.dataSync(), first.rbm.sigma.dataSync());
    assert.deepEqual(again.rbm.weights.dataSync(), first.rbm.weights.dataSync());
    // uniform pixels: σ = 1/√12 each
    first.rbm.sigma.dataSync().forEach((s) => assert.ok(Math.abs(s - Math.sqrt(1 / 12)) < 0.03));
    await assert.rejects(
      trainOrLoadGaussianRbm(path.join(dir, 'diverged'), images, 4, {
        ...recipe,
        fit: { ...recipe.fit, learningRate: 1e38, momentum: 0.9 },
      }),
      /training diverged in epoch 1 \(reconstruction error (NaN|Infinity)\); lower the learning rate/,
    );
    // a saved σ of 0 (finite, so the file itself checks out) is refused, leaking nothing
    const bad = path.join(dir, 'zero-sigma');
    const { config, tensors } = training.loadCheckpoint(dir, (raw) => raw);
    const zero = tf.tensor1d([1, 0, 1, 1]);
    training.saveCheckpoint(bad, config, { ...tensors, sigma: zero });
    tf.dispose([...Object.values(tensors), zero]);
    const before = tf.memory().numTensors;
    await assert.rejects(
      trainOrLoadGaussianRbm(bad, images, 4, recipe),
      /every sigma must be a finite number > 0/,
    );
    assert.equal(tf.memory().numTensors, before, 'a refused checkpoint leaks no tensors');
    [first, again].forEach((t) => t.rbm.dispose());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(
    () => new GaussianBernoulliRBM(4, 2, { sigma: tf.tensor1d([1, 0, 1, 1]) }),
    /every sigma must be a finite number > 0/,
  );
  assert.throws(
    () => new GaussianBernoulliRBM(4, 2, { visibleBias: tf.zeros([3]) as tf.Tensor1D }),
    /visibleBias must have shape \[4\], got \[3\]/,
  );
  assert.throws(
    () => new GaussianBernoulliRBM(4, 2, { weightscale: 0 } as never),
    /GaussianBernoulliRBM: unknown option 'weightscale' \(did you mean 'weightScale'\?\)/,
  );
  await assert.rejects(
    trainOrLoadGaussianRbm('/nonexistent', images, 4, { ...recipe, minsigma: 0.1 } as never),
    /trainOrLoadGaussianRbm: unknown option 'minsigma' \(did you mean 'minSigma'\?\)/,
  );
  const rbm = new GaussianBernoulliRBM(4, 2);
  assert.throws(
    () => rbm.freeEnergy(tf.zeros([2, 5]) as tf.Tensor2D),
    /must be a \[batch, 4\] tensor of real values/,
  );
  assert.throws(
    () => new CdTrainer(rbm).step(tf.zeros([2, 3]) as tf.Tensor2D),
    /CdTrainer.step\(v0\) must be a \[batch, 4\]/,
  );
  // real-valued units take any finite value, negative or above 1
  const values = Float32Array.from({ length: 40 }, (_, i) => i - 20);
  values[5] = Infinity;
  await assert.rejects(
    () => new CdTrainer(rbm).epoch(values, 5),
    /CdTrainer.epoch: images must be finite, got Infinity at index \[5\]/,
  );
  values[5] = 3;
  assert.deepEqual(await new CdTrainer(rbm).epoch(values, 5), { batches: 2, of: 2 });
  assert.throws(
    () => new GaussianBernoulliRBM(4, 21).logPartitionExact(),
    /21 hidden units, more than the 20/,
  );
  assert.throws(
    () => pixelMoments(Float32Array.of(0, NaN, 1, 1), 2, 0.1),
    /image 0, pixel 1 is NaN/,
  );
  await assert.rejects(
    trainOrLoadGaussianRbm('/nonexistent', images, 4, { ...recipe, images: 100 }),
    /recipe.images = 100 but images hold 200 images of 4 pixels/,
  );
  rbm.dispose();
});
