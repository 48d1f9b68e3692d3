import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distributions, models, runtime, tf } from 'genlab';
import { denseJs, setWeights, softplus } from './helpers';

const { VAE, diagonalGaussian } = models.vae;

/** -log p(x | z) of `model`'s decoder from its output (pre-sigmoid), per image. */
const reconstructionNll = (model: models.vae.VAE, x: tf.Tensor, output: tf.Tensor) =>
  tf.neg(model.decoderDistribution(output).logProb(x));

test('ELBO terms of a hand-set network match values worked out by hand', async () => {
  await runtime.init({ seed: 0, report: false });
  // All weights zero: mu = 1, log sigma^2 = log 4 for every x; the decoder outputs logits b = [0,
  // 2, -1] for every z.
  const model = new VAE({ inputDim: 3, hidden: [2], latentDim: 1 });
  setWeights(model, (name, i) =>
    name === 'encoder.mean.b'
      ? 1
      : name === 'encoder.logvar.b'
        ? Math.log(4)
        : name === 'decoder.1.b'
          ? [0, 2, -1][i]
          : 0,
  );
  const x = tf.tensor2d([[1, 0, 0.5]]);
  const { reconstruction, kl } = model.elboTerms(x);
  // KL = 1/2 (mu^2 + sigma^2 - 1 - log sigma^2) = 1/2 (1 + 4 - 1 - log 4)
  assert.ok(Math.abs(kl.dataSync()[0] - 0.5 * (4 - Math.log(4))) < 1e-5);
  // BCE = sum_j softplus(l_j) - x_j l_j = log 2 + softplus(2) + (softplus(-1) + 0.5)
  const expected = Math.log(2) + 2.1269280110429727 + (0.31326168751822286 + 0.5);
  assert.ok(
    Math.abs(reconstruction.dataSync()[0] - expected) < 1e-5,
    `reconstruction ${reconstruction.dataSync()[0]} vs ${expected}`,
  );
  const loss = model.loss(x).dataSync()[0];
  assert.ok(Math.abs(loss - (expected + 0.5 * (4 - Math.log(4)))) < 1e-5);
  model.dispose();
});

test(
  'ELBO terms of a random tiny network match a plain-JavaScript computation with the ' +
    'same noise',
  async () => {
    await runtime.init({ seed: 3, report: false });
    const model = new VAE({ inputDim: 4, hidden: [3], latentDim: 2 });
    const vars = Object.fromEntries(
      Object.entries(model.namedVariables()).map(([k, v]) => [k, v.dataSync() as Float32Array]),
    );
    const xs = [
      [0, 1, 0.25, 0.9],
      [1, 1, 0, 0.5],
    ];
    // Reproduce the noise eps drawn inside elboTerms from the same seed.
    runtime.seed(11);
    const eps = tf
      .randomNormal([2, 2], 0, 1, 'float32', runtime.nextSeed())
      .arraySync() as number[][];
    runtime.seed(11);
    const { reconstruction, kl } = model.elboTerms(tf.tensor2d(xs));
    xs.forEach((x, n) => {
      const h = denseJs(x, vars['encoder.0.w'], vars['encoder.0.b'], 'relu');
      const mu = denseJs(h, vars['encoder.mean.w'], vars['encoder.mean.b'], 'linear');
      const lv = denseJs(h, vars['encoder.logvar.w'], vars['encoder.logvar.b'], 'linear');
      const klJs = 0.5 * mu.reduce((s, m, j) => s + m * m + Math.exp(lv[j]) - 1 - lv[j], 0);
      const z = mu.map((m, j) => m + Math.exp(lv[j] / 2) * eps[n][j]);
      const logits = denseJs(
        denseJs(z, vars['decoder.0.w'], vars['decoder.0.b'], 'relu'),
        vars['decoder.1.w'],
        vars['decoder.1.b'],
        'linear',
      );
      const bce = logits.reduce((s, l, j) => s + softplus(l) - x[j] * l, 0);
      assert.ok(
        Math.abs(kl.dataSync()[n] - klJs) < 1e-5,
        `KL of image ${n}: ${kl.dataSync()[n]} vs ${klJs}`,
      );
      assert.ok(
        Math.abs(reconstruction.dataSync()[n] - bce) < 1e-4,
        `BCE of image ${n}: ${reconstruction.dataSync()[n]} vs ${bce}`,
      );
    });
    model.dispose();
  },
);

test('Bernoulli reconstruction stays finite and exact for extreme logits (BCE with logits)', async () => {
  await runtime.init({ seed: 0, report: false });
  const model = new VAE({ inputDim: 2, hidden: [2], latentDim: 1 });
  const nll = reconstructionNll(
    model,
    tf.tensor2d([[0, 1]]),
    tf.tensor2d([[100, -100]]),
  ).dataSync()[0];
  assert.ok(Math.abs(nll - 200) < 1e-3, `expected 200 nats, got ${nll}`);
  model.dispose();
});

test('Gaussian decoder loss is squared error / (2 s^2) plus the normalizer', async () => {
  await runtime.init({ seed: 0, report: false });
  const s = 0.5;
  const model = new VAE({
    inputDim: 2,
    hidden: [2],
    latentDim: 1,
    likelihood: 'gaussian',
    gaussianStd: s,
  });
  // mean = sigmoid(0) = 0.5 for both pixels
  const nll = reconstructionNll(
    model,
    tf.tensor2d([[1, 0.25]]),
    tf.tensor2d([[0, 0]]),
  ).dataSync()[0];
  const expected = (0.25 + 0.0625) / (2 * s * s) + Math.log(2 * Math.PI * s * s);
  assert.ok(Math.abs(nll - expected) < 1e-5, `${nll} vs ${expected}`);
  model.dispose();
});

test(
  'KL closed form matches a Monte Carlo estimate E_q[log q(z) - log p(z)] within 5 ' +
    'standard errors',
  async () => {
    await runtime.init({ seed: 1, report: false });
    const n = 20000;
    const mean = tf.fill([n, 2], 0.7) as tf.Tensor2D;
    const logVar = tf.tensor2d(Array.from({ length: n }, () => [Math.log(0.3), Math.log(2)]));
    const model = new VAE({ inputDim: 4, hidden: [3], latentDim: 2 });
    const q = diagonalGaussian(mean, logVar);
    const z = q.sample();
    const logRatio = tf.sub(q.logProb(z), model.prior.logProb(z)).dataSync() as Float32Array;
    const m = logRatio.reduce((a, b) => a + b, 0) / n;
    const se = Math.sqrt(logRatio.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1) / n);
    // KL(N(mu, diag(sigma^2)) || N(0, I)) = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)
    const exact = 0.5 * [0.3, 2].reduce((s, v) => s + 0.49 + v - 1 - Math.log(v), 0);
    const first = diagonalGaussian(mean.slice(0, 1), logVar.slice(0, 1));
    const registered = distributions.kl(first, model.prior).dataSync()[0];
    assert.ok(Math.abs(registered - exact) < 1e-5, `kl() ${registered} vs ${exact}`);
    assert.ok(Math.abs(m - exact) < 5 * se, `MC ${m} +- ${se} vs closed form ${exact}`);
    model.dispose();
  },
);

test('an autoencoder has no KL term and a deterministic reconstruction', async () => {
  await runtime.init({ seed: 0, report: false });
  const ae = new VAE({ kind: 'autoencoder', inputDim: 4, hidden: [3], latentDim: 2 });
  const x = tf.tensor2d([[0, 1, 0.5, 0.2]]);
  assert.equal(ae.encode(x).logVar, undefined);
  assert.ok(!Object.keys(ae.namedVariables()).some((k) => k.includes('logvar')));
  const a = ae.elboTerms(x);
  const b = ae.elboTerms(x);
  assert.equal(a.kl.dataSync()[0], 0);
  assert.equal(a.reconstruction.dataSync()[0], b.reconstruction.dataSync()[0]);
  ae.dispose();
});

test('a conditional VAE decodes differently per label and demands labels', async () => {
  await runtime.init({ seed: 0, report: false });
  const cvae = new VAE({ inputDim: 4, hidden: [3], latentDim: 2, classes: 3 });
  const z = tf.zeros([2, 2]) as tf.Tensor2D;
  const out = cvae.decode(z, [0, 2]).arraySync();
  assert.notDeepEqual(out[0], out[1]);
  assert.throws(() => cvae.decode(z), /conditioned on 3 classes: pass the labels/);
  assert.throws(
    () => cvae.decode(z, [0, 3]),
    /labels\[1\] = 3: labels must be integers in \[0, 3\)/,
  );
  assert.throws(() => cvae.decode(z, [0]), /expected 2 labels/);
  const plain = new VAE({ inputDim: 4, hidden: [3], latentDim: 2 });
  assert.throws(() => plain.decode(z, [0, 1]), /labels were given to an unconditional model/);
  cvae.dispose();
  plain.dispose();
});

test('bad configurations and inputs throw errors naming the parameter', () => {
  assert.throws(() => new VAE({ latentDim: 0 }), /latentDim must be a positive integer, got 0/);
  assert.throws(() => new VAE({ hidden: [] }), /hidden must list at least one layer size/);
  assert.throws(
    () => new VAE({ hidden: [400, 2.5] }),
    /hidden\[1\] must be a positive integer, got 2.5/,
  );
  assert.throws(
    () => new VAE({ likelihood: 'poisson' as never }),
    /likelihood must be one of 'bernoulli', 'gaussian', got 'poisson'/,
  );
  assert.throws(
    () => new VAE({ gaussianStd: 0 }),
    /gaussianStd must be a finite number > 0, got 0/,
  );
  assert.throws(() => new VAE({ klWeight: -1 }), /klWeight must be a finite number >= 0, got -1/);
  assert.throws(
    () => new VAE({ kind: 'gan' as never }),
    /kind must be one of 'vae', 'autoencoder'/,
  );
  assert.throws(() => new VAE({ classes: -2 }), /classes .* must be a non-negative integer/);
  // A misspelled option must not train a 20-dimensional model.
  assert.throws(
    () => new VAE({ latent: 2 } as never),
    /VAE config: unknown option 'latent' \(did you mean 'latentDim'\?\); the options are kind, /,
  );
  assert.throws(() => new VAE({}, { bias: tf.zeros([784]) } as never), /'bias'.*outputBias/);
  const model = new VAE({ inputDim: 4, hidden: [3], latentDim: 2 });
  // Pixels outside [0, 1] (raw bytes, a corrupted batch) or NaN never reach the loss.
  assert.throws(
    () => model.loss(tf.tensor2d([[0, 0.5, 5, 1]])),
    /VAE: x must be pixel intensities in \[0, 1\], got 5 at index \[0, 2\]. Scale raw bytes by 1\/255/,
  );
  assert.throws(() => model.loss(tf.tensor2d([[0, NaN, 1, 1]])), /got NaN at index \[0, 1\]/);
  assert.throws(
    () => model.elboTerms(tf.zeros([2, 5]) as tf.Tensor2D),
    /x must be a batch of images \[n, 4\], got \[2, 5\]/,
  );
  assert.throws(
    () => model.decode(tf.zeros([2, 3]) as tf.Tensor2D),
    /z must be latents \[n, 2\], got \[2, 3\]/,
  );
  assert.throws(() => model.sample(0), /sample\(n\): n must be a positive integer, got 0/);
  model.dispose();
});

test('reconstruction with leading sample axes equals the per-sample computation (x broadcast)', async () => {
  await runtime.init({ seed: 0, report: false });
  for (const likelihood of ['bernoulli', 'gaussian'] as const) {
    const model = new VAE({ inputDim: 5, hidden: [3], latentDim: 2, likelihood, gaussianStd: 0.3 });
    const x = tf.randomUniform([4, 5]) as tf.Tensor2D;
    const outputs = tf.randomNormal([3, 4, 5]) as tf.Tensor3D;
    const stacked = reconstructionNll(model, x, outputs).arraySync() as number[][];
    for (let s = 0; s < 3; s++) {
      const output = outputs.slice([s, 0, 0], [1, 4, 5]).reshape([4, 5]);
      const single = reconstructionNll(model, x, output).arraySync() as number[];
      single.forEach((v, i) =>
        assert.ok(Math.abs(v - stacked[s][i]) < 1e-4, `${likelihood} sample ${s} image ${i}`),
      );
    }
    model.dispose();
  }
});
