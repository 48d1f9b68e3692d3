import { test } from 'node:test';
import assert from 'node:assert/strict';
import { data, models, runtime, tf } from 'genlab';
import {
  blockingBound,
  captureLines,
  interruptAfter,
  longestEventLoopBlock,
  timed,
} from '../runtime/loop-helpers';

const { GAN, GanTrainer, trainGan, generatorGradientNorm } = models.gan;
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

test('a GAN training step leaks no tensors', () => {
  runtime.seed(1);
  const gan = new GAN({
    ...models.gan.MNIST_GAN,
    generatorHidden: [32],
    discriminatorHidden: [32],
  });
  const trainer = new GanTrainer(gan);
  const real = tf.randomUniform([8, 784]) as tf.Tensor2D;
  trainer.step(real); // the first step creates Adam's moment variables
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) trainer.step(real);
  assert.equal(tf.memory().numTensors, before);
  trainer.dispose();
  gan.dispose();
  real.dispose();
});

test('a step reports consistent statistics and changes both networks', () => {
  runtime.seed(2);
  const gan = new GAN(SMALL);
  const trainer = new GanTrainer(gan, { generatorLoss: 'minimax', generatorLearningRate: 1e-2 });
  const real = data.sampleRing(32);
  const g0 = gan.generator.variables()[0].dataSync().slice();
  const d0 = gan.discriminator.variables()[0].dataSync().slice();
  const s = trainer.step(real);
  assert.ok(s.dReal > 0 && s.dReal < 1 && s.dFake > 0 && s.dFake < 1);
  assert.ok(s.generatorLoss < 0, 'the minimax loss log(1 - D) is negative');
  // L_D >= -log mean D(x) - log(1 - mean D(G(z))) by Jensen (both -log terms are convex).
  assert.ok(s.discriminatorLoss >= -Math.log(s.dReal) - Math.log(1 - s.dFake) - 1e-5);
  assert.ok(s.generatorGradNorm > 0);
  assert.notDeepEqual(gan.generator.variables()[0].dataSync(), g0);
  assert.notDeepEqual(gan.discriminator.variables()[0].dataSync(), d0);
  trainer.dispose();
  gan.dispose();
  real.dispose();
});

test('same seed, same numbers', () => {
  const run = (): models.gan.GanStepStats => {
    runtime.seed(3);
    const gan = new GAN(SMALL);
    const trainer = new GanTrainer(gan);
    const real = data.sampleRing(16);
    const s = trainer.step(real);
    trainer.dispose();
    gan.dispose();
    real.dispose();
    return s;
  };
  assert.deepEqual(run(), run());
});

test('for one sample the minimax / non-saturating gradient-norm ratio is D/(1-D) = exp(logit)', () => {
  // ∇φ log(1 - σ(l)) = -σ(l) ∇φ l and ∇φ[-log σ(l)] = -(1 - σ(l)) ∇φ l
  runtime.seed(4);
  const gan = new GAN(SMALL);
  const z = gan.sampleLatent(1);
  for (const shift of [0, -6]) {
    gan.discriminator.namedVariables()['D.1.b'].assign(tf.fill([1], shift) as tf.Tensor1D);
    const logit = tf.tidy(() => gan.logits(gan.generate(z))).dataSync()[0];
    const ratio =
      generatorGradientNorm(gan, 'minimax', z) / generatorGradientNorm(gan, 'nonSaturating', z);
    assert.ok(Math.abs(ratio / Math.exp(logit) - 1) < 1e-3, `ratio ${ratio} vs exp(${logit})`);
  }
  z.dispose();
  gan.dispose();
});

test('trainGan records every step and the requested snapshots', async () => {
  runtime.seed(5);
  const gan = new GAN(SMALL);
  const before = tf.memory().numTensors;
  const trainer = new GanTrainer(gan);
  const seen: number[] = [];
  const batches = data.ringBatches(16);
  const run = await trainGan(trainer, batches, {
    steps: 6,
    snapshotAt: [0, 3, 6],
    snapshotSize: 10,
    onSnapshot: (s) => seen.push(s.step),
  });
  batches.return(undefined);
  assert.equal(run.history.rows.length, 6);
  assert.deepEqual(run.history.column('step'), [1, 2, 3, 4, 5, 6]);
  for (const c of ['D loss', 'G loss', 'D(x)', 'D(G(z))', 'G grad norm'])
    assert.ok(run.history.column(c).every(Number.isFinite), c);
  assert.deepEqual(seen, [0, 3, 6]);
  assert.equal(run.snapshots[1].samples.length, 20);
  trainer.dispose();
  // The optimizers' state is all that outlives training, and dispose() frees it.
  assert.equal(tf.memory().numTensors, before);
  gan.dispose();
});

test('bad configurations and inputs are clear errors', async () => {
  assert.throws(
    () => new GAN({ ...SMALL, latentDim: 0 }),
    /latentDim must be a positive integer, got 0/,
  );
  assert.throws(
    () => new GAN({ ...SMALL, generatorHidden: [16, -1] }),
    /generatorHidden\[1\] must be a positive integer, got -1/,
  );
  const gan = new GAN(SMALL);
  assert.throws(
    () => new GanTrainer(gan, { generatorLearningRate: 0 }),
    /generatorLearningRate must be a finite number > 0, got 0/,
  );
  assert.throws(
    () => new GanTrainer(gan, { beta1: 1 }),
    /beta1 must be a number in \[0, 1\), got 1/,
  );
  assert.throws(
    () => new GanTrainer(gan, { generatorLoss: 'hinge' as never }),
    /unknown generator loss 'hinge'/,
  );
  const trainer = new GanTrainer(gan);
  const wrong = tf.zeros([4, 3]) as tf.Tensor2D;
  assert.throws(() => trainer.step(wrong), /expected a batch \[n, 2\], got \[4, 3\]/);
  await assert.rejects(
    () => trainGan(trainer, data.ringBatches(4), { steps: 0 }),
    /steps must be a positive integer, got 0/,
  );
  await assert.rejects(
    () => trainGan(trainer, data.ringBatches(4), { steps: 2, snapshotAt: [3] }),
    /snapshot step 3 is not an integer in \[0, 2\]/,
  );
  await assert.rejects(
    () => trainGan(trainer, data.ringBatches(4), { steps: 2, saveDir: '/tmp/x' }),
    /saveDir needs square images/,
  );
  assert.throws(() => gan.sampleLatent(0), /n must be a positive integer, got 0/);
  // A misspelled option is refused, never replaced by its default.
  assert.throws(
    () => new GAN({ ...SMALL, latentDims: 3 } as never),
    /GAN config: unknown option 'latentDims' \(did you mean 'latentDim'\?\)/,
  );
  assert.throws(
    () => new GanTrainer(gan, { learningRate: 1e-3 } as never),
    /GanTrainer: unknown option 'learningRate'; the options are generatorLoss, /,
  );
  await assert.rejects(
    () => trainGan(trainer, data.ringBatches(4), { steps: 2, snapshotsAt: [1] } as never),
    /unknown option 'snapshotsAt' \(did you mean 'snapshotAt'\?\)/,
  );
  wrong.dispose();
  trainer.dispose();
  gan.dispose();
});

/** The values of every variable of a GAN, in order. */
function values(gan: models.gan.GAN): number[][] {
  return Object.values(gan.namedVariables()).map((v) => Array.from(v.dataSync()));
}

test(
  'an interrupt stops trainGan after the step in progress: the networks as that step left them, ' +
    'its steps in the history, nothing leaked; trainGan again continues',
  async () => {
    runtime.seed(7);
    const gan = new GAN(SMALL);
    const trainer = new GanTrainer(gan);
    const batches = data.ringBatches(16);
    await trainGan(trainer, batches, { steps: 1 }); // creates Adam's moment variables
    const tensors = tf.memory().numTensors;
    const stop = interruptAfter(4);
    let atCut: number[][] | undefined;
    const step = trainer.step.bind(trainer);
    trainer.step = (real) => {
      const stats = step(real);
      if (stop.calls() === 3) atCut = values(gan);
      stop.hook();
      return stats;
    };
    const { value: run, lines } = await captureLines(() =>
      trainGan(trainer, batches, { steps: 50, label: 'ring GAN', snapshotAt: [0, 2, 40] }),
    );
    runtime.loopRegistry().reset();
    assert.equal(run.interrupted, true);
    assert.equal(stop.calls(), 4, 'no step after the interrupt');
    assert.deepEqual(run.history.column('step'), [1, 2, 3, 4]);
    assert.deepEqual(
      run.snapshots.map((s) => s.step),
      [0, 2],
    );
    assert.deepEqual(values(gan), atCut, 'the networks are as step 4 left them');
    const atStop = values(gan);
    assert.equal(tf.memory().numTensors, tensors, 'nothing leaked');
    assert.deepEqual(
      lines.filter((line) => line.includes('stopped at')),
      [
        'ring GAN: stopped at step 4/50 (interrupted); G and D keep their last completed step; ' +
          'trainGan with the same trainer and batches continues',
      ],
    );
    const more = await trainGan(trainer, batches, { steps: 3 });
    assert.equal(more.interrupted, false);
    assert.equal(more.history.rows.length, 3);
    assert.notDeepEqual(values(gan), atStop);
    batches.return(undefined);
    trainer.dispose();
    gan.dispose();
  },
);

test('training the lecture-scale MNIST GAN never blocks the event loop for 1 s', async () => {
  runtime.seed(8);
  const gan = new GAN(models.gan.MNIST_GAN);
  const trainer = new GanTrainer(gan);
  const step = timed(trainer.step.bind(trainer));
  trainer.step = step.fn;
  const batches = models.gan.imageBatches(data.loadMnist('train', { limit: 6400 }), 64);
  const blocked = await longestEventLoopBlock(() =>
    trainGan(trainer, batches, { steps: 40, snapshotAt: [0, 40] }),
  );
  // About 32 ms a step on an idle machine; the loop lets the event loop run every 50 ms.
  assert.ok(
    blocked < blockingBound(step.slowest()),
    `the event loop waited ${blocked.toFixed(0)} ms; the slowest step took ` +
      `${step.slowest().toFixed(0)} ms`,
  );
  batches.return(undefined);
  trainer.dispose();
  gan.dispose();
});
