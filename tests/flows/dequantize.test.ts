import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models, runtime, tf } from 'genlab';
import { randomizeVariables } from './helpers';

const {
  AffineCoupling,
  LogitTransform,
  NormalizingFlow,
  bitsPerDim,
  dequantize,
  dequantizedLogLikelihood,
  fitMaximumLikelihood,
  gridValues,
  pixelLevels,
} = models.flows;

/** The uniform density on [0, 1)^D as a base distribution (a flow with no layers). */
function unitCube(dim: number): models.flows.BaseDistribution {
  return {
    dim,
    sample: (n) => tf.randomUniform([n, dim]) as tf.Tensor2D,
    logProb: (z) =>
      tf.tidy(() => {
        const inside = tf.all(tf.logicalAnd(tf.greaterEqual(z, 0), tf.less(z, 1)), 1);
        return tf.where(inside, tf.zeros([z.shape[0]]), tf.fill([z.shape[0]], -Infinity));
      }) as tf.Tensor1D,
  };
}

test('pixelLevels recovers 8-bit levels from [0, 1] pixels; dequantize puts one point in each bin', async () => {
  await runtime.init({ seed: 0, report: false });
  const pixels = tf.tensor2d([[0, 1 / 255, 128 / 255, 1]]);
  const levels = pixelLevels(pixels);
  assert.deepEqual(Array.from(levels.dataSync()), [0, 1, 128, 255]);
  const k = tf.tile(levels, [5000, 1]) as tf.Tensor2D;
  const y = dequantize(k);
  const u = tf.sub(tf.mul(y, 256), k);
  assert.ok(tf.min(u).dataSync()[0] >= 0 && tf.max(u).dataSync()[0] < 1, 'y lies in [k, k+1)/256');
  // u ~ U[0, 1): mean 1/2, standard error sqrt(1/12 / 20000)
  const mean = tf.mean(u).dataSync()[0];
  assert.ok(Math.abs(mean - 0.5) < 5 * Math.sqrt(1 / 12 / 20000), `mean of u ${mean}`);
  tf.dispose([pixels, levels, k, y, u]);
});

test('bits per dimension: the uniform density on the unit cube scores exactly 8 bits on 8-bit data', async () => {
  await runtime.init({ seed: 1, report: false });
  const flow = new NormalizingFlow([], unitCube(3));
  const k = tf.tensor2d([
    [0, 255, 17],
    [3, 4, 5],
  ]);
  const bound = dequantizedLogLikelihood(flow, k, { samples: 3 });
  for (const v of bound.dataSync()) {
    assert.ok(Math.abs(v - -3 * Math.log(256)) < 1e-4, `log P(k) bound ${v}`);
    assert.ok(Math.abs(bitsPerDim(-v, 3) - 8) < 1e-5);
  }
  assert.equal(bitsPerDim(Math.LN2 * 10, 10), 1);
  tf.dispose([k, bound]);
});

test(
  'a dequantized flow is a normalized discrete model, and E_u[log p((k+u)/L)] - D log L is ' +
    'a lower bound on log P(k) that the Monte Carlo estimate matches',
  async () => {
    await runtime.init({ seed: 2, report: false });
    const L = 4;
    const coupling = new AffineCoupling(2, [1, 0], { hidden: [8] });
    randomizeVariables(coupling, 0.5);
    const flow = new NormalizingFlow([coupling, new LogitTransform(2, { alpha: 0 })]);
    // P(k) = ∫ over the bin of p, by the midpoint rule on a 400 × 400 grid of [0, 1]²
    const m = 400;
    const { values, cellArea } = gridValues(
      (y) => flow.logProb(tf.add(tf.mul(y, 0.5), 0.5) as tf.Tensor2D),
      1,
      m,
    );
    const area = cellArea / 4; // the grid over [-1, 1]² was mapped onto [0, 1]²
    const perBin = m / L;
    const mass = new Float64Array(L * L);
    const meanLog = new Float64Array(L * L);
    values.forEach((logP, i) => {
      const bin = Math.floor(Math.floor(i / m) / perBin) * L + Math.floor((i % m) / perBin);
      mass[bin] += Math.exp(logP) * area;
      meanLog[bin] += logP / (perBin * perBin);
    });
    const total = mass.reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(total - 1) < 1e-3, `Σ_k P(k) = ${total}`);
    // every bin (k1, k2): row index is k2 (the grid's rows run over the second coordinate)
    const bins = Array.from({ length: L * L }, (_, b) => [b % L, Math.floor(b / L)]);
    // 4,000 draws of u per bin, one per row, for the Monte Carlo mean and its standard error
    const draws = 4000;
    const k = tf.tile(tf.tensor2d(bins), [draws, 1]) as tf.Tensor2D;
    const perDraw = dequantizedLogLikelihood(flow, k, { levels: L });
    const { mean, variance } = tf.moments(tf.reshape(perDraw, [draws, L * L]), 0);
    const estimate = mean.dataSync();
    const standardError = tf.sqrt(tf.div(variance, draws)).dataSync();
    bins.forEach((_, b) => {
      const exact = meanLog[b] - 2 * Math.log(L);
      assert.ok(exact <= Math.log(mass[b]) + 1e-6, `bin ${b}: the bound exceeds log P(k)`);
      assert.ok(
        Math.abs(estimate[b] - exact) < 5 * standardError[b] + 0.01,
        `bin ${b}: Monte Carlo ${estimate[b]} ± ${standardError[b]}, quadrature ${exact}`,
      );
    });
    tf.dispose([perDraw, mean, variance]);
    k.dispose();
    flow.dispose();
  },
);

test(
  'fitMaximumLikelihood on dequantized levels approaches, and stays above, the entropy of the ' +
    'discrete data; same seed, same numbers; no leaks',
  async () => {
    // two coordinates in 8 levels: k1 uniform on {2, 5}, k2 = k1 or k1 + 1 with equal odds: the
    // entropy is 2 bits per pair, 1 bit per dimension
    const L = 8;
    const sample = (n: number) => {
      const rows = Array.from({ length: n }, () => {
        const k1 = runtime.random() < 0.5 ? 2 : 5;
        return [k1, k1 + (runtime.random() < 0.5 ? 0 : 1)];
      });
      return tf.tensor2d(rows);
    };
    const run = async () => {
      await runtime.init({ seed: 3, report: false });
      const train = sample(2000);
      const testSet = sample(2000);
      const flow = new NormalizingFlow([
        ...models.flows.couplingFlows(2, 4, { hidden: [32, 32] }),
        new LogitTransform(2, { alpha: 0.01 }),
      ]);
      const bits = () => {
        const ll = dequantizedLogLikelihood(flow, testSet, { levels: L, samples: 4 });
        const value = bitsPerDim(-tf.mean(ll).dataSync()[0], 2);
        ll.dispose();
        return value;
      };
      const before = bits();
      await fitMaximumLikelihood(flow, train, { steps: 2, levels: L });
      const tensors = tf.memory().numTensors;
      const { losses } = await fitMaximumLikelihood(flow, train, {
        steps: 150,
        batchSize: 256,
        learningRate: 5e-3,
        levels: L,
      });
      assert.equal(tf.memory().numTensors, tensors, 'training steps must not leak tensors');
      const after = bits();
      tf.dispose([train, testSet]);
      flow.dispose();
      return { before, after, losses };
    };
    const first = await run();
    assert.ok(first.before > 2, `an untrained flow: ${first.before} bits per dimension`);
    assert.ok(first.after < 1.3, `after training: ${first.after} bits per dimension`);
    assert.ok(first.after > 1 - 0.05, `below the entropy (1 bit): ${first.after}`);
    const second = await run();
    assert.deepEqual(second.losses, first.losses);
  },
);

test('dequantization rejects bad inputs with messages that name the problem', async () => {
  await runtime.init({ seed: 0, report: false });
  const flow = new NormalizingFlow([], unitCube(2));
  const half = tf.tensor2d([[0.5, 1]]);
  const big = tf.tensor2d([[0, 256]]);
  const nan = tf.tensor2d([[0, NaN]]);
  for (const bad of [half, big, nan])
    assert.throws(() => dequantize(bad), /dequantize: expected integer levels 0..255/);
  assert.throws(
    () => dequantizedLogLikelihood(flow, big, { levels: 256 }),
    /dequantizedLogLikelihood: expected integer levels 0..255/,
  );
  assert.throws(
    () => dequantizedLogLikelihood(flow, half, { level: 4 } as never),
    /dequantizedLogLikelihood: unknown option 'level' \(did you mean 'levels'\?\); the options are levels, samples/,
  );
  assert.throws(
    () => pixelLevels(tf.tensor2d([[0.3]])),
    /pixelLevels: the pixels are not multiples of 1\/255/,
  );
  assert.throws(() => dequantize(tf.tensor1d([1]) as never), /expected levels of shape \[n, D\]/);
  assert.throws(() => bitsPerDim(NaN, 3), /the NLL must be finite, got NaN/);
  assert.throws(() => bitsPerDim(1, 0), /the dimension D must be a positive integer, got 0/);
  tf.dispose([half, big, nan]);
});
