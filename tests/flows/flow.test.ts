import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models, runtime, tf } from 'genlab';
import { captureLines, interruptAfter } from '../runtime/loop-helpers';
import { fitMoons } from './helpers';

const {
  NormalizingFlow,
  PlanarFlow,
  PlanarStack,
  couplingFlows,
  fitReverseKl,
  fitMaximumLikelihood,
  reverseKl,
  target,
} = models.flows;

test(
  'sample() and logProb() agree: log q of a sample equals log q recomputed through the ' +
    'inverses',
  async () => {
    await runtime.init({ seed: 0, report: false });
    const flow = new NormalizingFlow([
      new PlanarStack(2, 3, { initScale: 0.8 }),
      ...couplingFlows(2, 2, { hidden: [8] }),
    ]);
    for (const v of flow.variables()) v.assign(tf.randomNormal(v.shape, 0, 0.5));
    const { x, logProb } = flow.sample(200);
    const again = flow.logProb(x);
    assert.ok(tf.max(tf.abs(tf.sub(again, logProb))).dataSync()[0] < 1e-3);
    tf.dispose([x, logProb, again]);
    flow.dispose();
  },
);

test('the density of a flow integrates to 1 over the plane (change of variables)', async () => {
  await runtime.init({ seed: 1, report: false });
  const flow = new NormalizingFlow(couplingFlows(2, 4, { hidden: [16] }));
  for (const v of flow.variables()) v.assign(tf.randomNormal(v.shape, 0, 0.3));
  const { values, cellArea } = models.flows.gridValues(
    (z) => tf.exp(flow.logProb(z)) as tf.Tensor1D,
    8,
    300,
  );
  const mass = values.reduce((s, v) => s + v, 0) * cellArea;
  assert.ok(Math.abs(mass - 1) < 5e-3, `∫ q = ${mass}`);
  flow.dispose();
});

/**
 * A one-layer planar flow that is the identity: with w = e1 and u = s e1, s = log(e - 1), m(s) =
 * softplus(s) - 1 = 0 so û = 0.
 */
function identityFlow() {
  const stack = new PlanarStack(2, 1);
  stack.w.assign(tf.tensor2d([[1, 0]]));
  stack.u.assign(tf.tensor2d([[Math.log(Math.E - 1), 0]]));
  return new NormalizingFlow([stack]);
}

test('reverseKl matches closed forms: 0 for q = p, ||m||²/2 for a shifted unit Gaussian', async () => {
  await runtime.init({ seed: 2, report: false });
  const flow = identityFlow();
  const uHat = (flow.flows[0] as InstanceType<typeof PlanarStack>).layer(0).uHat;
  assert.ok(tf.max(tf.abs(uHat)).dataSync()[0] < 1e-6, 'the flow is the identity, so q = N(0, I)');
  const gaussian = {
    energy: (z: tf.Tensor2D) => tf.mul(0.5, tf.sum(tf.square(z), 1)) as tf.Tensor1D,
    logZ: Math.log(2 * Math.PI),
  };
  const same = reverseKl(flow, gaussian, 4000);
  assert.ok(Math.abs(same.kl) < 1e-5, `KL(q || q) = ${same.kl}`);
  const m = [1.5, -0.5];
  const shifted = {
    energy: (z: tf.Tensor2D) => tf.mul(0.5, tf.sum(tf.square(tf.sub(z, m)), 1)) as tf.Tensor1D,
    logZ: Math.log(2 * Math.PI),
  };
  const est = reverseKl(flow, shifted, 20000);
  const expected = (m[0] ** 2 + m[1] ** 2) / 2;
  assert.ok(
    Math.abs(est.kl - expected) < 5 * est.standardError,
    `KL ${est.kl} ± ${est.standardError}, expected ${expected}`,
  );
  tf.dispose(uHat);
  flow.dispose();
});

test(
  'fitReverseKl lowers KL(q || p) to the U1 target and leaks no tensors; same seed, ' +
    'same numbers',
  async () => {
    const run = async () => {
      await runtime.init({ seed: 3, report: false });
      const u1 = target('U1', { gridSize: 200 });
      const flow = new NormalizingFlow([new PlanarStack(2, 4)]);
      const before = reverseKl(flow, u1, 4000);
      await fitReverseKl(flow, u1.energy, { steps: 3, batchSize: 64 });
      const tensors = tf.memory().numTensors;
      const { losses } = await fitReverseKl(flow, u1.energy, {
        steps: 60,
        batchSize: 64,
        learningRate: 0.02,
      });
      assert.equal(tf.memory().numTensors, tensors, 'training steps must not leak tensors');
      const after = reverseKl(flow, u1, 4000);
      flow.dispose();
      return { before, after, losses };
    };
    const first = await run();
    assert.ok(
      first.after.kl <
        first.before.kl - 5 * (first.after.standardError + first.before.standardError),
      `KL ${first.before.kl} -> ${first.after.kl}`,
    );
    const second = await run();
    assert.deepEqual(second.losses, first.losses);
    assert.equal(second.after.kl, first.after.kl);
  },
);

test('fitMaximumLikelihood raises the test log-likelihood of two moons and leaks no tensors', async () => {
  await runtime.init({ seed: 4, report: false });
  const flow = new NormalizingFlow(couplingFlows(2, 4, { hidden: [16, 16] }));
  const { before, after } = await fitMoons(flow);
  assert.ok(after < before - 0.3, `test NLL ${before} -> ${after}`);
  flow.dispose();
});

test('logDetErrors finds a wrong log-determinant and passes a right one', async () => {
  await runtime.init({ seed: 5, report: false });
  // y = 2z in 3 dimensions: log |det| = 3 log 2; `claimed` is what the layer reports
  const doubling = (claimed: number) => ({
    dim: 3,
    name: 'doubling',
    forward: (z: tf.Tensor2D) => ({
      y: tf.mul(z, 2) as tf.Tensor2D,
      logDet: tf.fill([z.shape[0]], claimed) as tf.Tensor1D,
    }),
    namedVariables: () => ({}),
    dispose: () => undefined,
  });
  const z = tf.randomNormal([5, 3]) as tf.Tensor2D;
  const right = models.flows.logDetErrors(doubling(3 * Math.log(2)), z);
  assert.ok(right.forward < 1e-6 && right.inverse === undefined, JSON.stringify(right));
  assert.ok(Math.abs(right.largest - 3 * Math.log(2)) < 1e-6);
  const wrong = models.flows.logDetErrors(doubling(2 * Math.log(2)), z);
  assert.ok(Math.abs(wrong.forward - 0.5) < 1e-6, `det off by a factor 2: ${wrong.forward}`);
  const planar = new PlanarFlow(3, { initScale: 1 });
  const forwardOnly = models.flows.logDetErrors(planar, z, { inverse: false });
  assert.ok(forwardOnly.forward < 1e-4 && forwardOnly.inverse === undefined);
  planar.dispose();
  assert.throws(
    () => models.flows.logDetErrors(doubling(0), z, { inverses: false } as never),
    /logDetErrors: unknown option 'inverses'/,
  );
  const bad = tf.zeros([5, 2]) as tf.Tensor2D;
  assert.throws(
    () => models.flows.logDetErrors(doubling(0), bad),
    /logDetErrors \(doubling\): expected points of shape \[batch, 3\]/,
  );
  tf.dispose([z, bad]);
});

test('flows and training reject bad inputs with messages that name the parameter', async () => {
  await runtime.init({ seed: 0, report: false });
  assert.throws(() => new NormalizingFlow([]), /needs at least one flow or a base distribution/);
  assert.throws(
    () => new NormalizingFlow([new PlanarStack(2, 1), new PlanarStack(3, 1)]),
    /flow 1 \('planar'\) has dim 3 but the flow's dimension is 2/,
  );
  const flow = identityFlow();
  assert.throws(() => flow.sample(0), /sample size n must be a positive integer, got 0/);
  const bad = tf.zeros([5, 3]) as tf.Tensor2D;
  const x = tf.zeros([2, 2]) as tf.Tensor2D;
  assert.throws(
    () => flow.logProb(bad),
    /NormalizingFlow.logProb: expected points of shape \[batch, 2\], got \[5, 3\]/,
  );
  await assert.rejects(
    () => fitReverseKl(flow, (z) => tf.sum(z, 1) as tf.Tensor1D, { steps: 0 }),
    /steps must be a positive integer, got 0/,
  );
  await assert.rejects(
    () => fitReverseKl(flow, (z) => tf.sum(z, 1) as tf.Tensor1D, { steps: 1, learningRate: -1 }),
    /learningRate must be a finite number > 0, got -1/,
  );
  await assert.rejects(
    () => fitReverseKl(flow, (z) => tf.sum(z, 1) as tf.Tensor1D, { steps: 1, annealSteps: 0.5 }),
    /annealSteps must be a non-negative integer, got 0.5/,
  );
  await assert.rejects(
    () => fitMaximumLikelihood(flow, bad, { steps: 1 }),
    /fitMaximumLikelihood: expected points of shape \[batch, 2\]/,
  );
  await assert.rejects(
    () => fitMaximumLikelihood(flow, x, { steps: 1, batchsize: 8 } as never),
    /fitMaximumLikelihood: unknown option 'batchsize' \(did you mean 'batchSize'\?\); the options are steps, batchSize/,
  );
  await assert.rejects(
    () => fitReverseKl(flow, (z) => tf.sum(z, 1) as tf.Tensor1D, { steps: 1, anneal: 5 } as never),
    /fitReverseKl: unknown option 'anneal'/,
  );
  // A diverging fit stops with a clear message instead of returning NaN.
  await assert.rejects(
    () => fitReverseKl(flow, (z) => tf.mul(NaN, tf.sum(z, 1)) as tf.Tensor1D, { steps: 3 }),
    /the loss became -?(Infinity|NaN) at step 1; lower the learning rate/,
  );
  const half = tf.fill([2, 2], 0.5) as tf.Tensor2D;
  await assert.rejects(
    () => fitMaximumLikelihood(flow, half, { steps: 1, levels: 256 }),
    /fitMaximumLikelihood: expected integer levels 0..255/,
  );
  const noInverse = new NormalizingFlow([
    {
      dim: 2,
      name: 'oneWay',
      forward: (z: tf.Tensor2D) => ({ y: z, logDet: tf.zeros([z.shape[0]]) as tf.Tensor1D }),
      namedVariables: () => ({}),
      dispose: () => undefined,
    },
  ]);
  assert.throws(() => noInverse.logProb(x), /needs inverses, but oneWay has none/);
  tf.dispose([bad, x, half]);
  flow.dispose();
});

test('an interrupted fit keeps the losses of the steps done and leaks nothing', async () => {
  await runtime.init({ seed: 12, report: false });
  const flow = new NormalizingFlow([new PlanarStack(2, 2)]);
  const u1 = target('U1', { gridSize: 50 });
  await fitReverseKl(flow, u1.energy, { steps: 1, batchSize: 16 });
  const tensors = tf.memory().numTensors;
  const stop = interruptAfter(3);
  const { value: fit, lines } = await captureLines(() =>
    fitReverseKl(flow, u1.energy, { steps: 100, batchSize: 16, onStep: stop.hook }),
  );
  runtime.loopRegistry().reset();
  assert.equal(fit.interrupted, true);
  assert.equal(fit.losses.length, 3);
  assert.equal(tf.memory().numTensors, tensors);
  assert.deepEqual(lines, [
    'reverse-KL fit: stopped at step 3/100 (interrupted); the flow keeps its last completed step',
  ]);
  flow.dispose();
});

test('standardNormal first made inside a tidy scope still works after the scope ends', () => {
  // dimension 7 is used by no other test: its cached distribution is made here, inside tidy
  tf.tidy(() => models.flows.standardNormal(7).logProb(tf.zeros([1, 7]) as tf.Tensor2D));
  const z = tf.tensor2d([[1, 0, 0, 0, 0, 0, -1]]);
  const logProb = models.flows.standardNormal(7).logProb(z);
  // log N(z; 0, I) = -½‖z‖² - (d/2) log 2π
  assert.ok(Math.abs(logProb.dataSync()[0] - (-1 - 3.5 * Math.log(2 * Math.PI))) < 1e-5);
  tf.dispose([z, logProb]);
});
