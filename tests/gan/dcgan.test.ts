/**
 * The DCGAN (lib/models/gan/dcgan.ts) inside the kit's GAN: the issue's architecture layer by
 * layer, its start, the trainer's step (leaks, seeds, batch-norm modes), saving, bad configs, and
 * the same numbers on the cpu backend.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { models, nn, runtime, tf, training } from 'genlab';

const { GAN, GanTrainer, MNIST_DCGAN } = models.gan;

/** A DCGAN small enough for the cpu backend: 8x8 images, G 16 -> 4x4 -> 8x8, D 8 -> 4x4 -> 1. */
const TINY: models.gan.DcganConfig = {
  architecture: 'dcgan',
  latentDim: 6,
  imageShape: [8, 8, 1],
  generatorChannels: [8, 4],
  discriminatorChannels: [4, 8],
  dataRange: [0, 1],
};

before(async () => {
  await runtime.init({ seed: 0, report: false, backend: 'wasm' });
});

test("MNIST_DCGAN has the issue's layers: shapes of every variable and of every map", () => {
  runtime.seed(1);
  const gan = new GAN(MNIST_DCGAN);
  const shapes = Object.fromEntries(
    Object.entries(gan.namedVariables()).map(([k, v]) => [k, v.shape.join('x')]),
  );
  assert.deepEqual(shapes, {
    // G: ConvT 100->128 7x7 (no bias: BN follows), BN, ConvT 128->64 4x4, BN, ConvT 64->1 4x4
    'G.0.w': '7x7x128x100',
    'G.bn0.gamma': '128',
    'G.bn0.beta': '128',
    'G.bn0.runningMean': '128',
    'G.bn0.runningVariance': '128',
    'G.1.w': '4x4x64x128',
    'G.bn1.gamma': '64',
    'G.bn1.beta': '64',
    'G.bn1.runningMean': '64',
    'G.bn1.runningVariance': '64',
    'G.2.w': '4x4x1x64',
    'G.2.b': '1',
    // D: Conv 1->64 4x4, Conv 64->128 4x4 (no bias), BN, Conv 128->1 7x7
    'D.0.w': '4x4x1x64',
    'D.0.b': '64',
    'D.1.w': '4x4x64x128',
    'D.bn1.gamma': '128',
    'D.bn1.beta': '128',
    'D.bn1.runningMean': '128',
    'D.bn1.runningVariance': '128',
    'D.2.w': '7x7x128x1',
    'D.2.b': '1',
  });
  const generator = gan.generator as models.gan.DcganGenerator;
  const maps: string[] = [];
  tf.tidy(() => {
    generator.layers.reduce(
      (h: tf.Tensor4D, layer) => {
        const y = layer instanceof nn.BatchNorm ? layer.apply(h) : layer.apply(h);
        maps.push(y.shape.slice(1).join('x'));
        return y;
      },
      tf.zeros([2, 1, 1, 100]) as tf.Tensor4D,
    );
  });
  assert.deepEqual(maps, ['7x7x128', '7x7x128', '14x14x64', '14x14x64', '28x28x1']);
  const x = gan.sample(3);
  assert.deepEqual(x.shape, [3, 784]);
  const values = x.dataSync();
  assert.ok(
    values.every((v) => v >= 0 && v <= 1),
    'samples in the data range [0, 1]',
  );
  const logits = gan.logits(x);
  assert.deepEqual(logits.shape, [3, 1]);
  tf.dispose([x, logits]);
  gan.dispose();
});

test('the DCGAN starts as Radford et al.: conv weights N(0, 0.02^2), biases 0, BN scales N(1, 0.02^2)', () => {
  runtime.seed(2);
  const gan = new GAN(MNIST_DCGAN);
  const v = gan.namedVariables();
  const moments = (name: string) => {
    const a = v[name].dataSync() as Float32Array;
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    const sd = Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length);
    return { mean, sd, n: a.length };
  };
  for (const name of ['G.0.w', 'G.1.w', 'D.1.w']) {
    const { mean, sd, n } = moments(name);
    // n draws: the mean is within 5 sd/sqrt(n) of 0, the sample sd within 5 sd/sqrt(2n) of 0.02.
    assert.ok(Math.abs(mean) < (5 * 0.02) / Math.sqrt(n), `${name} mean ${mean}`);
    assert.ok(Math.abs(sd - 0.02) < (5 * 0.02) / Math.sqrt(2 * n), `${name} sd ${sd}`);
  }
  const gamma = moments('D.bn1.gamma');
  assert.ok(Math.abs(gamma.mean - 1) < (5 * 0.02) / Math.sqrt(gamma.n), `gamma mean ${gamma.mean}`);
  assert.deepEqual(Array.from(v['D.0.b'].dataSync()), new Array(64).fill(0));
  gan.dispose();
});

test('a DCGAN step trains both networks and their batch statistics, leaks nothing, and repeats from the seed', () => {
  const run = (seed: number) => {
    runtime.seed(seed);
    const gan = new GAN(TINY);
    const trainer = new GanTrainer(gan);
    const real = tf.randomUniform([16, 64]) as tf.Tensor2D;
    const before = Object.fromEntries(
      Object.entries(gan.namedVariables()).map(([k, t]) => [k, t.dataSync().slice()]),
    );
    const stats = [trainer.step(real), trainer.step(real)];
    const after = gan.namedVariables();
    for (const [name, v] of Object.entries(before))
      assert.notDeepEqual(after[name].dataSync(), v, `${name} did not change`);
    const tensors = tf.memory().numTensors;
    trainer.step(real);
    assert.equal(tf.memory().numTensors, tensors, 'a step leaked tensors');
    trainer.dispose();
    gan.dispose();
    real.dispose();
    return stats;
  };
  const first = run(3);
  assert.deepEqual(run(3), first);
  assert.notDeepEqual(run(4), first);
  for (const s of first) {
    assert.ok(s.dReal > 0 && s.dReal < 1 && s.dFake > 0 && s.dFake < 1 && s.generatorGradNorm > 0);
  }
});

test('G samples in evaluation mode (running statistics, one image independent of the others) and trains in batch mode', () => {
  runtime.seed(5);
  const gan = new GAN(TINY);
  const trainer = new GanTrainer(gan);
  const real = tf.randomUniform([16, 64]) as tf.Tensor2D;
  for (let i = 0; i < 3; i++) trainer.step(real);
  const z = gan.sampleLatent(8);
  const [alone, inBatch, trainingAlone, trainingInBatch] = tf.tidy(() => [
    gan.generate(z.slice(0, 2)).dataSync(),
    gan.generate(z).slice(0, 2).dataSync(),
    gan.generate(z.slice(0, 2), { training: true }).dataSync(),
    gan.generate(z, { training: true }).slice(0, 2).dataSync(),
  ]);
  assert.deepEqual(alone, inBatch, 'evaluation mode depends on the rest of the batch');
  assert.notDeepEqual(trainingAlone, trainingInBatch, 'training mode should use batch statistics');
  const mean = gan.namedVariables()['G.bn0.runningMean'].dataSync();
  assert.ok(
    mean.some((m) => m !== 0),
    'the running statistics did not move',
  );
  tf.dispose([z, real]);
  trainer.dispose();
  gan.dispose();
});

test('a saved DCGAN (running statistics included) gives the same samples after loading', () => {
  runtime.seed(6);
  const gan = new GAN(TINY);
  const trainer = new GanTrainer(gan);
  const real = tf.randomUniform([16, 64]) as tf.Tensor2D;
  for (let i = 0; i < 2; i++) trainer.step(real);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-dcgan-'));
  training.saveCheckpoint(dir, TINY, gan.namedVariables());
  const { config, tensors } = training.loadCheckpoint(dir, (raw) => raw as models.gan.DcganConfig);
  const copy = new GAN(config);
  training.assignVariables(copy.namedVariables(), tensors);
  const z = gan.sampleLatent(4);
  const [a, b] = tf.tidy(() => [gan.generate(z).dataSync(), copy.generate(z).dataSync()]);
  assert.deepEqual(a, b);
  tf.dispose([z, real, ...Object.values(tensors)]);
  trainer.dispose();
  gan.dispose();
  copy.dispose();
  fs.rmSync(dir, { recursive: true });
});

test("a packed DCGAN's D judges each pack as one image with the images as channels", () => {
  runtime.seed(9);
  const gan = new GAN({ ...TINY, pack: 2 });
  const x = tf.randomUniform([6, 64]) as tf.Tensor2D;
  const logits = gan.logits(x);
  assert.deepEqual(logits.shape, [3, 1]);
  // By hand: pack rows 2i and 2i + 1 into two channels, then run D's layers.
  const d = gan.discriminator as models.gan.DcganDiscriminator;
  const byHand = tf.tidy(() => {
    const centered = tf.sub(tf.mul(x, 2), 1);
    const images = tf.stack(
      [0, 2, 4].map((i) =>
        tf.stack(
          [i, i + 1].map((j) => tf.reshape(centered.slice(j, 1), [8, 8])),
          -1,
        ),
      ),
    ) as tf.Tensor4D;
    return d.layers.reduce((h: tf.Tensor4D, layer) => layer.apply(h) as tf.Tensor4D, images);
  });
  assert.deepEqual(Array.from(byHand.dataSync()), Array.from(logits.dataSync()));
  assert.throws(
    () => d.apply(tf.zeros([2, 64]) as tf.Tensor2D),
    /expected packs of 2 images \[n, 128\] \(8x8x1, flattened\), got \[2, 64\]/,
  );
  tf.dispose([x, logits, byHand]);
  gan.dispose();
});

test("a DCGAN's D drops units in training steps only", () => {
  runtime.seed(10);
  const gan = new GAN({ ...TINY, discriminatorDropout: 0.5 });
  const x = tf.randomUniform([8, 64]) as tf.Tensor2D;
  const [a, b, c] = tf.tidy(() => [
    gan.logits(x).dataSync(),
    gan.logits(x).dataSync(),
    gan.logits(x, { training: true }).dataSync(),
  ]);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  x.dispose();
  gan.dispose();
});

test('bad DCGAN configs fail with a message naming the field', () => {
  assert.throws(
    () => new GAN({ ...MNIST_DCGAN, architecture: 'DCGAN' as 'dcgan' }),
    /architecture must be 'mlp' or 'dcgan', got 'DCGAN'/,
  );
  assert.throws(
    () => new GAN({ ...MNIST_DCGAN, generatorChannels: [128, 64, 32] }),
    /DCGAN config \(generatorChannels\): 3 stride-2 layers need an image side divisible by 8/,
  );
  assert.throws(
    () => new GAN({ ...MNIST_DCGAN, discriminatorChannels: [] }),
    /discriminatorChannels must list at least one positive integer, got \[\]/,
  );
  assert.throws(
    () => new GAN({ ...MNIST_DCGAN, imageShape: [28, 28] as unknown as [number, number, number] }),
    /imageShape must be \[height, width, channels\] of positive integers, got \[28,28\]/,
  );
  assert.throws(
    () => new GAN({ ...MNIST_DCGAN, latentDim: 0 }),
    /GAN config: latentDim must be a positive integer, got 0/,
  );
  assert.throws(
    () => new GAN({ ...MNIST_DCGAN, dataRange: undefined, output: 'sigmoid' }),
    /a DCGAN's G ends in tanh, so output must be 'tanh' \(or left out\), got 'sigmoid'/,
  );
  assert.throws(
    () => new GAN({ ...MNIST_DCGAN, pack: 0 }),
    /pack must be a positive integer, got 0/,
  );
  assert.throws(
    () => new GAN({ ...MNIST_DCGAN, dataRange: [1, 1] }),
    /dataRange must be \[lo, hi\] with finite lo < hi, got \[1,1\]/,
  );
  const gan = new GAN(TINY);
  assert.throws(
    () => gan.discriminator.apply(tf.zeros([2, 63]) as tf.Tensor2D),
    /DCGAN discriminator: expected images \[n, 64\] \(8x8x1, flattened\), got \[2, 63\]/,
  );
  assert.throws(
    () => gan.generator.apply(tf.zeros([2, 5]) as tf.Tensor2D),
    /DCGAN generator: expected z \[n, 6\], got \[2, 5\]/,
  );
  gan.dispose();
});

test('a DCGAN step gives the same numbers on the cpu backend (tfjs kernels) as on wasm', async () => {
  const run = (): number[] => {
    runtime.seed(7);
    const gan = new GAN(TINY);
    const trainer = new GanTrainer(gan);
    const real = tf.randomUniform([8, 64]) as tf.Tensor2D;
    const s = [trainer.step(real), trainer.step(real)];
    trainer.dispose();
    gan.dispose();
    real.dispose();
    return s.flatMap((x) => [x.discriminatorLoss, x.generatorLoss, x.dReal, x.dFake]);
  };
  await tf.setBackend('cpu');
  const cpu = run();
  await tf.setBackend('wasm');
  const wasm = run();
  // Two Adam steps from the same start: float32 sums in other orders, 1e-4 apart at most.
  cpu.forEach((c, i) => assert.ok(Math.abs(wasm[i] - c) < 1e-4, `stat ${i}: ${wasm[i]} vs ${c}`));
});
