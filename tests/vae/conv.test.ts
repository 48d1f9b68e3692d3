/**
 * The convolutional VAE (architecture 'conv', lib/models/vae/networks.ts) on the VAE's own
 * objective, trainer and checkpoints: its layers, the ELBO terms of its outputs, training without
 * leaks and from the seed, saving and resuming, labels, bad configs, and the cpu backend.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { data, models, runtime, tf } from 'genlab';
import { assertClose, on } from '../nn/checks';
import { softplus } from './helpers';

const { VAE, VaeTrainer, CONV_VAE_CONFIG, saveVae, loadVae } = models.vae;

/** A conv VAE small enough for quick tests: channels 4, 8 and z = 3. */
const SMALL: Partial<models.vae.VaeConfig> = { ...CONV_VAE_CONFIG, channels: [4, 8], latentDim: 3 };

before(async () => {
  await runtime.init({ seed: 0, report: false, backend: 'wasm' });
});

test('CONV_VAE_CONFIG: two stride-2 convolutions 32, 64, dense heads to z = 20, and the mirror', () => {
  runtime.seed(1);
  const model = new VAE(CONV_VAE_CONFIG);
  const shapes = Object.fromEntries(
    Object.entries(model.namedVariables()).map(([k, v]) => [k, v.shape.join('x')]),
  );
  assert.deepEqual(shapes, {
    'encoder.conv0.w': '4x4x1x32',
    'encoder.conv0.b': '32',
    'encoder.conv1.w': '4x4x32x64',
    'encoder.conv1.b': '64',
    'encoder.mean.w': '3136x20',
    'encoder.mean.b': '20',
    'encoder.logvar.w': '3136x20',
    'encoder.logvar.b': '20',
    'decoder.0.w': '20x3136',
    'decoder.0.b': '3136',
    'decoder.convT0.w': '4x4x32x64',
    'decoder.convT0.b': '32',
    'decoder.convT1.w': '4x4x1x32',
    'decoder.outputBias': '784',
  });
  const x = data.loadMnist('test', { limit: 5 }).imagesTensor();
  const { mean, logVar } = model.encode(x);
  assert.deepEqual(
    [mean.shape, logVar!.shape],
    [
      [5, 20],
      [5, 20],
    ],
  );
  const out = model.decoderOutput(mean);
  assert.deepEqual(out.shape, [5, 784]);
  tf.dispose([x, mean, logVar!, out]);
  model.dispose();
});

test("the conv VAE's ELBO terms are the VAE's: BCE of its output and the closed-form KL", () => {
  runtime.seed(2);
  const ae = new VAE({ ...SMALL, kind: 'autoencoder' });
  const x = data.loadMnist('test', { limit: 3 }).imagesTensor();
  // -log p(x|z) at z = mean(x) = sum_j softplus(l_j) - x_j l_j, from the decoder's output l.
  const logits = ae.decoderOutput(ae.encode(x).mean).arraySync();
  const pixels = x.arraySync();
  const expected = logits.map((row, i) =>
    row.reduce((s, l, j) => s + softplus(l) - pixels[i][j] * l, 0),
  );
  const terms = ae.elboTerms(x);
  terms.reconstruction
    .dataSync()
    .forEach((r, i) =>
      assert.ok(
        Math.abs(r - expected[i]) < 1e-4 * expected[i],
        `image ${i}: ${r} vs ${expected[i]}`,
      ),
    );
  assert.deepEqual(Array.from(terms.kl.dataSync()), [0, 0, 0]);
  // The decoder output is linear in the per-pixel output bias: moving one entry moves one pixel.
  const before = ae.decoderOutput(tf.zeros([1, 3]) as tf.Tensor2D).dataSync();
  const bias = ae.networks.outputBias;
  bias.assign(
    tf.tidy(() => tf.add(bias, tf.oneHot(tf.tensor1d([100], 'int32'), 784).reshape([784]))),
  );
  const after = ae.decoderOutput(tf.zeros([1, 3]) as tf.Tensor2D).dataSync();
  after.forEach((v, j) =>
    assert.ok(Math.abs(v - before[j] - (j === 100 ? 1 : 0)) < 1e-5, `pixel ${j}`),
  );
  const vae = new VAE(SMALL);
  const { mean, logVar } = vae.encode(x);
  runtime.seed(3);
  const kl = vae.elboTerms(x).kl.dataSync();
  // KL(N(mu, diag(sigma^2)) || N(0, I)) = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)
  const [mu, lv] = [mean.arraySync(), logVar!.arraySync()];
  const closedForm = mu.map(
    (row, i) => 0.5 * row.reduce((s, m, j) => s + m * m + Math.exp(lv[i][j]) - 1 - lv[i][j], 0),
  );
  kl.forEach((k, i) => assert.ok(Math.abs(k - closedForm[i]) < 1e-5, `${k} vs ${closedForm[i]}`));
  tf.dispose([x, terms.reconstruction, terms.kl, mean, logVar!]);
  ae.dispose();
  vae.dispose();
});

test('training the conv VAE leaks no tensors and repeats from the seed', async () => {
  const run = async (seed: number) => {
    await runtime.init({ seed, report: false, backend: 'wasm' });
    const model = new VAE(SMALL);
    const trainer = new VaeTrainer(model, { batchSize: 16 });
    const set = data.loadMnist('train', { limit: 64 });
    const counts: number[] = [];
    const losses: number[] = [];
    for (const batch of set.batches(16)) {
      const s = trainer.step(batch.x);
      losses.push(s.reconstruction + s.kl);
      counts.push(tf.memory().numTensors);
    }
    assert.deepEqual(
      counts.slice(1),
      counts.slice(1).map(() => counts[1]),
      `${counts}`,
    );
    trainer.dispose();
    model.dispose();
    return losses;
  };
  const first = await run(4);
  assert.deepEqual(await run(4), first);
  assert.notDeepEqual(await run(5), first);
});

test('a saved conv VAE loads with its architecture and continues training with the same losses', async () => {
  await runtime.init({ seed: 6, report: false, backend: 'wasm' });
  const model = new VAE(SMALL);
  const trainer = new VaeTrainer(model, { batchSize: 16 });
  const set = data.loadMnist('train', { limit: 48 });
  await trainer.fit(set, { epochs: 1, progress: false });
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-convvae-')), 'model');
  await saveVae(dir, trainer);
  const batches = Array.from(set.batches(16, { shuffle: false }), (b) => b.x.clone());
  const losses = (t: models.vae.VaeTrainer) => {
    runtime.seed(9);
    return batches.map((x) => {
      const s = t.step(x);
      return s.reconstruction + s.kl;
    });
  };
  const original = losses(trainer);
  const loaded = await loadVae(dir);
  assert.deepEqual(loaded.model.config, model.config);
  assert.equal(loaded.model.config.architecture, 'conv');
  const resumed = losses(loaded.trainer);
  assert.equal(resumed[0], original[0]);
  resumed.forEach((r, i) => assert.ok(Math.abs(r - original[i]) <= 1e-5 * original[i]));
  tf.dispose(batches);
  [trainer, loaded.trainer].forEach((t) => t.dispose());
  [model, loaded.model].forEach((m) => m.dispose());
  fs.rmSync(path.dirname(dir), { recursive: true });
});

test('a conditional conv VAE decodes differently per label', () => {
  runtime.seed(7);
  const model = new VAE({ ...SMALL, classes: 10 });
  const z = tf.zeros([2, 3]) as tf.Tensor2D;
  const [a, b] = tf.tidy(() => [
    model.decode(z, [1, 1]).dataSync(),
    model.decode(z, [1, 7]).dataSync(),
  ]);
  assert.deepEqual(a.slice(0, 784), a.slice(784), 'same label, same image');
  assert.notDeepEqual(a.slice(784), b.slice(784), 'another label, another image');
  assert.throws(() => model.decode(z), /conditioned on 10 classes: pass the labels/);
  z.dispose();
  model.dispose();
});

test('bad conv VAE configs fail with a message naming the field', () => {
  assert.throws(
    () => new VAE({ ...CONV_VAE_CONFIG, imageShape: [28, 27, 1] }),
    /imageShape \[28,27,1\] has 756 values, but inputDim is 784/,
  );
  assert.throws(
    () => new VAE({ ...CONV_VAE_CONFIG, channels: [32, 64, 128] }),
    /VAE config: 3 stride-2 layers need an image side divisible by 8, got imageShape \[28,28,1\]/,
  );
  assert.throws(
    () => new VAE({ ...CONV_VAE_CONFIG, channels: [32, 0] }),
    /channels must list at least one positive integer, got \[32,0\]/,
  );
  assert.throws(
    () => new VAE({ ...CONV_VAE_CONFIG, imageShape: undefined }),
    /VAE config \(conv\): imageShape must be \[height, width, channels\] of positive integers, got undefined/,
  );
  assert.throws(
    () => new VAE({ ...CONV_VAE_CONFIG, architecture: 'cnn' as 'conv' }),
    /architecture must be 'mlp' or 'conv', got 'cnn'/,
  );
});

test('the conv VAE gives the same ELBO terms and gradients on the cpu backend as on wasm', async () => {
  const run = (): tf.Tensor[] => {
    runtime.seed(8);
    const model = new VAE(SMALL);
    const x = data.loadMnist('test', { limit: 4 }).imagesTensor();
    const { value, grads } = tf.variableGrads(() => model.loss(x), model.variables());
    model.dispose();
    return [value, ...Object.values(grads)];
  };
  const cpu = await on('cpu', run);
  const wasm = await on('wasm', run);
  // The loss is a sum over 4 x 784 pixels (~1e3): float32 sums in other orders differ by ~1e-4.
  cpu.forEach((c, i) => assertClose(wasm[i], c, 1e-4, 1e-3, `loss and gradients, tensor ${i}`));
});
