/**
 * encoderShapes and parameterCount (lib/models/vae/summary.ts): the shapes stated from a config are
 * the shapes the built networks produce, and the count is the closed form of each architecture.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { models, runtime, tf } from 'genlab';

const { VAE, CONV_VAE_CONFIG, LECTURE_CONFIG, encoderShapes, parameterCount } = models.vae;

before(async () => {
  await runtime.init({ seed: 0, report: false, backend: 'wasm' });
});

test('encoderShapes of a conv config are the shapes its convolutions produce', () => {
  for (const config of [CONV_VAE_CONFIG, { ...CONV_VAE_CONFIG, channels: [4, 8], latentDim: 3 }]) {
    const model = new VAE(config);
    const networks = model.networks as models.vae.ConvVaeNetworks;
    const traced = tf.tidy(() => {
      const shapes = [config.imageShape!];
      let maps = tf.zeros([1, ...config.imageShape!]) as tf.Tensor4D;
      for (const conv of networks.encoderConvs) {
        maps = conv.apply(maps);
        shapes.push(maps.shape.slice(1) as [number, number, number]);
      }
      return shapes;
    });
    const x = tf.zeros([1, 784]) as tf.Tensor2D;
    const { mean, logVar } = model.encode(x);
    assert.deepEqual(encoderShapes(config), [...traced, mean.shape.slice(1)]);
    assert.deepEqual(logVar!.shape.slice(1), mean.shape.slice(1));
    tf.dispose([x, mean, logVar!]);
    model.dispose();
  }
  assert.deepEqual(encoderShapes(CONV_VAE_CONFIG), [[28, 28, 1], [14, 14, 32], [7, 7, 64], [20]]);
});

test('encoderShapes of an MLP config are the widths of its layers', () => {
  const config = { ...LECTURE_CONFIG, hidden: [400, 200], latentDim: 5 };
  const model = new VAE(config);
  const networks = model.networks as models.vae.MlpVaeNetworks;
  const widths = networks.encoderBody.layers.map((layer) => [layer.w.shape[1]]);
  assert.deepEqual(encoderShapes(config), [[784], ...widths, [5]]);
  assert.deepEqual(encoderShapes(LECTURE_CONFIG), [[784], [400], [20]]);
  model.dispose();
});

test('parameterCount is the closed form of each architecture', () => {
  const mlp = new VAE(LECTURE_CONFIG);
  // encoder 784 -> 400, heads 400 -> 20 twice, decoder 20 -> 400 -> 784 (weights and biases)
  const mlpCount = 784 * 400 + 400 + 2 * (400 * 20 + 20) + (20 * 400 + 400) + (400 * 784 + 784);
  assert.equal(parameterCount(mlp), mlpCount);
  mlp.dispose();
  const conv = new VAE(CONV_VAE_CONFIG);
  // 4x4 convolutions 1 -> 32 -> 64, heads 3136 -> 20 twice, dense 20 -> 3136, transposed 4x4
  // convolutions 64 -> 32 (bias) -> 1 (no bias), one output bias per pixel
  const convCount =
    16 * 32 +
    32 +
    (16 * 32 * 64 + 64) +
    2 * (3136 * 20 + 20) +
    (20 * 3136 + 3136) +
    (16 * 64 * 32 + 32) +
    16 * 32 +
    784;
  assert.equal(parameterCount(conv), convCount);
  conv.dispose();
});

test('encoderShapes: bad configs fail at once, naming the problem; no tensors are left', () => {
  const before = tf.memory().numTensors;
  encoderShapes(CONV_VAE_CONFIG);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => encoderShapes({ ...CONV_VAE_CONFIG, chanels: [32] } as never), /chanels/);
  assert.throws(() => encoderShapes({ ...CONV_VAE_CONFIG, channels: [8, 16, 32] }), /divisible/);
  assert.throws(() => encoderShapes({ ...LECTURE_CONFIG, latentDim: NaN }), /latentDim/);
  assert.throws(() => encoderShapes({ ...LECTURE_CONFIG, hidden: [400, -1] }), /hidden/);
});
