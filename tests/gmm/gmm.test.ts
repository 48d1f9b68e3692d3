import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models, runtime, tf } from 'genlab';
import { captureLines, interruptAfter } from '../runtime/loop-helpers';

const { GaussianMixture, BernoulliMixture, covarianceEllipse } = models.gmm;

const TRUE = {
  weights: [0.2, 0.3, 0.5],
  means: [
    [-4, 0],
    [0, 4],
    [4, -1],
  ],
  covariances: [
    [
      [1, 0.3],
      [0.3, 0.5],
    ],
    [
      [0.6, -0.2],
      [-0.2, 1.2],
    ],
    [
      [1.5, 0],
      [0, 0.4],
    ],
  ],
};

function trueMixture(): InstanceType<typeof GaussianMixture> {
  return new GaussianMixture(
    tf.tensor1d(TRUE.weights),
    tf.tensor2d(TRUE.means),
    tf.tensor3d(TRUE.covariances),
  );
}

function gaussianPdf(x: number[], mu: number[], s: number[][]): number {
  const det = s[0][0] * s[1][1] - s[0][1] * s[1][0];
  const d = [x[0] - mu[0], x[1] - mu[1]];
  const q = (s[1][1] * d[0] * d[0] - 2 * s[0][1] * d[0] * d[1] + s[0][0] * d[1] * d[1]) / det;
  return Math.exp(-0.5 * q) / (2 * Math.PI * Math.sqrt(det));
}

test('GaussianMixture.logProb equals log sum_k pi_k N(x; mu_k, Sigma_k) computed by hand', async () => {
  await runtime.init({ seed: 0, report: false });
  const gmm = trueMixture();
  const pts = [
    [0, 0],
    [-4, 0.5],
    [3, -2],
  ];
  const expected = pts.map((p) =>
    Math.log(
      TRUE.weights.reduce(
        (s, w, k) => s + w * gaussianPdf(p, TRUE.means[k], TRUE.covariances[k]),
        0,
      ),
    ),
  );
  const x = tf.tensor2d(pts);
  const got = Array.from(gmm.logProb(x).dataSync());
  got.forEach((g, i) =>
    assert.ok(Math.abs(g - expected[i]) < 1e-4, `point ${i}: ${g} vs ${expected[i]}`),
  );
  const r = gmm.responsibilities(x).arraySync();
  r.forEach((row, i) => {
    const joint = TRUE.weights.map(
      (w, k) => w * gaussianPdf(pts[i], TRUE.means[k], TRUE.covariances[k]),
    );
    const z = joint.reduce((a, b) => a + b, 0);
    row.forEach((v, k) => assert.ok(Math.abs(v - joint[k] / z) < 1e-4, `r[${i}][${k}]`));
  });
  x.dispose();
  gmm.dispose();
});

test(
  'GaussianMixture.sample follows the two-step recipe: component shares and ' +
    'per-component means',
  async () => {
    await runtime.init({ seed: 1, report: false });
    const gmm = trueMixture();
    const n = 6000;
    const { x, component } = gmm.sample(n);
    const xs = x.arraySync();
    const ks = component.dataSync();
    TRUE.weights.forEach((w, k) => {
      const idx = [...ks.keys()].filter((i) => ks[i] === k);
      assert.ok(
        Math.abs(idx.length / n - w) < 5 * Math.sqrt((w * (1 - w)) / n),
        `share of component ${k}: ${idx.length / n}`,
      );
      for (let j = 0; j < 2; j++) {
        const m = idx.reduce((s, i) => s + xs[i][j], 0) / idx.length;
        assert.ok(
          Math.abs(m - TRUE.means[k][j]) < 5 * Math.sqrt(TRUE.covariances[k][j][j] / idx.length),
          `mean of component ${k}, coordinate ${j}: ${m}`,
        );
      }
    });
    tf.dispose([x, component]);
    gmm.dispose();
  },
);

test('EM never decreases the log-likelihood and recovers the parameters of a synthetic mixture', async () => {
  await runtime.init({ seed: 2, report: false });
  const truth = trueMixture();
  const n = 3000;
  const { x, component } = truth.sample(n);
  const fit = await GaussianMixture.fit(x, 3, { restarts: 3 });
  const ll = fit.logLikelihood;
  for (let i = 1; i < ll.length; i++)
    assert.ok(
      ll[i] >= ll[i - 1] - 1e-5,
      `log-likelihood decreased at iteration ${i}: ${ll[i - 1]} -> ${ll[i]}`,
    );
  assert.ok(fit.converged, 'EM converged');
  // the fitted model is at least as likely as the truth on its training data (it is the
  // maximum-likelihood fit)
  assert.ok(ll[ll.length - 1] >= truth.logLikelihood(x) - 1e-4);
  const w = Array.from(fit.model.weights.dataSync());
  const mu = fit.model.means.arraySync();
  const cov = fit.model.covariances.arraySync();
  TRUE.means.forEach((m, k) => {
    // match each true component to the nearest fitted mean
    const j = mu
      .map((f, i) => [(f[0] - m[0]) ** 2 + (f[1] - m[1]) ** 2, i])
      .sort((a, b) => a[0] - b[0])[0][1];
    const nk = n * TRUE.weights[k];
    const s = TRUE.covariances[k];
    assert.ok(
      Math.abs(w[j] - TRUE.weights[k]) <
        5 * Math.sqrt((TRUE.weights[k] * (1 - TRUE.weights[k])) / n),
      `weight ${k}: ${w[j]}`,
    );
    for (let a = 0; a < 2; a++) {
      assert.ok(
        Math.abs(mu[j][a] - m[a]) < 5 * Math.sqrt(s[a][a] / nk),
        `mean ${k}[${a}]: ${mu[j][a]}`,
      );
      for (let b = 0; b < 2; b++) {
        // Var of a sample covariance entry: (S_aa S_bb + S_ab^2) / n_k
        const se = Math.sqrt((s[a][a] * s[b][b] + s[a][b] ** 2) / nk);
        assert.ok(
          Math.abs(cov[j][a][b] - s[a][b]) < 5 * se,
          `covariance ${k}[${a}][${b}]: ${cov[j][a][b]} vs ${s[a][b]}`,
        );
      }
    }
  });
  // BIC = -2 log p(X) + p log N, and it prefers the true K = 3 to K = 1 and K = 6
  assert.equal(fit.model.numParameters, 2 + 6 + 9);
  // (tolerance: float32 round-off of a mean log-likelihood, about 1e-5 per point, times 2N)
  assert.ok(
    Math.abs(fit.model.bic(x) - (-2 * n * ll[ll.length - 1] + 17 * Math.log(n))) < 2 * n * 1e-5,
  );
  const bics: number[] = [];
  for (const k of [1, 6]) {
    const f = await GaussianMixture.fit(x, k, { restarts: 2 });
    bics.push(f.model.bic(x));
    f.model.dispose();
  }
  bics.forEach((b) =>
    assert.ok(fit.model.bic(x) < b, `BIC(3) = ${fit.model.bic(x)} should beat ${b}`),
  );
  tf.dispose([x, component]);
  fit.model.dispose();
  truth.dispose();
});

test('EM steps leak no tensors', async () => {
  await runtime.init({ seed: 3, report: false });
  const truth = trueMixture();
  const { x, component } = truth.sample(200);
  let model = GaussianMixture.initialize(x, 3);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) {
    const step = model.emStep(x);
    model.dispose();
    model = step.model;
  }
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, component]);
  model.dispose();
  truth.dispose();
});

test('covarianceEllipse: points satisfy (p - mu)^T Sigma^-1 (p - mu) = c^2', () => {
  const { x, y } = covarianceEllipse([1, 2], [2, 0.5, 0.5, 1], 2, 16);
  const det = 2 - 0.25;
  x.forEach((xi, i) => {
    const dx = xi - 1;
    const dy = y[i] - 2;
    const q = (1 * dx * dx - 2 * 0.5 * dx * dy + 2 * dy * dy) / det;
    assert.ok(Math.abs(q - 4) < 1e-9, `point ${i}: ${q}`);
  });
  assert.throws(() => covarianceEllipse([0, 0], [1, 2, 2, 1]), /not positive definite/);
});

/** Binary data from a known mixture of Bernoullis over D pixels. */
function bernoulliData(
  n: number,
  probs: number[][],
  weights: number[],
): { images: Float32Array; size: number; pixels: number } {
  const d = probs[0].length;
  const images = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    let u = runtime.random();
    let k = 0;
    while (k < weights.length - 1 && (u -= weights[k]) > 0) k++;
    for (let j = 0; j < d; j++) images[i * d + j] = runtime.random() < probs[k][j] ? 1 : 0;
  }
  return { images, size: n, pixels: d };
}

test('BernoulliMixture: logProb by hand, monotone EM objective, recovered parameters', async () => {
  await runtime.init({ seed: 4, report: false });
  const d = 12;
  const probs = [0, 1, 2].map((k) =>
    Array.from({ length: d }, (_, j) => (Math.floor(j / 4) === k ? 0.85 : 0.1)),
  );
  const weights = [0.25, 0.35, 0.4];
  const n = 6000;
  const train = bernoulliData(n, probs, weights);
  const fit = await BernoulliMixture.fit(train, 3, {
    iterations: 100,
    tolerance: 1e-7,
    chunkSize: 1024,
  });
  const obj = fit.objective;
  for (let i = 1; i < obj.length; i++)
    assert.ok(
      obj[i] >= obj[i - 1] - 1e-5,
      `objective decreased at ${i}: ${obj[i - 1]} -> ${obj[i]}`,
    );
  const mu = fit.model.probs.arraySync();
  const w = Array.from(fit.model.weights.dataSync());
  probs.forEach((p, k) => {
    const j = mu
      .map((m, i) => [m.reduce((s, v, c) => s + (v - p[c]) ** 2, 0), i])
      .sort((a, b) => a[0] - b[0])[0][1];
    assert.ok(
      Math.abs(w[j] - weights[k]) < 5 * Math.sqrt((weights[k] * (1 - weights[k])) / n),
      `weight ${k}: ${w[j]}`,
    );
    const nk = n * weights[k];
    // standard error of a frequency plus the pseudo-count's bias a (1 - 2p) / (N_k + 2)
    p.forEach((pc, c) =>
      assert.ok(
        Math.abs(mu[j][c] - pc) < 5 * Math.sqrt((pc * (1 - pc)) / nk) + 1 / nk,
        `mu ${k}[${c}]: ${mu[j][c]} vs ${pc}`,
      ),
    );
  });
  // log p(x) by hand for a few images
  const x = tf.tensor2d(train.images.subarray(0, 3 * d), [3, d]);
  const got = Array.from(fit.model.logProb(x).dataSync());
  for (let i = 0; i < 3; i++) {
    const xi = Array.from(train.images.subarray(i * d, (i + 1) * d));
    const px = w.reduce(
      (s, wk, k) => s + wk * xi.reduce((prod, v, c) => prod * (v ? mu[k][c] : 1 - mu[k][c]), 1),
      0,
    );
    assert.ok(
      Math.abs(got[i] - Math.log(px)) < 1e-4,
      `log p(x_${i}): ${got[i]} vs ${Math.log(px)}`,
    );
  }
  // the streamed log-likelihood agrees with the per-image log-probabilities
  const all = tf.tensor2d(train.images, [n, d]);
  const direct = tf.mean(fit.model.logProb(all)).dataSync()[0];
  assert.ok(Math.abs(fit.model.logLikelihood(train, 1000) - direct) < 1e-4);
  const s = fit.model.sample(5);
  assert.deepEqual(s.x.shape, [5, d]);
  tf.dispose([x, all, s.x, s.component]);
  fit.model.dispose();
});

test('invalid inputs to the mixtures throw clear errors', async () => {
  await runtime.init({ seed: 5, report: false });
  const x = tf.tensor2d([
    [0, 0],
    [1, 1],
    [2, 0],
  ]);
  await assert.rejects(() => GaussianMixture.fit(x, 4), /k must be an integer in \[1, 3\].*got 4/);
  await assert.rejects(
    () => GaussianMixture.fit(tf.tensor1d([1, 2]) as unknown as tf.Tensor2D, 1),
    /x must be a \[n, d\] tensor/,
  );
  assert.throws(
    () =>
      new GaussianMixture(
        tf.tensor1d([0.5, 0.6]),
        tf.zeros([2, 2]),
        tf.stack([tf.eye(2), tf.eye(2)]) as tf.Tensor3D,
      ),
    /weights must be non-negative and sum to 1/,
  );
  assert.throws(
    () =>
      new GaussianMixture(
        tf.tensor1d([0.5, 0.5]),
        tf.zeros([2, 2]),
        tf
          .stack([tf.eye(2), tf.eye(3).slice([0, 0], [2, 2])])
          .reshape([2, 2, 2])
          .pad([
            [0, 0],
            [0, 1],
            [0, 1],
          ]) as tf.Tensor3D,
      ),
    /covariances must have shape \[2, 2, 2\]/,
  );
  const bad = { images: new Float32Array([0, 0.5, 1, 0]), size: 2, pixels: 2 };
  await assert.rejects(
    () => BernoulliMixture.fit(bad, 1),
    /every pixel must be 0 or 1 \(a mixture of Bernoullis needs binary data\), got 0.5 at index \[1\]/,
  );
  const ok = { images: new Float32Array([0, 1, 1, 0]), size: 2, pixels: 2 };
  await assert.rejects(
    () => BernoulliMixture.fit(ok, 3),
    /k must be an integer in \[1, 2\], got 3/,
  );
  await assert.rejects(
    () => BernoulliMixture.fit(ok, 1, { pseudoCount: 0 }),
    /pseudoCount \(it keeps log mu finite\) must be a finite number > 0, got 0/,
  );
  // Missing values and misspelled options are named before any EM iteration.
  const withNaN = tf.tensor2d([
    [0, 0],
    [1, NaN],
    [2, 0],
  ]);
  await assert.rejects(
    () => GaussianMixture.fit(withNaN, 2),
    /GaussianMixture.fit: x must be finite, got NaN at index \[1, 1\]. Remove or impute missing/,
  );
  await assert.rejects(
    () => GaussianMixture.fit(x, 2, { restart: 3 } as never),
    /unknown option 'restart' \(did you mean 'restarts'\?\)/,
  );
  await assert.rejects(
    () => BernoulliMixture.fit(ok, 1, { iteration: 3 } as never),
    /'iterations'/,
  );
  tf.dispose([x, withNaN]);
});

test('EM stops at the next chunk when interrupted, keeping the last completed iteration', async () => {
  await runtime.init({ seed: 6, report: false });
  const probs = [0, 1].map((k) => Array.from({ length: 8 }, (_, j) => (j % 2 === k ? 0.9 : 0.1)));
  const train = bernoulliData(2000, probs, [0.5, 0.5]);
  const tensors = tf.memory().numTensors;
  const stop = interruptAfter(2);
  const { value: fit, lines } = await captureLines(() =>
    BernoulliMixture.fit(train, 2, { chunkSize: 500, tolerance: 0, onIteration: stop.hook }),
  );
  runtime.loopRegistry().reset();
  assert.equal(fit.interrupted, true);
  assert.equal(fit.logLikelihood.length, 2, 'two E-steps done, the third stopped');
  assert.equal(tf.memory().numTensors, tensors + 2, 'the model, and nothing else, is kept');
  assert.deepEqual(lines, [
    'EM: stopped at iteration 3/50 (interrupted); the model keeps its last completed one',
  ]);
  const points = tf.randomNormal([60, 2]) as tf.Tensor2D;
  const again = await GaussianMixture.fit(points, 2);
  assert.equal(again.interrupted, false);
  tf.dispose([points, fit.model.logWeights, fit.model.probs]);
  again.model.dispose();
});
