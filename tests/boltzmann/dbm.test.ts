import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { models, runtime, tf } from 'genlab';

const {
  DeepBoltzmannMachine,
  dbmAnnealedImportanceSampling,
  DoubledRbm,
  composeDbm,
  DbmTrainer,
  trainOrLoadDbm,
  RBM,
  binaryStates,
} = models.boltzmann;
type Dbm = InstanceType<typeof DeepBoltzmannMachine>;

const bits = (s: number, n: number) => Array.from({ length: n }, (_, i) => (s >> i) & 1);
const dot = (x: number[], y: number[]) => x.reduce((t, xi, i) => t + xi * y[i], 0);

/** Everything about a tiny DBM by plain loops over all (v, h1, h2). */
function brute(dbm: Dbm) {
  const W1 = dbm.weights1.arraySync();
  const W2 = dbm.weights2.arraySync();
  const a = dbm.visibleBias.arraySync();
  const b1 = dbm.hiddenBias1.arraySync();
  const b2 = dbm.hiddenBias2.arraySync();
  const [D, H1, H2] = [a.length, b1.length, b2.length];
  const energy = (v: number[], h1: number[], h2: number[]) => {
    let e = -dot(a, v) - dot(b1, h1) - dot(b2, h2);
    for (let i = 0; i < D; i++) for (let j = 0; j < H1; j++) e -= v[i] * W1[i][j] * h1[j];
    for (let j = 0; j < H1; j++) for (let k = 0; k < H2; k++) e -= h1[j] * W2[j][k] * h2[k];
    return e;
  };
  /** p(h1, h2 | v) as a table [2^H1][2^H2] and log P*(v) = log Σ_h exp(-E). */
  const joint = (v: number[]) => {
    const table = Array.from({ length: 2 ** H1 }, (_, s1) =>
      Array.from({ length: 2 ** H2 }, (_, s2) => Math.exp(-energy(v, bits(s1, H1), bits(s2, H2)))),
    );
    const total = table.flat().reduce((x, y) => x + y, 0);
    return { posterior: table.map((r) => r.map((p) => p / total)), logMarginal: Math.log(total) };
  };
  let z = 0;
  for (let s = 0; s < 2 ** D; s++) z += Math.exp(joint(bits(s, D)).logMarginal);
  const logZ = Math.log(z);
  /** KL(q || p(h | v)) for factorized q with marginals mu1, mu2. */
  const kl = (v: number[], mu1: number[], mu2: number[]) => {
    const { posterior } = joint(v);
    let total = 0;
    for (let s1 = 0; s1 < 2 ** H1; s1++) {
      for (let s2 = 0; s2 < 2 ** H2; s2++) {
        const q =
          bits(s1, H1).reduce((p, h, j) => p * (h ? mu1[j] : 1 - mu1[j]), 1) *
          bits(s2, H2).reduce((p, h, k) => p * (h ? mu2[k] : 1 - mu2[k]), 1);
        if (q > 0) total += q * Math.log(q / posterior[s1][s2]);
      }
    }
    return total;
  };
  const marginals = (v: number[]) => {
    const { posterior } = joint(v);
    const mu1 = new Array(H1).fill(0);
    const mu2 = new Array(H2).fill(0);
    posterior.forEach((row, s1) =>
      row.forEach((p, s2) => {
        bits(s1, H1).forEach((h, j) => (mu1[j] += h * p));
        bits(s2, H2).forEach((h, k) => (mu2[k] += h * p));
      }),
    );
    return { mu1, mu2 };
  };
  return { energy, joint, logZ, kl, marginals, D, H1, H2 };
}

test('DBM: energy, log P*(h1), exact log Z and exact posterior match plain loops', async () => {
  await runtime.init({ seed: 0, report: false });
  const dbm = DeepBoltzmannMachine.random([4, 3, 3], 1.2, 0.7);
  const ref = brute(dbm);
  const v = binaryStates(4);
  const h1 = tf.tidy(() => tf.cast(tf.less(tf.randomUniform([16, 3]), 0.5), 'float32'));
  const h2 = tf.tidy(() => tf.cast(tf.less(tf.randomUniform([16, 3]), 0.5), 'float32'));
  const e = dbm.energy(v, h1 as tf.Tensor2D, h2 as tf.Tensor2D).arraySync();
  const [vs, h1s, h2s] = [
    v.arraySync(),
    h1.arraySync() as number[][],
    h2.arraySync() as number[][],
  ];
  vs.forEach((row, k) => assert.ok(Math.abs(e[k] - ref.energy(row, h1s[k], h2s[k])) < 1e-5));
  // log P*(h1) = log Σ_{v, h2} exp(-E)
  const states = binaryStates(3);
  const logStar = dbm.logUnnormalizedHidden1(states).arraySync();
  states.arraySync().forEach((h, s) => {
    let total = 0;
    for (let sv = 0; sv < 16; sv++)
      for (let s2 = 0; s2 < 8; s2++) total += Math.exp(-ref.energy(bits(sv, 4), h, bits(s2, 3)));
    assert.ok(Math.abs(logStar[s] - Math.log(total)) < 1e-4, `log P*(h1) state ${s}`);
  });
  assert.ok(Math.abs(dbm.logPartitionExact() - ref.logZ) < 1e-4);
  const exact = dbm.exactPosterior(v);
  const logP = exact.logProbability.arraySync();
  const mu1 = exact.mu1.arraySync();
  const mu2 = exact.mu2.arraySync();
  vs.forEach((row, k) => {
    assert.ok(Math.abs(logP[k] - (ref.joint(row).logMarginal - ref.logZ)) < 1e-4);
    const m = ref.marginals(row);
    m.mu1.forEach((x, j) => assert.ok(Math.abs(mu1[k][j] - x) < 1e-5));
    m.mu2.forEach((x, j) => assert.ok(Math.abs(mu2[k][j] - x) < 1e-5));
  });
  const total = logP.reduce((s, x) => s + Math.exp(x), 0);
  assert.ok(Math.abs(total - 1) < 1e-4, `P(v) sums to ${total}`);
  tf.dispose([v, h1, h2, states, exact.logProbability, exact.mu1, exact.mu2]);
  dbm.dispose();
});

test('mean field equals the exact posterior when it factorizes (W2 = 0)', async () => {
  await runtime.init({ seed: 1, report: false });
  const random = DeepBoltzmannMachine.random([5, 4, 3], 1.5, 0.8);
  const p = random.namedVariables();
  const zeroW2 = tf.zerosLike(p.weights2) as tf.Tensor2D;
  const dbm = DeepBoltzmannMachine.fromParameters({
    weights1: p.weights1 as tf.Tensor2D,
    weights2: zeroW2,
    visibleBias: p.visibleBias as tf.Tensor1D,
    hiddenBias1: p.hiddenBias1 as tf.Tensor1D,
    hiddenBias2: p.hiddenBias2 as tf.Tensor1D,
  });
  const v = binaryStates(5);
  const mf = dbm.meanField(v, { iterations: 50, tolerance: 1e-7 });
  const exact = dbm.exactPosterior(v);
  const diff1 = tf.tidy(() => tf.max(tf.abs(tf.sub(mf.mu1, exact.mu1))).dataSync()[0]);
  const diff2 = tf.tidy(() => tf.max(tf.abs(tf.sub(mf.mu2, exact.mu2))).dataSync()[0]);
  assert.ok(diff1 < 1e-5 && diff2 < 1e-5, `max |mean field - exact| = ${diff1}, ${diff2}`);
  // The bound is then tight: log P(v) exactly.
  const bound = dbm.variationalBound(v, dbm.logPartitionExact(), { iterations: 50 });
  const gap = tf.tidy(() => tf.max(tf.abs(tf.sub(bound, exact.logProbability))).dataSync()[0]);
  assert.ok(gap < 1e-4, `bound - log P(v) = ${gap}`);
  tf.dispose([zeroW2, v, mf.mu1, mf.mu2, exact.mu1, exact.mu2, exact.logProbability, bound]);
  random.dispose();
  dbm.dispose();
});

test(
  'mean field on a coupled tiny DBM: each unit minimizes KL(q || p(h | v)) given the others, ' +
    'bound = log P(v) - KL, close to the exact marginals when the coupling is weak',
  async () => {
    await runtime.init({ seed: 2, report: false });
    const dbm = DeepBoltzmannMachine.random([4, 3, 3], 1.5, 0.5);
    const ref = brute(dbm);
    const logZ = dbm.logPartitionExact();
    const v = binaryStates(4);
    const mf = dbm.meanField(v, { iterations: 200, tolerance: 1e-8 });
    const bound = dbm.variationalBound(v, logZ, { iterations: 200, tolerance: 1e-8 }).arraySync();
    const mu1 = mf.mu1.arraySync();
    const mu2 = mf.mu2.arraySync();
    v.arraySync().forEach((row, k) => {
      const klAt = ref.kl(row, mu1[k], mu2[k]);
      const logP = ref.joint(row).logMarginal - ref.logZ;
      assert.ok(Math.abs(bound[k] - (logP - klAt)) < 1e-4, `bound = log P - KL for v ${k}`);
      assert.ok(bound[k] <= logP + 1e-6);
      // Coordinate-wise optimality: moving any one marginal by ±0.02 raises the KL.
      for (const [layer, mu] of [
        [1, mu1[k]],
        [2, mu2[k]],
      ] as const) {
        mu.forEach((m, j) => {
          for (const delta of [-0.02, 0.02]) {
            const moved = mu.map((x, i) => (i === j ? Math.min(1, Math.max(0, x + delta)) : x));
            const kl = layer === 1 ? ref.kl(row, moved, mu2[k]) : ref.kl(row, mu1[k], moved);
            assert.ok(kl >= klAt - 1e-9, `unit ${j} of h${layer}: KL ${kl} < ${klAt} at μ ${m}`);
          }
        });
      }
    });
    tf.dispose([v, mf.mu1, mf.mu2]);
    dbm.dispose();

    // Weak coupling: the factorized q is nearly the exact posterior.
    const weak = DeepBoltzmannMachine.random([6, 4, 3], 0.2, 0.5);
    const w = binaryStates(6);
    const approx = weak.meanField(w, { iterations: 100, tolerance: 1e-8 });
    const exact = weak.exactPosterior(w);
    const err = tf.tidy(() =>
      Math.max(
        tf.max(tf.abs(tf.sub(approx.mu1, exact.mu1))).dataSync()[0],
        tf.max(tf.abs(tf.sub(approx.mu2, exact.mu2))).dataSync()[0],
      ),
    );
    assert.ok(err < 0.01, `weak coupling: max |mean field - exact| = ${err}`);
    tf.dispose([w, approx.mu1, approx.mu2, exact.mu1, exact.mu2, exact.logProbability]);
    weak.dispose();
  },
);

test('DBM AIS: log Z within 0.1 nats of enumeration on a tiny DBM; no leaks; same seed, same number', async () => {
  await runtime.init({ seed: 3, report: false });
  const dbm = DeepBoltzmannMachine.random([20, 12, 8], 0.6, 0.5);
  const exact = dbm.logPartitionExact();
  const base = tf.tidy(() => tf.mul(dbm.visibleBias, 0.5)) as tf.Tensor1D;
  const run = () => {
    runtime.seed(7);
    return dbmAnnealedImportanceSampling(dbm, { runs: 200, betas: 2000, baseVisibleBias: base });
  };
  const tensors = tf.memory().numTensors;
  const ais = run();
  assert.equal(tf.memory().numTensors, tensors, 'AIS leaks tensors');
  assert.ok(
    Math.abs(ais.logZ - exact) < 0.1,
    `AIS ${ais.logZ} ± ${ais.logZStdError} vs exact ${exact}`,
  );
  assert.ok(ais.logZStdError > 0 && ais.logZStdError < 0.1);
  assert.equal(run().logZ, ais.logZ);
  tf.dispose(base);
  dbm.dispose();
});

test('doubled RBMs: twice the input on the other side, CD statistics of both copies', async () => {
  await runtime.init({ seed: 4, report: false });
  const rbm = RBM.random(5, 4, 0.8, 0.5);
  const v = binaryStates(5);
  const h = binaryStates(4);
  const bottom = new DoubledRbm(rbm, 'visible');
  const top = new DoubledRbm(rbm, 'hidden');
  const check = (actual: tf.Tensor, expected: tf.Tensor, what: string) => {
    const err = tf.tidy(() => tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]);
    assert.ok(err < 1e-6, `${what}: ${err}`);
    tf.dispose([actual, expected]);
  };
  check(
    bottom.hiddenProbs(v),
    tf.tidy(() => tf.sigmoid(tf.add(tf.mul(tf.matMul(v, rbm.weights), 2), rbm.hiddenBias))),
    'p(h | v) with v doubled',
  );
  check(bottom.visibleProbs(h), rbm.visibleProbs(h), 'p(v | h) with v doubled');
  check(top.hiddenProbs(v), rbm.hiddenProbs(v), 'p(h | v) with h doubled');
  check(
    top.visibleProbs(h),
    tf.tidy(() =>
      tf.sigmoid(tf.add(tf.mul(tf.matMul(h, rbm.weights, false, true), 2), rbm.visibleBias)),
    ),
    'p(v | h) with h doubled',
  );
  const ph = rbm.hiddenProbs(v);
  const vk = tf.reverse(v, 0) as tf.Tensor2D;
  const phk = rbm.hiddenProbs(vk);
  const plain = rbm.contrastiveGradients(v, ph, vk, phk);
  for (const model of [bottom, top]) {
    const g = model.contrastiveGradients(v, ph, vk, phk);
    check(g.weights, tf.mul(plain.weights, 2), `${model.doubled}: dW`);
    check(
      g.visibleBias,
      tf.mul(plain.visibleBias, model.doubled === 'visible' ? 2 : 1),
      `${model.doubled}: da`,
    );
    check(
      g.hiddenBias,
      tf.mul(plain.hiddenBias, model.doubled === 'hidden' ? 2 : 1),
      `${model.doubled}: db`,
    );
  }
  // Composed: W1, W2 from the RBMs, b1 the average of the two biases on h1.
  const upper = RBM.random(4, 3, 0.5, 0.5);
  const dbm = composeDbm(rbm, upper);
  check(
    dbm.hiddenBias1.clone(),
    tf.tidy(() => tf.div(tf.add(rbm.hiddenBias, upper.visibleBias), 2)),
    'b1',
  );
  check(dbm.weights2.clone(), upper.weights.clone(), 'W2');
  assert.throws(
    () => composeDbm(upper, rbm),
    /bottom RBM has 3 hidden units but the top RBM has 5/,
  );
  assert.throws(
    () => new DoubledRbm(rbm, 'both' as 'visible'),
    /doubled must be 'visible' or 'hidden'/,
  );
  tf.dispose([v, h, ph, vk, phk, ...Object.values(plain)]);
  rbm.dispose();
  upper.dispose();
  dbm.dispose();
});

/** A small data set from a random DBM's long Gibbs chains. */
function teacherImages(n: number): Float32Array {
  const teacher = DeepBoltzmannMachine.random([8, 5, 3], 2, 1);
  const start = teacher.randomState(n);
  const chain = teacher.gibbs(start, 100);
  const images = chain.v.dataSync() as Float32Array;
  tf.dispose([start.v, start.h1, start.h2, chain.v, chain.h1, chain.h2, chain.visibleProbs]);
  teacher.dispose();
  return images;
}

test(
  'DBM joint training raises the exact log-likelihood; no tensor leaks; same seed, same ' +
    'weights',
  async () => {
    const train = async () => {
      runtime.seed(5);
      const images = teacherImages(400);
      const dbm = DeepBoltzmannMachine.random([8, 5, 3], 0.01, 0.01);
      const logLikelihood = () =>
        tf.tidy(() => {
          const { logProbability } = dbm.exactPosterior(tf.tensor2d(images, [400, 8]));
          return tf.mean(logProbability).dataSync()[0];
        });
      const before = logLikelihood();
      const trainer = new DbmTrainer(dbm, { chains: 50, learningRate: 0.05 });
      const x = tf.tensor2d(images.subarray(0, 20 * 8), [20, 8]);
      trainer.step(x);
      const tensors = tf.memory().numTensors;
      for (let s = 0; s < 600; s++) trainer.step(x);
      assert.equal(tf.memory().numTensors, tensors, 'training steps leak tensors');
      await models.boltzmann.trainEpochs(trainer, images, 8, { epochs: 30, batchSize: 20 });
      const after = logLikelihood();
      const weights = dbm.weights1.dataSync().slice();
      trainer.dispose();
      x.dispose();
      dbm.dispose();
      return { before, after, weights };
    };
    const a = await train();
    assert.ok(a.after > a.before + 0.5, `log-likelihood ${a.before} -> ${a.after}`);
    assert.deepEqual((await train()).weights, a.weights);
  },
);

test('trainOrLoadDbm: pretraining, joint training, save and reload of the same recipe', async () => {
  await runtime.init({ seed: 6, report: false });
  const images = teacherImages(200);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-dbm-'));
  const layer = { epochs: 2, batchSize: 20, learningRate: 0.05 };
  const recipe = {
    sizes: [8, 5, 3] as [number, number, number],
    bottom: layer,
    top: { ...layer, persistent: true, chains: 20 },
    joint: { epochs: 2, batchSize: 20, chains: 20 },
    seed: 3,
    images: 200,
  };
  try {
    const rows: string[] = [];
    const first = await trainOrLoadDbm(dir, images, recipe, (row) =>
      rows.push(`${row.stage} ${row.epoch}`),
    );
    assert.deepEqual(rows, ['bottom 1', 'bottom 2', 'top 1', 'top 2', 'joint 1', 'joint 2']);
    assert.equal(first.loaded, false);
    assert.ok(first.history.every((r) => Number.isFinite(r.reconstruction) && r.seconds >= 0));
    const again = await trainOrLoadDbm(dir, images, recipe);
    assert.equal(again.loaded, true);
    assert.deepEqual(again.dbm.weights2.dataSync(), first.dbm.weights2.dataSync());
    assert.deepEqual(again.history, first.history);
    const retrained = await trainOrLoadDbm(dir, images, { ...recipe, seed: 4 });
    assert.equal(retrained.loaded, false);
    await assert.rejects(
      trainOrLoadDbm(dir, images, { ...recipe, images: 100 }),
      /recipe.images = 100 but images hold 200 images of 8 pixels/,
    );
    const exploding = { epochs: 1, batchSize: 20, learningRate: 1e38, momentum: 0.9 };
    await assert.rejects(
      trainOrLoadDbm(path.join(dir, 'diverged'), images, {
        ...recipe,
        bottom: exploding,
      }),
      /bottom training diverged in epoch 1 \(reconstruction error NaN\); lower its learning rate/,
    );
    [first, again, retrained].forEach((t) => t.dbm.dispose());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('DBM sampleImages: p(v | h1) of long chains averages to the exact E_P[v]', async () => {
  await runtime.init({ seed: 8, report: false });
  const dbm = DeepBoltzmannMachine.random([3, 2, 2], 1);
  const ref = brute(dbm);
  const exact = new Array(3).fill(0);
  for (let s = 0; s < 8; s++) {
    const v = bits(s, 3);
    const p = Math.exp(ref.joint(v).logMarginal - ref.logZ);
    v.forEach((x, i) => (exact[i] += p * x));
  }
  const before = tf.memory().numTensors;
  const images = await dbm.sampleImages(4000, 30);
  assert.equal(images.length, 4000);
  exact.forEach((e, i) => {
    const mean = images.reduce((t, row) => t + row[i], 0) / images.length;
    assert.ok(Math.abs(mean - e) < 0.02, `E[v_${i}]: ${mean} vs ${e}`);
  });
  assert.equal(tf.memory().numTensors, before);
  await assert.rejects(dbm.sampleImages(2, 0), /sampleImages: sweeps must be a positive integer/);
  await assert.rejects(dbm.sampleImages(0, 3), /sampleImages: n \(chains\) must be a positive/);
  dbm.dispose();
});

test('DBM functions reject bad inputs with clear messages', async () => {
  await runtime.init({ seed: 7, report: false });
  assert.throws(
    () => new DeepBoltzmannMachine(4, 0, 2),
    /hidden1 must be a positive integer, got 0/,
  );
  const dbm = DeepBoltzmannMachine.random([4, 3, 2], 0.5);
  const wrong = tf.zeros([2, 5]) as tf.Tensor2D;
  const v = tf.zeros([2, 4]) as tf.Tensor2D;
  assert.throws(() => dbm.meanField(wrong), /meanField\(v\) must be a \[batch, 4\] tensor/);
  assert.throws(() => dbm.meanField(v, { iterations: 0 }), /iterations must be a positive integer/);
  assert.throws(() => dbm.meanField(v, { tolerance: -1 }), /tolerance must be a number >= 0/);
  assert.throws(() => dbm.variationalBound(v, NaN), /logZ must be a finite number, got NaN/);
  assert.throws(() => dbm.averageVariationalBound(new Float32Array(7), 0), /not whole images of 4/);
  assert.throws(() => dbm.visibleProbs(wrong), /visibleProbs\(h1\) must be a \[batch, 3\] tensor/);
  assert.throws(() => dbm.gibbs({ v, h1: wrong, h2: wrong }, 1), /gibbs\(state.h1\)/);
  assert.throws(() => dbm.gibbs(dbm.randomState(2), 0), /steps must be a positive integer/);
  assert.throws(
    () =>
      DeepBoltzmannMachine.fromParameters({
        weights1: wrong,
        weights2: wrong,
        visibleBias: tf.zeros([5]) as tf.Tensor1D,
        hiddenBias1: tf.zeros([5]) as tf.Tensor1D,
        hiddenBias2: tf.zeros([5]) as tf.Tensor1D,
      }),
    /expected weights1 \[D, H1\], weights2 \[H1, H2\]/,
  );
  assert.throws(
    () => new DeepBoltzmannMachine(4, 21, 2).logPartitionExact(),
    /h1 has 21 units, more than the 20 .* dbmAnnealedImportanceSampling/,
  );
  assert.throws(
    () => dbmAnnealedImportanceSampling(dbm, { runs: 1 }),
    /runs must be an integer >= 2/,
  );
  assert.throws(
    () => dbmAnnealedImportanceSampling(dbm, { baseVisibleBias: tf.zeros([3]) as tf.Tensor1D }),
    /baseVisibleBias must have shape \[4\], got \[3\]/,
  );
  assert.throws(() => new DbmTrainer(dbm, { chains: 0 }), /chains must be a positive integer/);
  assert.throws(() => new DbmTrainer(dbm, { learningRate: NaN }), /learningRate must be a finite/);
  assert.throws(
    () => new DbmTrainer(dbm, { momentum: 1 }),
    /momentum must be a number in \[0, 1\)/,
  );
  assert.throws(
    () => new DbmTrainer(dbm, { chain: 10 } as never),
    /DbmTrainer: unknown option 'chain' \(did you mean 'chains'\?\)/,
  );
  assert.throws(
    () => dbm.meanField(v, { iteration: 5 } as never),
    /meanField: unknown option 'iteration' \(did you mean 'iterations'\?\)/,
  );
  assert.throws(
    () => dbm.averageVariationalBound(new Float32Array(8), 0, { batchsize: 1 } as never),
    /averageVariationalBound: unknown option 'batchsize' \(did you mean 'batchSize'\?\)/,
  );
  assert.ok(
    Number.isFinite(
      dbm.averageVariationalBound(new Float32Array(8), 0, { batchSize: 1, iterations: 2 }),
    ),
  );
  await assert.rejects(
    trainOrLoadDbm('/nonexistent', new Float32Array(8), { seeds: 1 } as never),
    /trainOrLoadDbm: unknown option 'seeds' \(did you mean 'seed'\?\)/,
  );
  assert.throws(
    () => new DbmTrainer(dbm).step(wrong),
    /DbmTrainer.step\(v0\) must be a \[batch, 4\]/,
  );
  tf.dispose([wrong, v]);
  dbm.dispose();
});
