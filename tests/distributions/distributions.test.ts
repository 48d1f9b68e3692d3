import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distributions as D, runtime, tf } from 'genlab';

const LOG_2PI = Math.log(2 * Math.PI);

async function setup(): Promise<void> {
  await runtime.init({ seed: 0, report: false });
}

function values(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}

function assertClose(actual: number[], expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((a, i) =>
    assert.ok(
      Math.abs(a - expected[i]) <= tol,
      `${what}[${i}]: ${a} vs ${expected[i]} (tol ${tol})`,
    ),
  );
}

/** Sample mean and variance of rows of an [n, d] array, per column. */
function columnMoments(x: tf.Tensor, d: number): { mean: number[]; variance: number[]; n: number } {
  const v = x.dataSync();
  const n = v.length / d;
  const mean = new Array(d).fill(0);
  const variance = new Array(d).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += v[i * d + j] / n;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) variance[j] += (v[i * d + j] - mean[j]) ** 2 / (n - 1);
  return { mean, variance, n };
}

test('Normal: logProb, cdf and entropy match the textbook formulas; fromLogVariance agrees', async () => {
  await setup();
  const mu = [0.5, -1, 2];
  const sigma = [1, 0.3, 2.5];
  const x = [0.1, -1.2, 7];
  const n = new D.Normal(mu, sigma);
  const expected = x.map(
    (xi, i) => -0.5 * ((xi - mu[i]) / sigma[i]) ** 2 - Math.log(sigma[i]) - 0.5 * LOG_2PI,
  );
  assertClose(values(n.logProb(x)), expected, 1e-5, 'logProb');
  assertClose(
    values(n.entropy()),
    sigma.map((s) => 0.5 * Math.log(2 * Math.PI * Math.E * s * s)),
    1e-5,
    'entropy',
  );
  assertClose(values(n.cdf([0.5, -1, 2])), [0.5, 0.5, 0.5], 1e-6, 'cdf at the mean');
  const lv = D.Normal.fromLogVariance(
    mu,
    sigma.map((s) => Math.log(s * s)),
  );
  assertClose(values(lv.logProb(x)), expected, 1e-5, 'logProb from log-variance');
  // a log-variance of -60 (sigma = 1e-13) keeps log sigma exact instead of underflowing
  assertClose(
    values(D.Normal.fromLogVariance(0, -60).entropy()),
    [-30 + 0.5 * (1 + LOG_2PI)],
    1e-4,
    'tiny-variance entropy',
  );
});

test('Normal: sample moments agree with loc and scale within 5 standard errors', async () => {
  await setup();
  const n = 20000;
  const q = new D.Normal([1, -3], [0.5, 2]);
  const m = columnMoments(q.sample(n), 2);
  [1, -3].forEach((mu, j) =>
    assert.ok(
      Math.abs(m.mean[j] - mu) < (5 * [0.5, 2][j]) / Math.sqrt(n),
      `mean ${j}: ${m.mean[j]}`,
    ),
  );
  // Var of the sample variance of a Gaussian is 2 sigma^4 / (n - 1)
  [0.25, 4].forEach((v, j) =>
    assert.ok(
      Math.abs(m.variance[j] - v) < 5 * v * Math.sqrt(2 / (n - 1)),
      `variance ${j}: ${m.variance[j]}`,
    ),
  );
});

test('cholesky: L L^T reproduces a random SPD matrix, and solveLowerTriangular inverts L', async () => {
  await setup();
  const a = tf.tidy(() => {
    const r = tf.randomNormal([5, 5]);
    return tf.add(tf.matMul(r, r, false, true), tf.mul(0.1, tf.eye(5)));
  });
  const l = D.cholesky(a);
  assertClose(values(tf.matMul(l, l, false, true)), Array.from(a.dataSync()), 1e-3, 'L L^T');
  assertClose(
    values(tf.linalg.bandPart(l, 0, -1).sub(tf.linalg.bandPart(l, 0, 0))),
    new Array(25).fill(0),
    0,
    'upper part',
  );
  const b = tf.randomNormal([5, 3]);
  const xsol = D.solveLowerTriangular(l, b);
  assertClose(values(tf.matMul(l, xsol)), Array.from(b.dataSync()), 1e-3, 'L X = B');
  tf.dispose([a, l, b, xsol]);
});

test('MultivariateNormal: logProb and entropy match the explicit-inverse formula in 2D', async () => {
  await setup();
  const mu = [1, -2];
  const s = [
    [2, 0.6],
    [0.6, 0.5],
  ];
  const det = s[0][0] * s[1][1] - s[0][1] * s[1][0];
  const inv = [
    [s[1][1] / det, -s[0][1] / det],
    [-s[1][0] / det, s[0][0] / det],
  ];
  const pts = [
    [0, 0],
    [1, -2],
    [3, 1],
  ];
  const expected = pts.map(([x, y]) => {
    const d = [x - mu[0], y - mu[1]];
    const quad =
      d[0] * (inv[0][0] * d[0] + inv[0][1] * d[1]) + d[1] * (inv[1][0] * d[0] + inv[1][1] * d[1]);
    return -0.5 * (quad + Math.log(det) + 2 * LOG_2PI);
  });
  const q = new D.MultivariateNormal(mu, { covariance: s });
  assertClose(values(q.logProb(pts)), expected, 1e-4, 'logProb');
  assertClose(
    values(q.entropy()),
    [0.5 * Math.log((2 * Math.PI * Math.E) ** 2 * det)],
    1e-5,
    'entropy',
  );
  const viaTril = new D.MultivariateNormal(mu, { scaleTril: q.scaleTril });
  assertClose(values(viaTril.logProb(pts)), expected, 1e-4, 'logProb from scaleTril');
});

test('MultivariateNormal: sample mean and covariance match within 5 standard errors', async () => {
  await setup();
  const n = 20000;
  const s = [
    [2, 0.6],
    [0.6, 0.5],
  ];
  const q = new D.MultivariateNormal([1, -2], { covariance: s });
  const x = q.sample(n);
  const m = columnMoments(x, 2);
  [1, -2].forEach((mu, j) =>
    assert.ok(Math.abs(m.mean[j] - mu) < 5 * Math.sqrt(s[j][j] / n), `mean ${j}`),
  );
  [2, 0.5].forEach((v, j) =>
    assert.ok(
      Math.abs(m.variance[j] - v) < 5 * v * Math.sqrt(2 / (n - 1)),
      `variance ${j}: ${m.variance[j]}`,
    ),
  );
  const v = x.dataSync();
  let cov = 0;
  for (let i = 0; i < n; i++)
    cov += ((v[2 * i] - m.mean[0]) * (v[2 * i + 1] - m.mean[1])) / (n - 1);
  // Var of the sample covariance: (s01^2 + s00 s11) / n
  assert.ok(Math.abs(cov - 0.6) < 5 * Math.sqrt((0.36 + 1) / n), `covariance ${cov}`);
  x.dispose();
});

test(
  'Bernoulli: logProb from probs and logits matches x log p + (1 - x) log(1 - p), stays ' +
    'finite at extremes',
  async () => {
    await setup();
    const p = [0.1, 0.5, 0.9];
    const x = [1, 0, 1];
    const expected = p.map((pi, i) => x[i] * Math.log(pi) + (1 - x[i]) * Math.log(1 - pi));
    assertClose(values(new D.Bernoulli({ probs: p }).logProb(x)), expected, 1e-5, 'from probs');
    assertClose(
      values(new D.Bernoulli({ logits: p.map((pi) => Math.log(pi / (1 - pi))) }).logProb(x)),
      expected,
      1e-5,
      'from logits',
    );
    assertClose(
      values(new D.Bernoulli({ logits: [100, -100] }).logProb([0, 1])),
      [-100, -100],
      1e-3,
      'saturated logits',
    );
    const edge = values(new D.Bernoulli({ probs: [0, 1] }).logProb([0, 1]));
    edge.forEach((v) => assert.ok(Number.isFinite(v) && Math.abs(v) < 1e-5, `p in {0, 1}: ${v}`));
    assertClose(
      values(new D.Bernoulli({ probs: p }).entropy()),
      p.map((pi) => -pi * Math.log(pi) - (1 - pi) * Math.log(1 - pi)),
      1e-5,
      'entropy',
    );
  },
);

test(
  'Bernoulli and Categorical: sample frequencies within 5 standard errors of the ' +
    'probabilities',
  async () => {
    await setup();
    const n = 20000;
    const b = columnMoments(new D.Bernoulli({ probs: [0.2, 0.7] }).sample(n), 2);
    [0.2, 0.7].forEach((p, j) =>
      assert.ok(
        Math.abs(b.mean[j] - p) < 5 * Math.sqrt((p * (1 - p)) / n),
        `Bernoulli ${j}: ${b.mean[j]}`,
      ),
    );
    const probs = [0.1, 0.6, 0.3];
    const draws = new D.Categorical({ probs: [1, 6, 3] }).sample(n).dataSync();
    const counts = [0, 0, 0];
    draws.forEach((k) => counts[k]++);
    probs.forEach((p, k) =>
      assert.ok(
        Math.abs(counts[k] / n - p) < 5 * Math.sqrt((p * (1 - p)) / n),
        `Categorical ${k}: ${counts[k] / n}`,
      ),
    );
  },
);

test('Categorical: logProb and entropy from normalized probabilities; batch shapes', async () => {
  await setup();
  const c = new D.Categorical({
    logits: [
      [0, 1, 2],
      [1, 1, 1],
    ],
  });
  assert.deepEqual(c.batchShape, [2]);
  const z = Math.log(1 + Math.E + Math.E ** 2);
  assertClose(values(c.logProb([2, 0])), [2 - z, -Math.log(3)], 1e-5, 'logProb');
  const p0 = [1, Math.E, Math.E ** 2].map((v) => v / Math.exp(z));
  assertClose(
    values(c.entropy()),
    [-p0.reduce((s, p) => s + p * Math.log(p), 0), Math.log(3)],
    1e-5,
    'entropy',
  );
  assertClose(
    values(new D.Categorical({ probs: [0, 1] }).entropy()),
    [0],
    1e-5,
    'entropy with a zero probability',
  );
});

test('Uniform: density, support, moments and entropy', async () => {
  await setup();
  const u = new D.Uniform(-1, 3);
  const lp = values(u.logProb([0, 2.9, 3.5, -2]));
  assertClose(lp.slice(0, 2), [-Math.log(4), -Math.log(4)], 1e-6, 'inside');
  assert.deepEqual(lp.slice(2), [-Infinity, -Infinity]);
  const n = 20000;
  const m = columnMoments(u.sample(n), 1);
  assert.ok(Math.abs(m.mean[0] - 1) < 5 * Math.sqrt(16 / 12 / n), `mean ${m.mean[0]}`);
  assertClose(
    [values(u.variance)[0], values(u.entropy())[0]],
    [16 / 12, Math.log(4)],
    1e-5,
    'variance, entropy',
  );
});

test(
  'MixtureSameFamily: logProb is the weighted sum of densities; moments by the law of total ' +
    'variance',
  async () => {
    await setup();
    const w = [0.3, 0.7];
    const mu = [-2, 1];
    const sd = [0.5, 1.5];
    const mix = new D.MixtureSameFamily(new D.Categorical({ probs: w }), new D.Normal(mu, sd));
    const pdf = (x: number) =>
      w.reduce(
        (s, wk, k) =>
          s + (wk * Math.exp(-0.5 * ((x - mu[k]) / sd[k]) ** 2)) / (sd[k] * Math.sqrt(2 * Math.PI)),
        0,
      );
    const xs = [-3, 0, 2.5];
    assertClose(
      values(mix.logProb(xs)),
      xs.map((x) => Math.log(pdf(x))),
      1e-5,
      'logProb',
    );
    const mean = w[0] * mu[0] + w[1] * mu[1];
    const variance = w.reduce((s, wk, k) => s + wk * (sd[k] ** 2 + mu[k] ** 2), 0) - mean ** 2;
    assertClose(
      [values(mix.mean)[0], values(mix.variance)[0]],
      [mean, variance],
      1e-5,
      'mean, variance',
    );
    const n = 20000;
    const { x, component } = mix.sampleWithComponents(n);
    const m = columnMoments(x, 1);
    assert.ok(Math.abs(m.mean[0] - mean) < 5 * Math.sqrt(variance / n), `sample mean ${m.mean[0]}`);
    const share = values(tf.mean(component));
    assert.ok(Math.abs(share[0] - 0.7) < 5 * Math.sqrt(0.21 / n), `component share ${share[0]}`);
    const r = values(tf.sum(mix.responsibilities(tf.tensor1d(xs)), -1));
    assertClose(r, [1, 1, 1], 1e-5, 'responsibilities sum to one');
    tf.dispose([x]);
  },
);

test('MixtureSameFamily of MultivariateNormals: logProb of 2D points', async () => {
  await setup();
  const comps = new D.MultivariateNormal(
    [
      [0, 0],
      [3, 3],
    ],
    {
      covariance: [
        [
          [1, 0],
          [0, 1],
        ],
        [
          [2, 0.5],
          [0.5, 1],
        ],
      ],
    },
  );
  const mix = new D.MixtureSameFamily(new D.Categorical({ probs: [0.5, 0.5] }), comps);
  const pts = tf.tensor2d([
    [0, 0],
    [3, 3],
    [1, 2],
  ]);
  const each = comps.logProb(tf.expandDims(pts, 1)).arraySync() as number[][];
  const expected = each.map((row) => Math.log(0.5 * Math.exp(row[0]) + 0.5 * Math.exp(row[1])));
  assertClose(values(mix.logProb(pts)), expected, 1e-5, 'logProb');
  assert.deepEqual(mix.sample(7).shape, [7, 2]);
  pts.dispose();
});

test('Independent: sums logProb and entropy over the reinterpreted axes', async () => {
  await setup();
  const base = new D.Normal(
    [
      [0, 1],
      [2, 3],
    ],
    [
      [1, 2],
      [0.5, 1],
    ],
  );
  const ind = new D.Independent(base, 1);
  assert.deepEqual([ind.batchShape, ind.eventShape], [[2], [2]]);
  const x = tf.tensor2d([
    [0.3, 0.1],
    [2, 2],
  ]);
  const sums = values(tf.sum(base.logProb(x), -1));
  assertClose(values(ind.logProb(x)), sums, 1e-5, 'logProb');
  assertClose(values(ind.entropy()), values(tf.sum(base.entropy(), -1)), 1e-5, 'entropy');
  x.dispose();
});

test('kl: every registered closed form agrees with Monte Carlo within 5 standard errors', async () => {
  await setup();
  const pairs: Array<[string, D.Distribution, D.Distribution]> = [
    ['Normal', new D.Normal([0, 1], [1, 0.5]), new D.Normal([0.5, -1], [2, 1])],
    ['Normal to N(0, 1)', new D.Normal([0.7, -2], [0.3, 1.5]), D.Normal.standard([2])],
    [
      'MultivariateNormal',
      new D.MultivariateNormal([0, 1, 0], {
        covariance: [
          [1, 0.3, 0],
          [0.3, 2, 0.2],
          [0, 0.2, 0.5],
        ],
      }),
      new D.MultivariateNormal([1, 0, 0.5], {
        covariance: [
          [2, -0.4, 0.1],
          [-0.4, 1, 0],
          [0.1, 0, 1],
        ],
      }),
    ],
    ['Bernoulli', new D.Bernoulli({ probs: [0.2, 0.9] }), new D.Bernoulli({ logits: [0.5, -1] })],
    [
      'Categorical',
      new D.Categorical({ probs: [[0.2, 0.3, 0.5]] }),
      new D.Categorical({ logits: [[1, 0, -1]] }),
    ],
    ['Uniform', new D.Uniform([0, 0.5], [1, 1]), new D.Uniform([-1, 0], [2, 3])],
    [
      'Independent',
      new D.Independent(new D.Normal([0, 1], [1, 0.5]), 1),
      new D.Independent(new D.Normal([1, 1], [1, 1]), 1),
    ],
  ];
  for (const [name, p, q] of pairs) {
    assert.ok(D.hasClosedFormKl(p, q), `${name} is registered`);
    const exact = values(D.kl(p, q));
    const mc = D.klMonteCarlo(p, q, 40000);
    const est = values(mc.estimate);
    const se = values(mc.standardError);
    // plus float32 round-off of a 40000-term sum (relative 1e-3), which dominates when log p - log
    // q is constant
    exact.forEach((e, i) =>
      assert.ok(
        Math.abs(e - est[i]) < 5 * se[i] + 1e-3 * Math.abs(e),
        `${name}[${i}]: closed form ${e} vs Monte Carlo ${est[i]} ± ${se[i]}`,
      ),
    );
  }
  assert.deepEqual(values(D.kl(new D.Uniform(0, 2), new D.Uniform(0, 1))), [Infinity]);
  assertClose(values(D.kl(new D.Normal(1, 2), new D.Normal(1, 2))), [0], 1e-6, 'KL(p || p)');
});

test('kl to Normal.standard equals kl to N(0, 1) written out, and the Bernoulli row sum', async () => {
  await setup();
  const p = new D.Normal([[0.7, -2, 0]], [[0.3, 1.5, 1]]);
  const short = values(D.kl(p, D.Normal.standard([3])));
  assertClose(short, values(D.kl(p, new D.Normal([0, 0, 0], [1, 1, 1]))), 1e-6, 'standard');
  // log p(x) of independent Bernoulli pixels: the fused row sum on wasm, the elementwise sum on cpu
  const logits = tf.tensor2d([[-30, -1, 0, 2, 40]]);
  const x = tf.tensor2d([[1, 0, 0.25, 1, 0]]);
  const rows = values(new D.Independent(new D.Bernoulli({ logits }), 1).logProb(x));
  const terms = values(tf.sum(new D.Bernoulli({ logits }).logProb(x), -1));
  assertClose(rows, terms, 1e-4, 'Independent(Bernoulli).logProb');
});

test('kl: pairs without a closed form fall back to Monte Carlo and say so', async () => {
  await setup();
  const mix = new D.MixtureSameFamily(
    new D.Categorical({ probs: [0.5, 0.5] }),
    new D.Normal([-1, 1], [0.5, 0.5]),
  );
  const q = new D.Normal(0, 1);
  assert.equal(D.hasClosedFormKl(mix, q), false);
  const messages: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => messages.push(m);
  try {
    const estimate = values(D.kl(mix, q, { samples: 20000 }));
    assert.ok(estimate[0] > 0 && Number.isFinite(estimate[0]));
  } finally {
    console.warn = warn;
  }
  assert.match(
    messages.join('\n'),
    /no closed form.*Monte Carlo estimate from 20000 samples, standard error/,
  );
});

test(
  'gradient estimators: score function and reparameterization are unbiased for ' +
    'd/dtheta E[z^2]',
  async () => {
    await setup();
    // q = N(mu, sigma^2), f(z) = z^2: E[f] = mu^2 + sigma^2, so d/dmu = 2 mu and d/dsigma = 2 sigma
    const mu = tf.tensor1d([0.7]);
    const sigma = tf.tensor1d([1.3]);
    const build = ([m, s]: tf.Tensor[]) => new D.Independent(new D.Normal(m, s), 1);
    const f = (z: tf.Tensor) => tf.sum(tf.square(z), -1);
    for (const estimator of ['score', 'reparameterization'] as const) {
      const g = D.gradientEstimate(estimator, build, [mu, sigma], f, 20000);
      const means = g.mean.map((t) => t.dataSync()[0]);
      const ses = g.standardError.map((t) => t.dataSync()[0]);
      assert.ok(
        Math.abs(means[0] - 1.4) < 5 * ses[0],
        `${estimator} d/dmu: ${means[0]} ± ${ses[0]}`,
      );
      assert.ok(
        Math.abs(means[1] - 2.6) < 5 * ses[1],
        `${estimator} d/dsigma: ${means[1]} ± ${ses[1]}`,
      );
      assert.deepEqual(g.perSample[0].shape, [20000, 1]);
      tf.dispose([...g.mean, ...g.standardError, ...g.perSample]);
    }
    // the monteCarlo estimate of E[z^2] itself
    const e = D.monteCarlo(new D.Normal(0.7, 1.3), tf.square, 20000);
    assert.ok(Math.abs(e.mean.dataSync()[0] - (0.49 + 1.69)) < 5 * e.standardError.dataSync()[0]);
    tf.dispose([mu, sigma, e.mean, e.standardError]);
  },
);

test(
  'gradients of the ELBO at q = N(m, s^2): score (leave-one-out baseline) and reparameterization ' +
    'match the closed form; fixed draws average to zero',
  async () => {
    await setup();
    // z ~ N(0, 1), x | z ~ N(1.5 z + 0.5, 0.8^2), x = 2: ELBO(m, s) = -1/2 log(2 pi 0.64)
    // - ((x - 1.5 m - 0.5)^2 + 2.25 s^2) / 1.28 + log s - (s^2 + m^2) / 2 + 1/2
    const [w, b, noise, x, m0, s0] = [1.5, 0.5, 0.8, 2, 0.3, 0.5];
    const exact = [
      (w * (x - w * m0 - b)) / noise ** 2 - m0,
      (-w * w * s0) / noise ** 2 + 1 / s0 - s0,
    ];
    const model = new D.LinearGaussianModel([[w]], [b], noise);
    const build = ([m, s]: tf.Tensor[]) => new D.Independent(new D.Normal(m, s), 1);
    // log p(x, z) - log q(z), z [n, 1]
    const integrand = (z: tf.Tensor, params: tf.Tensor[]) =>
      tf.sub(
        tf.add(model.likelihood(z).logProb([x]), model.prior().logProb(z)),
        build(params).logProb(z),
      );
    const m = tf.tensor1d([m0]);
    const s = tf.tensor1d([s0]);
    const before = tf.memory().numTensors;
    const cases = [
      { estimator: 'score', options: { baseline: 'leave-one-out' }, expected: exact },
      { estimator: 'reparameterization', options: {}, expected: exact },
      { estimator: 'fixed-draws', options: {}, expected: [0, 0] },
    ] as const;
    for (const { estimator, options, expected } of cases) {
      const g = D.gradientSummary(estimator, build, [m, s], integrand, 20000, options);
      expected.forEach((e, i) =>
        assert.ok(
          Math.abs(g.mean[i][0] - e) < 5 * g.standardError[i][0],
          `${estimator} parameter ${i}: ${g.mean[i][0]} ± ${g.standardError[i][0]} vs ${e}`,
        ),
      );
    }
    assert.equal(tf.memory().numTensors, before, 'gradientSummary leaves no tensor behind');
    tf.dispose([m, s]);
  },
);

test('gradientSummary gives the numbers of gradientEstimate for the same seed', async () => {
  await setup();
  const build = ([m, s]: tf.Tensor[]) => new D.Independent(new D.Normal(m, s), 1);
  const f = (z: tf.Tensor) => tf.sum(tf.square(z), -1);
  const params = [tf.tensor1d([0.7]), tf.tensor1d([1.3])];
  runtime.seed(5);
  const g = D.gradientEstimate('score', build, params, f, 500);
  const mean = g.mean.map((t) => values(t));
  const se = g.standardError.map((t) => values(t));
  runtime.seed(5);
  const summary = D.gradientSummary('score', build, params, f, 500);
  assert.deepEqual(summary.mean, mean);
  assert.deepEqual(summary.standardError, se);
  const perDraw = values(tf.moments(g.perSample[0]).variance)[0] * (500 / 499);
  assertClose(summary.perDrawVariance[0], [perDraw], 1e-3 * perDraw, 'per-draw variance');
  tf.dispose([...g.perSample, ...params]);
});

test('logMeanExp and meanWithError: exact on small sets, calibrated on Monte Carlo draws', async () => {
  await setup();
  const small = tf.tensor1d([Math.log(1), Math.log(3)]);
  const lme = D.logMeanExp(small);
  assert.ok(Math.abs(lme.estimate - Math.log(2)) < 1e-6, `${lme.estimate}`);
  // weights 1 and 3: sd sqrt(2), mean 2, n 2 -> standard error sqrt(2) / (sqrt(2) * 2) = 0.5
  assert.ok(Math.abs(lme.standardError - 0.5) < 1e-6, `${lme.standardError}`);
  const m = D.meanWithError(tf.tensor1d([1, 2, 3, 4]));
  assert.equal(m.estimate, 2.5);
  assert.ok(Math.abs(m.standardError - Math.sqrt(5 / 3 / 4)) < 1e-7);
  assert.equal(small.isDisposed, false, 'a tensor passed in stays with its owner');
  small.dispose();
  // log E[e^z] for z ~ N(0, 1) is 1/2; large-value shift by 1000 must not overflow
  const before = tf.memory().numTensors;
  const mc = D.logMeanExp(() => tf.add(new D.Normal(0, 1).sample(50000), 1000));
  assert.equal(tf.memory().numTensors, before, 'a function result is freed');
  assert.ok(
    Math.abs(mc.estimate - 1000.5) < 5 * mc.standardError,
    `${mc.estimate} ± ${mc.standardError}`,
  );
  assert.throws(() => D.logMeanExp(tf.tensor1d([1])), /needs at least 2 draws, got 1/);
  assert.throws(() => D.meanWithError(tf.tensor1d([1, NaN])), /draw 1 is NaN/);
  assert.throws(() => D.logMeanExp(tf.tensor1d([-Infinity, -Infinity])), /every weight is zero/);
  assert.throws(
    () => D.meanWithError([1, 2] as unknown as tf.Tensor),
    /expected a tensor of draws/,
  );
});

test('rsample carries gradients to the parameters and sample does not', async () => {
  await setup();
  const mu = tf.scalar(0.5);
  const [gr] = tf.grads((m: tf.Tensor) => tf.sum(new D.Normal(m, 1).rsample(10)))([mu]);
  assertClose(values(gr), [10], 1e-5, 'd/dmu sum of 10 rsamples');
  const [gs] = tf.grads((m: tf.Tensor) => tf.sum(new D.Normal(m, 1).sample(10)))([mu]);
  assertClose(values(gs), [0], 0, 'd/dmu of sample');
  mu.dispose();
});

test('invalid parameters throw errors that name the parameter and value', async () => {
  await setup();
  assert.throws(() => new D.Normal(0, -1), /Normal: scale must be positive and finite, got -1/);
  assert.throws(
    () => new D.Normal([0, 0], [1, 0, 2]),
    /loc and scale have shapes \[2\] and \[3\], which do not broadcast/,
  );
  assert.throws(() => new D.Normal([0, NaN], 1), /loc must be finite, got NaN at index \[1\]/);
  assert.throws(
    () => D.Normal.fromLogVariance(0, 500),
    /logVariance must be finite with \|logVariance\| < 170, got 500/,
  );
  assert.throws(
    () =>
      new D.MultivariateNormal([0, 0], {
        covariance: [
          [1, 2],
          [2, 1],
        ],
      }),
    /covariance is not positive definite/,
  );
  assert.throws(
    () =>
      new D.MultivariateNormal([0, 0], {
        covariance: [
          [1, 0.5],
          [0, 1],
        ],
      }),
    /covariance must be symmetric/,
  );
  assert.throws(
    () =>
      new D.MultivariateNormal([0, 0], {
        covariance: [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ],
      }),
    /covariance must have shape \[\.\.\., 2, 2\]/,
  );
  assert.throws(
    () =>
      new D.MultivariateNormal([0, 0], {
        scaleTril: [
          [1, 0],
          [0.5, -1],
        ],
      }),
    /diagonal of scaleTril must be positive and finite, got -1/,
  );
  assert.throws(
    () => new D.MultivariateNormal([0, 0], {}),
    /exactly one of \{ covariance \} or \{ scaleTril \}/,
  );
  assert.throws(
    () => new D.Bernoulli({ probs: [0.5, 1.5] }),
    /Bernoulli: probs must be in \[0, 1\], got 1.5 at index \[1\]/,
  );
  assert.throws(() => new D.Bernoulli({ probs: 0.5, logits: 0 }), /exactly one of/);
  assert.throws(
    () => new D.Categorical({ probs: [0.5, -0.1] }),
    /Categorical: probs must be non-negative and finite, got -0.1/,
  );
  assert.throws(
    () => new D.Categorical({ probs: [0, 0] }),
    /sum of probs over the last axis must be > 0, got 0/,
  );
  assert.throws(
    () => new D.Categorical({ probs: [0.5, 0.5] }).logProb([2]),
    /Categorical.logProb: x must be an integer in \{0, \.\.\., 1\}, got 2 at index \[0\]/,
  );
  assert.throws(
    () => new D.Uniform(1, 1),
    /Uniform: high - low must be positive and finite, got 0/,
  );
  assert.throws(
    () => new D.MixtureSameFamily(new D.Categorical({ probs: [1, 1, 1] }), new D.Normal([0, 1], 1)),
    /3 categories but the components' last batch axis has 2/,
  );
  assert.throws(
    () => new D.Normal([0, 0], 1).logProb([1, 2, 3]),
    /x has shape \[3\], which does not end in/,
  );
  assert.throws(
    () =>
      new D.MultivariateNormal([0, 0], {
        covariance: [
          [1, 0],
          [0, 1],
        ],
      }).logProb([1, 2, 3]),
    /x has shape \[3\]/,
  );
  assert.throws(() => new D.Normal(0, 1).sample(0), /sample shape must be a positive integer/);
  assert.throws(
    () => new D.Bernoulli({ probs: 0.5 }).rsample(3),
    /Bernoulli has no reparameterized sampler/,
  );
  assert.throws(
    () =>
      D.kl(
        new D.Normal(0, 1),
        new D.MultivariateNormal([0, 0], {
          covariance: [
            [1, 0],
            [0, 1],
          ],
        }),
      ),
    /event shape \[\] .* \[2\]/,
  );
  assert.throws(
    () => D.klMonteCarlo(new D.Normal(0, 1), new D.Normal(0, 1), 1),
    /samples must be an integer >= 2, got 1/,
  );
  assert.throws(() => D.cholesky(tf.zeros([2, 3])), /must be a square matrix/);
  const build = ([m, s]: tf.Tensor[]) => new D.Normal(m, s);
  const mu = tf.scalar(0);
  const sd = tf.scalar(1);
  assert.throws(
    () => D.gradientEstimate('pathwise' as 'score', build, [mu, sd], tf.square, 10),
    /estimator must be 'score', 'reparameterization', 'fixed-draws', got 'pathwise'/,
  );
  assert.throws(
    () =>
      D.gradientEstimate('score', build, [mu, sd], tf.square, 10, { baseLine: 'none' } as object),
    /unknown option\(s\) baseLine; use baseline/,
  );
  assert.throws(
    () =>
      D.gradientEstimate('reparameterization', build, [mu, sd], tf.square, 10, {
        baseline: 'leave-one-out',
      }),
    /a baseline applies to the 'score' estimator only/,
  );
  assert.throws(
    () =>
      D.gradientEstimate('score', build, [mu, sd], tf.square, 10, {
        baseline: 'mean' as 'none',
      }),
    /baseline must be 'none' or 'leave-one-out', got 'mean'/,
  );
  assert.throws(
    () => D.gradientEstimate('score', build, [mu, sd], tf.square, 1),
    /samples must be an integer >= 2, got 1/,
  );
  assert.throws(
    () => D.gradientEstimate('score', () => new D.Normal(0, 1), [mu, sd], tf.square, 10),
    /must return a batch of 10 distributions/,
  );
  assert.throws(
    () => D.monteCarlo(new D.Normal(0, 1), (z) => tf.sum(z), 10),
    /f must return one value per draw/,
  );
  tf.dispose([mu, sd]);
});

test('no tensor leaks across repeated evaluation, and same seed gives the same draws', async () => {
  await setup();
  const p = new D.MultivariateNormal([0, 1], {
    covariance: [
      [1, 0.2],
      [0.2, 1],
    ],
  });
  const q = new D.MultivariateNormal([1, 1], {
    covariance: [
      [2, 0],
      [0, 1],
    ],
  });
  const step = () => tf.tidy(() => tf.add(tf.sum(D.kl(p, q)), tf.sum(p.logProb(p.sample(8)))));
  step().dispose();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) step().dispose();
  assert.equal(tf.memory().numTensors, before);
  runtime.seed(7);
  const a = values(p.sample(5));
  runtime.seed(7);
  const b = values(p.sample(5));
  assert.deepEqual(a, b);
});

test(
  'lowerTriangular keeps the lower triangle and passes gradients (tf.linalg.bandPart ' +
    'does not)',
  async () => {
    await setup();
    const a = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    assert.deepEqual(Array.from(D.lowerTriangular(a).dataSync()), [1, 0, 3, 4]);
    const g = tf.grad((x: tf.Tensor) => tf.sum(D.lowerTriangular(x)))(a);
    assert.deepEqual(Array.from(g.dataSync()), [1, 0, 1, 1]);
    tf.dispose([a, g]);
  },
);

test('values outside the support, mismatched pairs and misspelled options fail with a clear error', () => {
  const normal = new D.Normal(0, 1);
  assert.throws(
    () => normal.logProb(NaN),
    /^Error: Normal.logProb: x must be a real number, got NaN$/,
  );
  assert.throws(() => normal.cdf([0, NaN]), /got NaN at index \[1\]/);
  assert.throws(
    () => new D.Independent(new D.Normal([0, 0], [1, 1]), 1).logProb([[0, NaN]]),
    /Normal.logProb: x must be a real number, got NaN at index \[0, 1\]/,
  );
  assert.throws(
    () => new D.Bernoulli({ logits: [0, 0] }).logProb([1, 5]),
    /Bernoulli.logProb: x must be in \[0, 1\], got 5 at index \[1\]/,
  );
  // With validate: false nothing is read back, and the caller answers for the values.
  const unchecked = new D.Normal(0, 1, { validate: false }).logProb(NaN);
  assert.ok(Number.isNaN(unchecked.dataSync()[0]));
  assert.throws(
    () => D.kl(new D.Normal([0, 0], [1, 1]), new D.Normal([0, 0, 0], [1, 1, 1])),
    /kl\(p, q\): p \(Normal\) and q \(Normal\) have shapes \[2\] and \[3\], which do not broadcast/,
  );
  assert.throws(
    () => D.kl(new D.Normal(0, 1), new D.Categorical({ probs: [0.5, 0.5] })),
    /kl\(Normal, Categorical\): p is continuous and q is discrete, so KL\(p \|\| q\) is not defined/,
  );
  assert.throws(
    () => new D.Normal(0, 1, { valdiate: false } as never),
    /Normal: unknown option 'valdiate' \(did you mean 'validate'\?\); the options are validate/,
  );
  assert.throws(
    () => new D.Bernoulli({ prob: 0.5 } as never),
    /Bernoulli: unknown option 'prob' \(did you mean 'probs'\?\)/,
  );
  assert.throws(() => D.kl(normal, normal, { sample: 10 } as never), /did you mean 'samples'/);
  tf.dispose(unchecked);
});
