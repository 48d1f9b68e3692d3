import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { data, metrics, models, nn, runtime, tf } from 'genlab';

const {
  GAN,
  GanTrainer,
  gradientsAsDiscriminatorWins,
  trainRingGan,
  movingAverage,
  snapshotPanels,
  trainMnistGan,
} = models.gan;
const SMALL = {
  latentDim: 4,
  dataDim: 2,
  generatorHidden: [16],
  discriminatorHidden: [16],
  output: 'linear' as const,
};

test('setup', async () => {
  await runtime.init({ seed: 0, report: false });
});

test('packing: D judges pack consecutive rows as one input', () => {
  const gan = new GAN({ ...SMALL, pack: 2 });
  assert.equal((gan.discriminator as nn.MLP).inDim, 4);
  const x = tf.tensor2d([
    [1, 2],
    [3, 4],
    [5, 6],
    [7, 8],
  ]);
  const logits = gan.logits(x);
  assert.deepEqual(logits.shape, [2, 1]);
  // The first pack is the row [1, 2, 3, 4].
  const first = gan.discriminator.apply(tf.tensor2d([[1, 2, 3, 4]]));
  assert.ok(Math.abs(logits.dataSync()[0] - first.dataSync()[0]) < 1e-6);
  const odd = tf.zeros([3, 2]) as tf.Tensor2D;
  assert.throws(() => gan.logits(odd), /n a multiple of pack = 2, got \[3, 2\]/);
  assert.throws(() => new GAN({ ...SMALL, pack: 0 }), /pack must be a positive integer, got 0/);
  tf.dispose([x, logits, first, odd]);
  gan.dispose();
});

test("dataRange: G's samples lie in [lo, hi] and D sees them mapped onto [-1, 1]", () => {
  runtime.seed(20);
  const gan = new GAN({ ...SMALL, dataRange: [0, 1], output: 'tanh' });
  const samples = gan.sample(500);
  const values = samples.dataSync();
  assert.ok(
    values.every((v) => v >= 0 && v <= 1),
    'samples outside [0, 1]',
  );
  const x = tf.tensor2d([
    [0, 1],
    [0.25, 0.5],
  ]);
  const logits = gan.logits(x);
  const direct = gan.discriminator.apply(
    tf.tensor2d([
      [-1, 1],
      [-0.5, 0],
    ]),
  );
  assert.deepEqual(Array.from(logits.dataSync()), Array.from(direct.dataSync()));
  assert.throws(
    () => new GAN({ ...SMALL, dataRange: [1, 0] }),
    /dataRange must be \[lo, hi\] with finite lo < hi, got \[1,0\]/,
  );
  assert.throws(
    () => new GAN({ ...SMALL, dataRange: [0, 1], output: 'sigmoid' }),
    /output must be 'tanh' \(or left out\), got 'sigmoid'/,
  );
  tf.dispose([samples, x, logits, direct]);
  gan.dispose();
});

test("D's dropout acts in training steps only", () => {
  runtime.seed(23);
  const gan = new GAN({ ...SMALL, discriminatorDropout: 0.5 });
  const x = data.sampleRing(64);
  const a = gan.logits(x);
  const b = gan.logits(x);
  const c = gan.logits(x, { training: true });
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  assert.notDeepEqual(Array.from(a.dataSync()), Array.from(c.dataSync()));
  assert.throws(
    () => new GAN({ ...SMALL, discriminatorDropout: 1.5 }),
    /discriminatorDropout must be a number in \[0, 1\), got 1.5/,
  );
  tf.dispose([x, a, b, c]);
  gan.dispose();
});

test('a discriminator step changes D only; instance noise leaks nothing', () => {
  runtime.seed(21);
  const gan = new GAN(SMALL);
  const trainer = new GanTrainer(gan, { instanceNoise: 0.1 });
  const real = data.sampleRing(16);
  const g0 = gan.generator.variables()[0].dataSync().slice();
  const d0 = gan.discriminator.variables()[0].dataSync().slice();
  const s = trainer.discriminatorStep(real);
  assert.ok(s.dReal > 0 && s.dReal < 1 && s.discriminatorLoss > 0);
  assert.deepEqual(gan.generator.variables()[0].dataSync(), g0);
  assert.notDeepEqual(gan.discriminator.variables()[0].dataSync(), d0);
  trainer.step(real);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) trainer.step(real);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(
    () => new GanTrainer(gan, { instanceNoise: -1 }),
    /instanceNoise must be a finite number >= 0, got -1/,
  );
  trainer.dispose();
  gan.dispose();
  real.dispose();
});

test('gradientsAsDiscriminatorWins records both gradient norms before each D step', async () => {
  runtime.seed(22);
  const gan = new GAN(SMALL);
  const trainer = new GanTrainer(gan, { discriminatorLearningRate: 1e-2 });
  const batches = data.ringBatches(32);
  const h = await gradientsAsDiscriminatorWins(trainer, batches, 5, 16);
  batches.return(undefined);
  assert.deepEqual(h.column('D steps'), [0, 1, 2, 3, 4, 5]);
  for (const c of ['D(G(z))', 'minimax', 'non-saturating'])
    assert.ok(
      h.column(c).every((v) => Number.isFinite(v) && v > 0),
      c,
    );
  await assert.rejects(
    () => gradientsAsDiscriminatorWins(trainer, batches, 0),
    /steps must be a positive integer, got 0/,
  );
  trainer.dispose();
  gan.dispose();
});

test('trainRingGan: coverage at every snapshot, same seed same numbers', async () => {
  const run = () =>
    trainRingGan({
      steps: 12,
      seed: 23,
      snapshotEvery: 5,
      batchSize: 32,
      config: { generatorHidden: [8], discriminatorHidden: [8] },
    });
  const a = await run();
  const b = await run();
  assert.deepEqual(a.coverage.column('step'), [0, 5, 10, 12]);
  assert.deepEqual(a.coverage.rows, b.coverage.rows);
  assert.deepEqual(a.run.history.column('G loss'), b.run.history.column('G loss'));
  a.gan.dispose();
  b.gan.dispose();
  await assert.rejects(() => trainRingGan({ steps: 0 }), /steps must be a positive integer, got 0/);
  await assert.rejects(
    () => trainRingGan({ steps: 10, snapshotevery: 2 } as never),
    /trainRingGan: unknown option 'snapshotevery' \(did you mean 'snapshotEvery'\?\)/,
  );
});

test('movingAverage and snapshotPanels', () => {
  assert.deepEqual(movingAverage([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5]);
  assert.deepEqual(movingAverage([2, 4], 5), [2, 3]);
  assert.throws(() => movingAverage([1], 0), /window must be a positive integer, got 0/);
  const snaps = [0, 10, 20].map((step) => ({ step, n: 2, samples: Float32Array.of(0, 0, 1, 1) }));
  const fig = snapshotPanels(snaps, { reference: [[0, 0]] });
  assert.equal(fig.data.length, 6);
  assert.ok('xaxis3' in fig.layout && 'yaxis3' in fig.layout);
  assert.throws(() => snapshotPanels([]), /no snapshots/);
  assert.throws(
    () => snapshotPanels([{ step: 0, n: 1, samples: Float32Array.of(1, 2, 3) }]),
    /2D samples/,
  );
});

test('trainMnistGan: one metric row per epoch, saved and reloaded identically', async () => {
  runtime.seed(24);
  const { classifier } = await metrics.mnistClassifier();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-mnist-'));
  const options = {
    epochs: 2,
    trainLimit: 64,
    batchSize: 32,
    evalSize: 40,
    config: { latentDim: 8, dataDim: 784, generatorHidden: [16], discriminatorHidden: [16] },
    dir: path.join(dir, 'run'),
  };
  const run = await trainMnistGan(classifier, options);
  const afterTraining = runtime.random();
  assert.equal(run.fromCheckpoint, false);
  assert.deepEqual(run.epochs.column('epoch'), [0, 1, 2]);
  assert.equal(run.steps.rows.length, 4);
  assert.equal(run.grids.length, 3);
  for (const r of run.epochs.rows) {
    assert.ok(r['modes covered'] >= 1 && r['modes covered'] <= 10);
    assert.ok(r['entropy (nats)'] >= 0 && r['entropy (nats)'] <= Math.log(10) + 1e-9);
    assert.ok(r['MNIST-FID'] > 0);
  }
  assert.ok(run.floorFid > 0);
  runtime.seed(24);
  const again = await trainMnistGan(classifier, options);
  assert.equal(runtime.random(), afterTraining, 'loading leaves the stream as training does');
  assert.equal(again.fromCheckpoint, true);
  assert.deepEqual(again.epochs.rows, run.epochs.rows);
  assert.deepEqual(Array.from(again.grids[2].samples), Array.from(run.grids[2].samples));
  assert.deepEqual(
    again.gan.generator.variables()[0].dataSync(),
    run.gan.generator.variables()[0].dataSync(),
  );
  runtime.seed(99);
  const unsaved = await trainMnistGan(classifier, { ...options, dir: undefined });
  assert.deepEqual(unsaved.epochs.rows, run.epochs.rows, 'the run does not depend on the caller');
  runtime.loopRegistry().interrupt();
  const cut = await trainMnistGan(classifier, { ...options, dir: path.join(dir, 'cut') });
  runtime.loopRegistry().reset();
  assert.equal(cut.interrupted, true);
  assert.equal(cut.epochs.rows.length, 0);
  assert.equal(fs.existsSync(path.join(dir, 'cut')), false, 'an interrupted run is not saved');
  unsaved.gan.dispose();
  cut.gan.dispose();
  await assert.rejects(
    () => trainMnistGan(classifier, { ...options, epochs: 0 }),
    /epochs must be a positive integer, got 0/,
  );
  await assert.rejects(
    () => trainMnistGan(classifier, { ...options, config: { ...options.config, dataDim: 2 } }),
    /dataDim must be 784/,
  );
  await assert.rejects(
    () => trainMnistGan(classifier, { ...options, learningrate: 1e-3 } as never),
    /trainMnistGan: unknown option 'learningrate' \(did you mean 'learningRate'\?\)/,
  );
  run.gan.dispose();
  again.gan.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});
