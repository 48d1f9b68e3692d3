import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models, runtime, tf } from 'genlab';
import { setWeights } from './helpers';

const { VAE, importanceWeightedLogLikelihood } = models.vae;

/** A tiny VAE with a 1-D latent whose exact log p(x) is a one-dimensional integral. */
function tinyModel(): models.vae.VAE {
  const model = new VAE({ inputDim: 4, hidden: [3], latentDim: 1 });
  // Deterministic weights big enough that p(z | x) differs clearly from q(z | x) and from the
  // prior.
  setWeights(
    model,
    (name, i) => (name.startsWith('decoder') ? 2.5 : 0.8) * Math.sin(1.7 * i + name.length),
  );
  return model;
}

/** log p(x) = log ∫ p(x | z) N(z; 0, 1) dz by the trapezoid rule on [-10, 10]. */
function exactLogLikelihood(model: models.vae.VAE, x: number[]): number {
  const grid = Array.from({ length: 4001 }, (_, i) => -10 + i * 0.005);
  const logJoint = tf.tidy(() => {
    const z = tf.tensor2d(grid, [grid.length, 1]);
    const xs = tf.tile(tf.tensor2d([x]), [grid.length, 1]) as tf.Tensor2D;
    const logPxz = model.likelihood(z).logProb(xs);
    return tf
      .sub(logPxz, tf.add(tf.mul(tf.square(z.squeeze()), 0.5), 0.5 * Math.log(2 * Math.PI)))
      .dataSync() as Float32Array;
  });
  const m = Math.max(...logJoint);
  const sum = logJoint.reduce(
    (s, v, i) => s + (i === 0 || i === grid.length - 1 ? 0.5 : 1) * Math.exp(v - m),
    0,
  );
  return m + Math.log(sum * 0.005);
}

function meanAndSe(values: ArrayLike<number>): { mean: number; se: number } {
  const a = Array.from(values);
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / (a.length - 1);
  return { mean, se: Math.sqrt(variance / a.length) };
}

const X = [1, 0, 1, 1];

test('IWAE at K = 1 is an unbiased estimate of the ELBO', async () => {
  await runtime.init({ seed: 2, report: false });
  const model = tinyModel();
  const repeats = 4000;
  const xs = tf.tile(tf.tensor2d([X]), [repeats, 1]) as tf.Tensor2D;
  const iwae1 = meanAndSe(
    await importanceWeightedLogLikelihood(model, xs, undefined, { samples: 1 }),
  );
  const { reconstruction, kl } = model.elboTerms(xs);
  const elbo = meanAndSe(tf.neg(tf.add(reconstruction, kl)).dataSync());
  const se = Math.hypot(iwae1.se, elbo.se);
  assert.ok(
    Math.abs(iwae1.mean - elbo.mean) < 5 * se,
    `L_1 ${iwae1.mean} vs ELBO ${elbo.mean} (se ${se})`,
  );
  model.dispose();
});

test('IWAE bound increases with K on average and approaches the exact log p(x) from below', async () => {
  await runtime.init({ seed: 4, report: false });
  const model = tinyModel();
  const exact = exactLogLikelihood(model, X);
  const repeats = 400;
  const xs = tf.tile(tf.tensor2d([X]), [repeats, 1]) as tf.Tensor2D;
  const bounds: { mean: number; se: number }[] = [];
  for (const K of [1, 10, 100, 1000])
    bounds.push(
      meanAndSe(
        await importanceWeightedLogLikelihood(model, xs, undefined, {
          samples: K,
          chunkRows: 20000,
        }),
      ),
    );
  for (let i = 1; i < bounds.length; i++) {
    const gain = bounds[i].mean - bounds[i - 1].mean;
    assert.ok(
      gain > 3 * Math.hypot(bounds[i].se, bounds[i - 1].se),
      `L_K did not increase: ${bounds.map((b) => b.mean.toFixed(4)).join(' < ')}`,
    );
  }
  for (const b of bounds)
    assert.ok(b.mean < exact + 5 * b.se, `bound ${b.mean} above exact log p(x) ${exact}`);
  // The gap at K = 1000 is far below the gap at K = 1 (the ELBO's gap is KL(q || posterior)).
  assert.ok(
    exact - bounds[3].mean < 0.05 * (exact - bounds[0].mean) + 5 * bounds[3].se,
    `L_1000 ${bounds[3].mean}, exact ${exact}, L_1 ${bounds[0].mean}`,
  );
  model.dispose();
});

test('chunking the K samples does not change the estimator (same noise, different chunk sizes)', async () => {
  await runtime.init({ seed: 0, report: false });
  const model = tinyModel();
  const xs = tf.tile(tf.tensor2d([X]), [200, 1]) as tf.Tensor2D;
  runtime.seed(9);
  const a = meanAndSe(
    await importanceWeightedLogLikelihood(model, xs, undefined, {
      samples: 50,
      chunkRows: 200 * 7,
    }),
  );
  runtime.seed(10);
  const b = meanAndSe(
    await importanceWeightedLogLikelihood(model, xs, undefined, {
      samples: 50,
      chunkRows: 200 * 50,
    }),
  );
  assert.ok(
    Math.abs(a.mean - b.mean) < 5 * Math.hypot(a.se, b.se),
    `chunked ${a.mean} vs whole ${b.mean}`,
  );
  model.dispose();
});

test('IWAE leaks no tensors and rejects bad arguments', async () => {
  await runtime.init({ seed: 0, report: false });
  const model = tinyModel();
  const xs = tf.tensor2d([X, X]);
  await importanceWeightedLogLikelihood(model, xs, undefined, { samples: 30, chunkRows: 10 });
  const before = tf.memory().numTensors;
  await importanceWeightedLogLikelihood(model, xs, undefined, { samples: 30, chunkRows: 10 });
  assert.equal(tf.memory().numTensors, before);
  await assert.rejects(
    () => importanceWeightedLogLikelihood(model, xs, undefined, { samples: 0 }),
    /samples \(K\) must be a positive integer, got 0/,
  );
  await assert.rejects(
    () => importanceWeightedLogLikelihood(model, xs, undefined, { chunkRows: 1.5 }),
    /chunkRows must be a positive integer, got 1.5/,
  );
  await assert.rejects(
    () => importanceWeightedLogLikelihood(model, xs, undefined, { K: 10 } as never),
    /importanceWeightedLogLikelihood: unknown option 'K'; the options are samples, chunkRows/,
  );
  const ae = new VAE({ kind: 'autoencoder', inputDim: 4, hidden: [3], latentDim: 1 });
  await assert.rejects(
    () => importanceWeightedLogLikelihood(ae, xs),
    /needs a VAE: an autoencoder defines no q\(z \| x\)/,
  );
  model.dispose();
  ae.dispose();
});
