import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distributions, models, runtime, tf } from 'genlab';
import { captureLines, interruptAfter } from '../runtime/loop-helpers';

const { gaussian } = models;

function sample(n: number, mu: number, sigma: number): number[] {
  return Array.from({ length: n }, () => mu + sigma * runtime.randn());
}

test('the closed-form MLE is a stationary point and a maximum of the log-likelihood', () => {
  runtime.seed(0);
  const x = sample(500, 3, 2);
  const { mu, sigma } = gaussian.gaussianMle(x);
  const ll = (m: number, s: number) => gaussian.gaussianLogLikelihood(x, m, s);
  const h = 1e-4;
  assert.ok(Math.abs((ll(mu + h, sigma) - ll(mu - h, sigma)) / (2 * h)) < 1e-4, 'd/dmu = 0');
  assert.ok(Math.abs((ll(mu, sigma + h) - ll(mu, sigma - h)) / (2 * h)) < 1e-4, 'd/dsigma = 0');
  for (const [dm, ds] of [
    [0.1, 0],
    [-0.1, 0],
    [0, 0.1],
    [0, -0.1],
  ])
    assert.ok(ll(mu + dm, sigma + ds) < ll(mu, sigma));
});

test('the log-likelihood equals the sum of Normal log-densities', () => {
  const x = [0.5, -1, 2.25];
  const expected = new distributions.Normal(1, 1.5).logProb(x).sum().dataSync()[0];
  assert.ok(Math.abs(gaussian.gaussianLogLikelihood(x, 1, 1.5) - expected) < 1e-5);
  const surface = gaussian.logLikelihoodSurface(x, [0, 1], [1.5, 2, 3]);
  assert.equal(surface.length, 3);
  assert.equal(surface[0][1], gaussian.gaussianLogLikelihood(x, 1, 1.5));
});

test('gradient ascent on the log-likelihood reaches the closed form to 1e-3 and leaks nothing', async () => {
  await runtime.init({ seed: 1, report: false });
  const x = sample(200, -1, 0.5);
  const exact = gaussian.gaussianMle(x);
  const before = tf.memory().numTensors;
  const { fit, trajectory } = await gaussian.fitGaussianByGradientAscent(x, { steps: 1500 });
  assert.equal(tf.memory().numTensors, before);
  assert.ok(Math.abs(fit.mu - exact.mu) < 1e-3, `mu ${fit.mu} vs ${exact.mu}`);
  assert.ok(Math.abs(fit.sigma - exact.sigma) < 1e-3, `sigma ${fit.sigma} vs ${exact.sigma}`);
  const best = gaussian.gaussianLogLikelihood(x, exact.mu, exact.sigma) / x.length;
  assert.ok(Math.abs(trajectory[trajectory.length - 1].logLikelihood - best) < 1e-4);
});

test('multivariate MLE: hand-computed on a tiny set, and recovers known parameters', () => {
  const tiny = gaussian.mvnMle([
    [1, 2],
    [3, 6],
    [5, 4],
  ]);
  assert.deepEqual(tiny.mean, [3, 4]);
  // deviations (-2,-2), (0,2), (2,0): Sigma = [[8, 4], [4, 8]] / 3
  tiny.covariance
    .flat()
    .forEach((v, i) => assert.ok(Math.abs(v - [8 / 3, 4 / 3, 4 / 3, 8 / 3][i]) < 1e-12));
  runtime.seed(2);
  const n = 20000;
  const rows = Array.from({ length: n }, () => {
    const a = runtime.randn();
    const b = runtime.randn();
    return [1 + 2 * a, -1 + 0.5 * a + b];
  });
  const fit = gaussian.mvnMle(rows);
  const truth = [
    [4, 1],
    [1, 1.25],
  ];
  assert.ok(Math.abs(fit.mean[0] - 1) < 5 * Math.sqrt(4 / n));
  assert.ok(Math.abs(fit.mean[1] + 1) < 5 * Math.sqrt(1.25 / n));
  for (let a = 0; a < 2; a++) {
    for (let b = 0; b < 2; b++) {
      // Var of a sample covariance entry is (S_aa S_bb + S_ab^2) / n.
      const se = Math.sqrt((truth[a][a] * truth[b][b] + truth[a][b] ** 2) / n);
      assert.ok(
        Math.abs(fit.covariance[a][b] - truth[a][b]) < 5 * se,
        `Sigma[${a}][${b}] = ${fit.covariance[a][b]}`,
      );
    }
  }
});

test('the MLE variance averages to (N-1)/N of the truth; the 1/(N-1) estimator to the truth', async () => {
  runtime.seed(3);
  const reps = 4000;
  for (const row of (await gaussian.varianceEstimatorBias([2, 5, 20], reps)).rows) {
    // The sample variance of N(0,1) data has variance 2(N-1)/N^2 for the MLE version.
    const se = Math.sqrt((2 * (row.n - 1)) / row.n ** 2 / reps);
    assert.ok(
      Math.abs(row.mle - row.expectedMle) < 5 * se,
      `N=${row.n}: ${row.mle} vs ${row.expectedMle}`,
    );
    assert.ok(Math.abs(row.unbiased - 1) < (5 * se * row.n) / (row.n - 1));
  }
});

test('forward KL is minimized by moment matching; reverse KL settles on the mode it starts near', async () => {
  await runtime.init({ seed: 4, report: false });
  const forward = gaussian.fitGaussianForwardKl(0.2, 9);
  assert.deepEqual(forward, { mu: 0.2, sigma: 3 });
  // p = 0.5 N(-3, 1) + 0.5 N(3, 1): E_p[log q] is maximal at the moments (mean 0, variance 10).
  const expectedLogQ = (mu: number, s: number) =>
    -0.5 * Math.log(2 * Math.PI * s * s) - (10 + mu * mu) / (2 * s * s);
  const m = gaussian.fitGaussianForwardKl(0, 10);
  for (const [dm, ds] of [
    [0.1, 0],
    [0, 0.1],
    [0, -0.1],
  ])
    assert.ok(expectedLogQ(m.mu + dm, m.sigma + ds) < expectedLogQ(m.mu, m.sigma));
  const logP = (z: tf.Tensor1D) =>
    tf.tidy(() => {
      const a = tf.mul(-0.5, tf.square(tf.add(z, 3)));
      const b = tf.mul(-0.5, tf.square(tf.sub(z, 3)));
      return tf.logSumExp(tf.stack([a, b]), 0) as tf.Tensor1D;
    });
  const before = tf.memory().numTensors;
  const { fit: right } = await gaussian.fitGaussianReverseKl(logP, {
    init: { mu: 2, sigma: 0.5 },
    steps: 400,
    learningRate: 0.05,
  });
  const { fit: left } = await gaussian.fitGaussianReverseKl(logP, {
    init: { mu: -1.5, sigma: 0.5 },
    steps: 400,
    learningRate: 0.05,
  });
  assert.equal(tf.memory().numTensors, before);
  assert.ok(
    Math.abs(right.mu - 3) < 0.15 && Math.abs(right.sigma - 1) < 0.15,
    JSON.stringify(right),
  );
  assert.ok(Math.abs(left.mu + 3) < 0.15 && Math.abs(left.sigma - 1) < 0.15, JSON.stringify(left));
});

test("averageVarianceEstimate averages a student's estimator: x̄² averages to 1/N", async () => {
  runtime.seed(4);
  const reps = 4000;
  // x̄² for N(0, 1) data has mean 1/N and variance 2/N²
  const { rows, interrupted } = await gaussian.averageVarianceEstimate(
    (x) => (x.reduce((a, b) => a + b, 0) / x.length) ** 2,
    [2, 10],
    reps,
  );
  assert.equal(interrupted, false);
  assert.deepEqual(
    rows.map((row) => row.n),
    [2, 10],
  );
  for (const row of rows) {
    const se = Math.sqrt(2 / row.n ** 2 / reps);
    assert.ok(Math.abs(row.average - 1 / row.n) < 5 * se, `N=${row.n}: ${row.average}`);
  }
  await assert.rejects(
    () => gaussian.averageVarianceEstimate(() => NaN, [3], 2),
    /returned NaN for a data set of 3 values/,
  );
  await assert.rejects(
    () => gaussian.averageVarianceEstimate('mle' as unknown as (x: number[]) => number, [3], 2),
    /estimator must be a function/,
  );
  await assert.rejects(
    () => gaussian.averageVarianceEstimate((x) => x[0], [3], 0),
    /repetitions must be a positive integer, got 0/,
  );
});

test('an interrupted averageVarianceEstimate keeps the rows of the sizes done', async () => {
  const meanSquare = (x: number[]) => x.reduce((s, v) => s + v * v, 0) / x.length;
  runtime.seed(6);
  const full = await gaussian.averageVarianceEstimate(meanSquare, [2, 3, 4], 5);
  // the interrupt arrives after the 7th data set: N = 2 is done, N = 3 stops at repetition 2
  const stop = interruptAfter(7);
  runtime.seed(6);
  const { value, lines } = await captureLines(() =>
    gaussian.averageVarianceEstimate(
      (x) => {
        const estimate = meanSquare(x);
        stop.hook();
        return estimate;
      },
      [2, 3, 4],
      5,
    ),
  );
  runtime.loopRegistry().reset();
  assert.equal(value.interrupted, true);
  assert.deepEqual(value.rows, full.rows.slice(0, 1));
  assert.deepEqual(lines, [
    'variance experiment: stopped at N = 3, repetition 2/5 (interrupted); the rows of the sizes ' +
      'done are kept',
  ]);
});

test('bad inputs are refused with the reason', async () => {
  assert.throws(() => gaussian.gaussianMle([]), /gaussianMle: needs at least 1 data point, got 0/);
  assert.throws(() => gaussian.gaussianMle([1, NaN]), /data point 1 is NaN/);
  assert.throws(
    () => gaussian.gaussianLogLikelihood([1], 0, -1),
    /sigma must be positive and finite, got -1/,
  );
  assert.throws(() => gaussian.mvnMle([[1, 2], [3]]), /row 1 has 1 values, row 0 has 2/);
  await assert.rejects(
    () => gaussian.varianceEstimatorBias([1], 10),
    /every size must be an integer >= 2, got 1/,
  );
  assert.throws(
    () => gaussian.fitGaussianForwardKl(0, 0),
    /variance must be positive and finite, got 0/,
  );
  await assert.rejects(
    () => gaussian.fitGaussianByGradientAscent([1, 2], { init: { mu: 0, sigma: 0 } }),
    /sigma must be positive and finite, got 0/,
  );
});

test('the tensor version of the multivariate MLE equals the plain one', async () => {
  await runtime.init({ seed: 5, report: false });
  const rows = Array.from({ length: 50 }, () => [
    runtime.randn(),
    2 * runtime.randn() + 1,
    runtime.randn() - runtime.random(),
  ]);
  const plain = gaussian.mvnMle(rows);
  const { mean, covariance } = gaussian.mvnMleTensor(tf.tensor2d(rows));
  Array.from(mean.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - plain.mean[i]) < 1e-5));
  (covariance.arraySync() as number[][])
    .flat()
    .forEach((v, i) => assert.ok(Math.abs(v - plain.covariance.flat()[i]) < 1e-4));
  assert.throws(
    () => gaussian.mvnMleTensor(tf.zeros([3]) as unknown as tf.Tensor2D),
    /x must be \[N, d\] with N >= 1, got \[3\]/,
  );
});

test('choleskyFactor reproduces the matrix, and Gaussian samples have the requested covariance', async () => {
  await runtime.init({ seed: 6, report: false });
  const sigma = [4, 2, 0.4, 2, 3, -0.6, 0.4, -0.6, 1];
  const l = gaussian.choleskyFactor(sigma, 3);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += l[i * 3 + k] * l[j * 3 + k];
      assert.ok(Math.abs(s - sigma[i * 3 + j]) < 1e-12);
      if (j > i) assert.equal(l[i * 3 + j], 0);
    }
  }
  const n = 20000;
  const x = gaussian.sampleGaussian(tf.tensor1d([1, -2, 0]), tf.tensor2d(sigma, [3, 3]), n);
  const fit = gaussian.mvnMle(x.arraySync() as number[][]);
  [1, -2, 0].forEach((m, i) =>
    assert.ok(Math.abs(fit.mean[i] - m) < 5 * Math.sqrt(sigma[i * 4] / n)),
  );
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++) {
      const se = Math.sqrt((sigma[a * 4] * sigma[b * 4] + sigma[a * 3 + b] ** 2) / n);
      assert.ok(Math.abs(fit.covariance[a][b] - sigma[a * 3 + b]) < 5 * se);
    }
  }
  assert.throws(
    () => gaussian.choleskyFactor([1, 2, 2, 1], 2),
    /not positive definite \(pivot 1 is -3\)/,
  );
  assert.throws(
    () => gaussian.sampleGaussian(tf.zeros([2]) as tf.Tensor1D, tf.eye(3) as tf.Tensor2D, 5),
    /covariance must be \[2, 2\]/,
  );
});
