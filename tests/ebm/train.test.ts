import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models, runtime, tf, training } from 'genlab';

const {
  EnergyNetwork,
  ContrastiveDivergence,
  DenoisingScoreMatching,
  ReplayBuffer,
  uniformNoise,
  normalizeOnGrid,
  gridKl,
} = models.ebm;

// Data N(c, diag(0.6², 0.4²)) and its exact log-density.
const center = [0.5, -0.3];
const scales = [0.6, 0.4];
const gaussianData = (n: number) =>
  tf.tidy(() => tf.add(tf.mul(tf.randomNormal([n, 2]), scales), center) as tf.Tensor2D);
const gaussianLogDensity = (x: tf.Tensor2D) =>
  tf.tidy(
    () => tf.mul(tf.sum(tf.square(tf.div(tf.sub(x, center), scales)), 1), -0.5) as tf.Tensor1D,
  );

/** KL(data || model) on a 100 x 100 grid over [-3, 3]². */
function klToData(net: InstanceType<typeof EnergyNetwork>): number {
  const p = normalizeOnGrid(gaussianLogDensity, 3, 100);
  const q = normalizeOnGrid((x) => tf.neg(net.energy(x)), 3, 100);
  return gridKl(p, q);
}

test(
  'contrastive divergence with a replay buffer and denoising score matching both learn a 2-D ' +
    'Gaussian: KL(data || model) on the grid falls below 0.1 nats',
  async () => {
    await runtime.init({ seed: 0, report: false });
    const x = gaussianData(2000);
    const cdNet = new EnergyNetwork(2, [32, 32]);
    const before = klToData(cdNet);
    const cd = new ContrastiveDivergence(cdNet, {
      noise: uniformNoise(2, -3, 3),
      langevin: { steps: 20, stepSize: 0.01 },
      learningRate: 3e-3,
    });
    await cd.fit(x, { steps: 400, progress: false });
    const cdKl = klToData(cdNet);
    const dsmNet = new EnergyNetwork(2, [32, 32]);
    const dsm = new DenoisingScoreMatching(dsmNet, { sigma: 0.1, learningRate: 3e-3 });
    await dsm.fit(x, { steps: 400, batchSize: 256, progress: false });
    const dsmKl = klToData(dsmNet);
    assert.ok(before > 1, `untrained KL ${before}`);
    assert.ok(cdKl < 0.1, `contrastive divergence: KL ${cdKl}`);
    assert.ok(dsmKl < 0.1, `score matching: KL ${dsmKl}`);
    [cd, dsm, cdNet, dsmNet].forEach((t) => t.dispose());
    x.dispose();
  },
);

test('contrastive divergence: no tensor leaks per step, same seed, same weights, history rows', async () => {
  const run = async () => {
    await runtime.init({ seed: 1, report: false });
    const x = gaussianData(200);
    const net = new EnergyNetwork(2, [8]);
    const cd = new ContrastiveDivergence(net, {
      noise: uniformNoise(2, -3, 3),
      langevin: { steps: 5, stepSize: 0.01 },
      buffer: { capacity: 100 },
    });
    const batch = tf.slice(x, [0, 0], [16, 2]) as tf.Tensor2D;
    cd.step(batch);
    const tensors = tf.memory().numTensors;
    const metrics = cd.step(batch);
    assert.equal(tf.memory().numTensors, tensors, 'a step leaks tensors');
    assert.deepEqual(Object.keys(metrics), ['E(data)', 'E(samples)', 'loss']);
    const history = new training.History();
    const all = await cd.fit(x, {
      steps: 20,
      batchSize: 16,
      progress: false,
      history,
      historyEvery: 5,
    });
    assert.equal(all.length, 20);
    // steps are counted over the trainer's life: the two single steps above, then 20
    assert.deepEqual(history.column('step'), [5, 10, 15, 20]);
    const weights = Array.from(net.variables()[0].dataSync());
    [cd, net].forEach((t) => t.dispose());
    tf.dispose([x, batch]);
    return weights;
  };
  assert.deepEqual(await run(), await run());
});

test('replay buffer: stored chains come back, a fraction restarts from noise', async () => {
  await runtime.init({ seed: 2, report: false });
  const buffer = new ReplayBuffer(2, uniformNoise(2, 10, 11), { capacity: 50, restart: 0 });
  const first = buffer.draw(50);
  assert.ok(
    first.x.dataSync().every((v) => v >= 10 && v < 11),
    'the buffer starts as noise',
  );
  const marked = tf.fill([50, 2], -1) as tf.Tensor2D;
  buffer.store(first.slots, marked);
  const again = buffer.draw(20);
  // every slot drawn was stored (drawn slots cover the buffer often, not always)
  const contents = buffer.contents(50).arraySync();
  again.slots.forEach((s, r) => assert.deepEqual(again.x.arraySync()[r], contents[s]));
  const restarting = new ReplayBuffer(2, uniformNoise(2, 10, 11), { capacity: 1000, restart: 0.2 });
  restarting.store(
    Int32Array.from({ length: 1000 }, (_, i) => i),
    tf.fill([1000, 2], -1) as tf.Tensor2D,
  );
  const drawn = restarting.draw(1000);
  const fresh = drawn.x.arraySync().filter((r) => r[0] >= 10).length / 1000;
  assert.ok(Math.abs(fresh - 0.2) < 4 * Math.sqrt((0.2 * 0.8) / 1000), `restarted ${fresh}`);
  assert.throws(() => buffer.draw(51), /n must be an integer in \[1, 50\], got 51/);
  assert.throws(() => buffer.store(again.slots, marked), /50 points for 20 slots/);
  assert.throws(
    () => new ReplayBuffer(2, uniformNoise(2, 0, 1), { restart: 2 }),
    /restart must be a fraction in \[0, 1\]/,
  );
  assert.throws(
    () => new ReplayBuffer(2, uniformNoise(2, 0, 1), { size: 5 } as never),
    /unknown option 'size'/,
  );
  assert.throws(
    () => new ReplayBuffer(3, uniformNoise(2, 0, 1)),
    /expected points \[n, 3\], got \[10000, 2\]/,
  );
  tf.dispose([first.x, again.x, marked, drawn.x]);
});

test('energy trainers reject bad inputs with clear messages', async () => {
  await runtime.init({ seed: 3, report: false });
  const net = new EnergyNetwork(2, [4]);
  const noise = uniformNoise(2, -1, 1);
  const langevin = { steps: 2, stepSize: 0.01 };
  assert.throws(
    () => new ContrastiveDivergence(net, { noise, langevin, regularisation: 0.1 } as never),
    /unknown option 'regularisation'/,
  );
  assert.throws(
    () => new ContrastiveDivergence(net, { noise, langevin: { steps: 2, stepSize: 0 } }),
    /langevin: stepSize must be a finite number > 0/,
  );
  assert.throws(
    () => new ContrastiveDivergence(net, { noise, langevin, regularization: -1 }),
    /regularization must be a number >= 0, got -1/,
  );
  assert.throws(
    () => new ContrastiveDivergence(net, { noise: 3 as never, langevin }),
    /noise must be a function/,
  );
  assert.throws(
    () => new DenoisingScoreMatching(net, { sigma: 0 }),
    /sigma .* must be a number > 0/,
  );
  assert.throws(
    () => new DenoisingScoreMatching(net, { sigma: 0.1, learningRate: -1 }),
    /learningRate must be a number > 0, got -1/,
  );
  const dsm = new DenoisingScoreMatching(net, { sigma: 0.1 });
  const bad = tf.tensor2d([
    [0, NaN],
    [1, 1],
  ]);
  await assert.rejects(
    dsm.fit(bad, { steps: 1 }),
    /fit: data must be finite, got NaN at index \[0, 1\]/,
  );
  await assert.rejects(
    dsm.fit(tf.zeros([4, 3]) as tf.Tensor2D, { steps: 1 }),
    /expected points \[n, 2\], got \[4, 3\]/,
  );
  await assert.rejects(
    dsm.fit(tf.zeros([4, 2]) as tf.Tensor2D, { steps: 0 }),
    /steps must be a positive integer/,
  );
  await assert.rejects(
    dsm.fit(tf.zeros([4, 2]) as tf.Tensor2D, { steps: 1, batchsize: 3 } as never),
    /unknown option 'batchsize'/,
  );
  const cd = new ContrastiveDivergence(net, { noise, langevin, buffer: false });
  await assert.rejects(
    cd.fit(tf.tensor2d([1e25, -1e25, -1e25, 1e25], [2, 2]), {
      steps: 1,
      batchSize: 4,
      progress: false,
    }),
    /training diverged at step 1 .* lower the learning rate/,
  );
  [dsm, cd, net].forEach((t) => t.dispose());
  bad.dispose();
});
