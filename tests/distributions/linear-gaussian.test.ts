import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distributions as D, runtime, tf } from 'genlab';

function num(t: tf.Tensor): number {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

const W = [
  [1.0, -0.5],
  [0.3, 0.8],
  [-0.7, 0.2],
];
const B = [0.5, -1, 0.2];
const X = [1.2, 0.4, -0.9];

test(
  'LinearGaussianModel: 1D log p(x) is log N(x; b, w^2 + s^2) and the posterior is the ' +
    'textbook one',
  async () => {
    await runtime.init({ seed: 0, report: false });
    const model = new D.LinearGaussianModel([[2]], [1], 0.5);
    const x = 3;
    const v = 4 + 0.25;
    assert.ok(
      Math.abs(
        num(model.logMarginal([x])) - (-0.5 * Math.log(2 * Math.PI * v) - (x - 1) ** 2 / (2 * v)),
      ) < 1e-5,
    );
    const post = model.posterior([x]);
    // precision 1 + w^2 / s^2 = 17, mean = w (x - b) / s^2 / 17
    assert.ok(Math.abs(num(tf.sum(post.loc)) - (2 * 2) / 0.25 / 17) < 1e-5);
    assert.ok(Math.abs(num(tf.sum(post.covariance)) - 1 / 17) < 1e-6);
  },
);

test(
  'LinearGaussianModel: log p(x) = ELBO(q) + KL(q || p(z|x)) for any Gaussian q, with zero ' +
    'gap at the posterior',
  async () => {
    await runtime.init({ seed: 0, report: false });
    const model = new D.LinearGaussianModel(W, B, 0.7);
    const logPx = num(model.logMarginal(X));
    const post = model.posterior(X);
    const atPosterior = model.elbo(X, post);
    assert.ok(
      Math.abs(num(atPosterior.elbo) - logPx) < 1e-4,
      'ELBO at the exact posterior equals log p(x)',
    );
    const q = new D.MultivariateNormal([0.3, -0.2], {
      covariance: [
        [0.5, 0.1],
        [0.1, 0.3],
      ],
    });
    const terms = model.elbo(X, q);
    const elbo = num(terms.elbo);
    assert.ok(elbo < logPx, 'the ELBO is a lower bound');
    assert.ok(Math.abs(logPx - elbo - num(D.kl(q, post))) < 1e-4, 'gap = KL(q || posterior)');
    assert.ok(
      Math.abs(num(terms.reconstruction) - num(terms.kl) - elbo) < 1e-5,
      'ELBO = reconstruction - KL',
    );
  },
);

test('LinearGaussianModel: closed-form ELBO agrees with Monte Carlo within 5 standard errors', async () => {
  await runtime.init({ seed: 1, report: false });
  const model = new D.LinearGaussianModel(W, B, 0.7);
  const q = new D.MultivariateNormal([0.3, -0.2], {
    covariance: [
      [0.5, 0.1],
      [0.1, 0.3],
    ],
  });
  const n = 20000;
  const terms = tf.tidy(() => {
    const z = q.sample(n);
    return tf.sub(tf.add(model.likelihood(z).logProb(X), model.prior().logProb(z)), q.logProb(z));
  });
  const moments = tf.moments(terms);
  const se = Math.sqrt(num(moments.variance) / n);
  const mean = num(moments.mean);
  const exact = num(model.elbo(X, q).elbo);
  assert.ok(Math.abs(mean - exact) < 5 * se, `Monte Carlo ${mean} vs ${exact} ± ${se}`);
  const estimate = num(model.elboMonteCarlo(X, q, n));
  assert.ok(Math.abs(estimate - exact) < 5 * se, `elboMonteCarlo ${estimate}`);
  terms.dispose();
});

test('LinearGaussianModel: gradient ascent on the ELBO moves q to the posterior', async () => {
  await runtime.init({ seed: 2, report: false });
  const model = new D.LinearGaussianModel(W, B, 0.7);
  const m = tf.variable(tf.zeros([2]));
  const raw = tf.variable(tf.zeros([2, 2]));
  const optimizer = tf.train.adam(0.1);
  const q = () =>
    new D.MultivariateNormal(m, {
      scaleTril: tf.add(D.lowerTriangular(raw), tf.mul(tf.eye(2), tf.sub(tf.exp(raw), raw))),
      validate: false,
    });
  for (let i = 0; i < 150; i++)
    optimizer.minimize(() => tf.tidy(() => tf.neg(model.elbo(X, q()).elbo)));
  const gap = num(model.logMarginal(X)) - num(tf.tidy(() => model.elbo(X, q()).elbo));
  assert.ok(gap >= -1e-4 && gap < 1e-3, `gap after 150 steps: ${gap}`);
});

test('Normal.reparameterize maps noise to mu + sigma eps; LinearGaussianModel rejects bad inputs', async () => {
  await runtime.init({ seed: 0, report: false });
  const z = D.Normal.fromLogVariance([1, -1], [0, Math.log(4)]).reparameterize([0.5, 2]);
  assert.deepEqual(
    Array.from(z.dataSync()).map((v) => +v.toFixed(5)),
    [1.5, 3],
  );
  assert.throws(() => new D.LinearGaussianModel([[1]], [0, 0], 1), /b must have shape \[1\]/);
  assert.throws(
    () => new D.LinearGaussianModel([[1]], [0], 0),
    /noiseStd must be positive and finite, got 0/,
  );
  assert.throws(() => new D.LinearGaussianModel([1, 2], [0], 1), /W must be a \[d, m\] matrix/);
  assert.throws(
    () => new D.LinearGaussianModel(W, B, 1).logMarginal([1, 2]),
    /x must be one data point of shape \[3\], got \[2\]/,
  );
});
