import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models, runtime, samplers, tf } from 'genlab';
import { captureLines, interruptAfter } from '../runtime/loop-helpers';

const { RBM, CdTrainer, fitRbm, binaryStates } = models.boltzmann;

/** Plain-loop quantities of a small RBM from its parameters. */
function brute(rbm: InstanceType<typeof RBM>) {
  const w = rbm.weights.arraySync();
  const a = rbm.visibleBias.arraySync();
  const b = rbm.hiddenBias.arraySync();
  const [d, h] = [a.length, b.length];
  const bits = (s: number, n: number) => Array.from({ length: n }, (_, i) => (s >> i) & 1);
  const energy = (v: number[], hh: number[]) => {
    let e = 0;
    for (let i = 0; i < d; i++) e -= a[i] * v[i];
    for (let j = 0; j < h; j++) e -= b[j] * hh[j];
    for (let i = 0; i < d; i++) for (let j = 0; j < h; j++) e -= v[i] * w[i][j] * hh[j];
    return e;
  };
  const freeEnergy = (v: number[]) => {
    let z = 0;
    for (let s = 0; s < 2 ** h; s++) z += Math.exp(-energy(v, bits(s, h)));
    return -Math.log(z);
  };
  let z = 0;
  for (let s = 0; s < 2 ** d; s++) z += Math.exp(-freeEnergy(bits(s, d)));
  return { energy, freeEnergy, logZ: Math.log(z), bits };
}

test(
  'RBM: energy and free energy F(v) = -log sum_h exp(-E(v, h)) match plain loops; exact log Z ' +
    'over either layer',
  async () => {
    await runtime.init({ seed: 0, report: false });
    const rbm = RBM.random(6, 4, 0.8, 0.5);
    const ref = brute(rbm);
    const v = binaryStates(6);
    const h = tf.tidy(() =>
      tf.cast(tf.less(tf.randomUniform([64, 4]), 0.5), 'float32'),
    ) as tf.Tensor2D;
    const e = rbm.energy(v, h).arraySync();
    const f = rbm.freeEnergy(v).arraySync();
    const vs = v.arraySync();
    const hs = h.arraySync();
    for (let k = 0; k < 64; k++) {
      assert.ok(Math.abs(e[k] - ref.energy(vs[k], hs[k])) < 1e-4);
      assert.ok(Math.abs(f[k] - ref.freeEnergy(vs[k])) < 1e-4);
    }
    // The sum over the hidden layer (4 units) and the transposed RBM (sum over its visible layer)
    // agree with the loop.
    assert.ok(Math.abs(rbm.logPartitionExact() - ref.logZ) < 1e-4);
    const transposed = tf.tidy(() => ({
      weights: tf.transpose(rbm.weights) as tf.Tensor2D,
      visibleBias: rbm.hiddenBias.clone(),
      hiddenBias: rbm.visibleBias.clone(),
    }));
    const swapped = RBM.fromParameters(transposed);
    assert.ok(Math.abs(swapped.logPartitionExact() - ref.logZ) < 1e-4);
    tf.dispose([v, h, transposed.weights, transposed.visibleBias, transposed.hiddenBias]);
    rbm.dispose();
    swapped.dispose();
  },
);

test('RBM: p(h_j = 1 | v) is the Boltzmann ratio of the energies with h_j = 1 and h_j = 0', async () => {
  await runtime.init({ seed: 1, report: false });
  const rbm = RBM.random(5, 3, 1, 0.5);
  const ref = brute(rbm);
  const v = binaryStates(5);
  const ph = rbm.hiddenProbs(v).arraySync();
  const vs = v.arraySync();
  const h0 = [1, 0, 1];
  for (let k = 0; k < 32; k++) {
    for (let j = 0; j < 3; j++) {
      const on = h0.map((x, i) => (i === j ? 1 : x));
      const off = h0.map((x, i) => (i === j ? 0 : x));
      const expected = 1 / (1 + Math.exp(ref.energy(vs[k], on) - ref.energy(vs[k], off)));
      assert.ok(Math.abs(ph[k][j] - expected) < 1e-5);
    }
  }
  tf.dispose(v);
  rbm.dispose();
});

test('RBM: pseudo-likelihood equals sum_i log P(v_i | v_-i) from the exact marginal', async () => {
  await runtime.init({ seed: 2, report: false });
  const rbm = RBM.random(5, 4, 1, 0.5);
  const ref = brute(rbm);
  const v = tf.tensor2d([
    [1, 0, 1, 1, 0],
    [0, 0, 0, 1, 1],
  ]);
  let expected = 0;
  for (const row of v.arraySync()) {
    for (let i = 0; i < 5; i++) {
      const flipped = row.map((x, k) => (k === i ? 1 - x : x));
      expected += -Math.log1p(Math.exp(ref.freeEnergy(row) - ref.freeEnergy(flipped)));
    }
  }
  assert.ok(Math.abs(rbm.pseudoLogLikelihood(v) - expected / 2) < 1e-4);
  tf.dispose(v);
  rbm.dispose();
});

test('RBM: block Gibbs chains sample the exact marginal P(v)', async () => {
  await runtime.init({ seed: 3, report: false });
  const rbm = RBM.random(4, 3, 1, 0.5);
  const ref = brute(rbm);
  const exact = Array.from({ length: 16 }, (_, s) =>
    Math.exp(-ref.freeEnergy(ref.bits(s, 4)) - ref.logZ),
  );
  const start = tf.zeros([4000, 4]) as tf.Tensor2D;
  const { v, probs } = await rbm.gibbs(start, 30);
  const codes = v.arraySync().map((row) => row.reduce((s, x, i) => s + (x << i), 0));
  const tv = samplers.totalVariation(samplers.frequencies(codes, 16), exact);
  assert.ok(tv < 0.05, `TV ${tv}`);
  tf.dispose([start, v, probs]);
  rbm.dispose();
});

test(
  'CD-1 and PCD training raise the exact log-likelihood of a small data set; no tensor leaks; ' +
    'same seed, same weights',
  async () => {
    const train = async (persistent: boolean) => {
      runtime.seed(4);
      const teacher = RBM.random(8, 3, 2, 1);
      const data = await teacher.gibbs(tf.zeros([400, 8]) as tf.Tensor2D, 50);
      const images = data.v.dataSync() as Float32Array;
      tf.dispose([data.v, data.probs]);
      teacher.dispose();
      const rbm = new RBM(8, 6, { weightScale: 0.01 });
      const x = tf.tensor2d(images, [400, 8]);
      const before = rbm.averageLogProbability(images, rbm.logPartitionExact());
      const trainer = new CdTrainer(rbm, {
        k: 1,
        persistent,
        chains: 50,
        learningRate: 0.1,
        momentum: 0.5,
      });
      await trainer.epoch(images, 20);
      const tensors = tf.memory().numTensors;
      for (let e = 0; e < 30; e++) await trainer.epoch(images, 20);
      assert.equal(tf.memory().numTensors, tensors, 'training steps leak tensors');
      const after = rbm.averageLogProbability(images, rbm.logPartitionExact());
      const weights = rbm.weights.dataSync().slice();
      trainer.dispose();
      rbm.dispose();
      x.dispose();
      return { before, after, weights };
    };
    for (const persistent of [false, true]) {
      const a = await train(persistent);
      assert.ok(
        a.after > a.before + 0.3,
        `${persistent ? 'PCD' : 'CD-1'}: ${a.before} -> ${a.after}`,
      );
      assert.deepEqual(a.weights, (await train(persistent)).weights);
    }
  },
);

test('fitRbm: momentum switch and linear learning-rate decay', async () => {
  await runtime.init({ seed: 5, report: false });
  const rbm = new RBM(4, 2);
  const images = new Float32Array(40 * 4).map(() => (runtime.random() < 0.5 ? 1 : 0));
  const seen: Array<[number, number]> = [];
  const { trainer } = await fitRbm(rbm, images, {
    epochs: 3,
    batchSize: 10,
    learningRate: 0.3,
    momentumSwitchEpoch: 1,
    linearDecay: true,
    onEpoch: (_, t) => seen.push([t.learningRate, t.momentum]),
  });
  trainer.dispose();
  assert.deepEqual(
    seen.map((s) => s[1]),
    [0.5, 0.9, 0.9],
  );
  seen.map((s) => s[0]).forEach((lr, k) => assert.ok(Math.abs(lr - (0.3 * (3 - k)) / 3) < 1e-12));
  rbm.dispose();
});

test('RBM and trainer reject bad inputs with clear messages', async () => {
  assert.throws(() => new RBM(0, 3), /visible must be a positive integer, got 0/);
  assert.throws(
    () => new RBM(3, 2, { weightScale: -1 }),
    /weightScale must be a finite number >= 0/,
  );
  const rbm = new RBM(4, 30);
  const wrong = tf.zeros([2, 5]) as tf.Tensor2D;
  assert.throws(() => rbm.freeEnergy(wrong), /v must be a \[batch, 4\] tensor/);
  assert.throws(() => rbm.visibleProbs(wrong), /h must be a \[batch, 30\] tensor/);
  await assert.rejects(
    () => rbm.gibbs(tf.zeros([2, 4]) as tf.Tensor2D, 0),
    /steps must be a positive integer/,
  );
  assert.throws(
    () => rbm.logProbability(tf.zeros([2, 4]) as tf.Tensor2D, NaN),
    /logZ must be a finite number/,
  );
  assert.throws(
    () => new RBM(30, 30).logPartitionExact(),
    /more than 20 units .* annealedImportanceSampling/,
  );
  assert.throws(
    () => new CdTrainer(rbm, { k: 0 }),
    /k \(Gibbs steps per update\) must be a positive integer/,
  );
  assert.throws(
    () => new CdTrainer(rbm, { momentum: 1 }),
    /momentum must be a number in \[0, 1\), got 1/,
  );
  assert.throws(
    () => new CdTrainer(rbm, { learningRate: -0.1 }),
    /learningRate must be a finite number > 0/,
  );
  assert.throws(
    () => new CdTrainer(rbm).step(wrong),
    /CdTrainer.step\(v0\) must be a \[batch, 4\] tensor/,
  );
  await assert.rejects(
    () => new CdTrainer(rbm).epoch(new Float32Array(7)),
    /whole images of 4 pixels/,
  );
  const bright = new Float32Array(40).fill(0.5);
  bright[13] = 7;
  await assert.rejects(
    () => fitRbm(rbm, bright, { epochs: 1 }),
    /CdTrainer.epoch: images must be pixel intensities in \[0, 1\], got 7 at index \[13\]/,
  );
  bright[13] = NaN;
  await assert.rejects(() => new CdTrainer(rbm).epoch(bright), /got NaN at index \[13\]/);
  await assert.rejects(
    () => fitRbm(rbm, new Float32Array(40), { epochs: 1, momentumSwitch: 2 } as never),
    /fitRbm: unknown option 'momentumSwitch' \(did you mean 'momentumSwitchEpoch'\?\)/,
  );
  assert.throws(() => new CdTrainer(rbm, { chain: 10 } as never), /did you mean 'chains'/);
  tf.dispose(wrong);
  rbm.dispose();
});

test(
  'the contrastive gradients are the gradients of mean F(vk) - mean F(v0) with respect to W, ' +
    'a and b (autodiff)',
  async () => {
    await runtime.init({ seed: 6, report: false });
    const { contrastiveGradients, contrastiveWeightGradient, freeEnergyOf } = models.boltzmann;
    const rbm = RBM.random(7, 5, 0.7, 0.5);
    const [v0, vk] = tf.tidy(() => [
      tf.cast(tf.less(tf.randomUniform([6, 7]), 0.5), 'float32'),
      tf.cast(tf.less(tf.randomUniform([9, 7]), 0.5), 'float32'),
    ]) as tf.Tensor2D[];
    const p = rbm.parameters();
    const before = tf.memory().numTensors;
    const diffs = tf.tidy(() => {
      const objective = (w: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => {
        const q = {
          weights: w as tf.Tensor2D,
          visibleBias: a as tf.Tensor1D,
          hiddenBias: b as tf.Tensor1D,
        };
        return tf.sub(tf.mean(freeEnergyOf(vk, q)), tf.mean(freeEnergyOf(v0, q)));
      };
      const [dW, da, db] = tf.grads(objective)([p.weights, p.visibleBias, p.hiddenBias]);
      const cd = contrastiveGradients(v0, rbm.hiddenProbs(v0), vk, rbm.hiddenProbs(vk));
      const maxDiff = (x: tf.Tensor, y: tf.Tensor) => tf.max(tf.abs(tf.sub(x, y))).dataSync()[0];
      const weightOnly = contrastiveWeightGradient(
        v0,
        rbm.hiddenProbs(v0),
        vk,
        rbm.hiddenProbs(vk),
      );
      return [
        maxDiff(dW, cd.weights),
        maxDiff(da, cd.visibleBias),
        maxDiff(db, cd.hiddenBias),
        maxDiff(weightOnly, cd.weights),
      ];
    });
    assert.equal(tf.memory().numTensors, before);
    diffs.forEach((d, i) =>
      assert.ok(d < 1e-5, `${['W', 'a', 'b', 'weight-only'][i]}: max difference ${d}`),
    );
    assert.throws(
      () => contrastiveGradients(v0, rbm.hiddenProbs(vk), vk, rbm.hiddenProbs(vk)),
      /shapes do not match/,
    );
    tf.dispose([v0, vk]);
    rbm.dispose();
  },
);

test(
  'trainOrLoadRbm trains and saves once, then loads the same weights and history for the ' +
    'same recipe',
  async () => {
    const fs = await import('fs');
    const os = await import('os');
    const path = await import('path');
    await runtime.init({ seed: 7, report: false });
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rbm-')), 'model');
    const images = new Float32Array(50 * 6).map(() => (runtime.random() < 0.3 ? 1 : 0));
    const recipe = { hidden: 3, fit: { epochs: 2, batchSize: 10, k: 1 }, seed: 3, images: 50 };
    const first = await models.boltzmann.trainOrLoadRbm(dir, images, 6, recipe);
    assert.equal(first.loaded, false);
    assert.equal(first.history.length, 2);
    const second = await models.boltzmann.trainOrLoadRbm(dir, images, 6, recipe);
    assert.equal(second.loaded, true);
    assert.deepEqual(second.rbm.weights.dataSync(), first.rbm.weights.dataSync());
    assert.deepEqual(second.history, first.history);
    const other = await models.boltzmann.trainOrLoadRbm(dir, images, 6, { ...recipe, seed: 4 });
    assert.equal(other.loaded, false);
    await assert.rejects(
      () => models.boltzmann.trainOrLoadRbm(dir, images, 6, { ...recipe, images: 40 }),
      /recipe.images = 40 but images hold 50 images/,
    );
    // A misspelled training option must not train (and save) a different model.
    await assert.rejects(
      () =>
        models.boltzmann.trainOrLoadRbm(dir, images, 6, {
          ...recipe,
          fit: { ...recipe.fit, learingRate: 0.5 } as never,
        }),
      /trainOrLoadRbm: unknown option 'learingRate' \(did you mean 'learningRate'\?\)/,
    );
    // A foreign or damaged config.json is refused, naming the file.
    const configFile = path.join(dir, 'config.json');
    const saved = fs.readFileSync(configFile, 'utf8');
    fs.writeFileSync(configFile, JSON.stringify({ kind: 'vae' }));
    await assert.rejects(
      () => models.boltzmann.trainOrLoadRbm(dir, images, 6, recipe),
      (e: Error) => e.message === `${configFile}: holds a saved 'vae', not a 'rbm'`,
    );
    fs.writeFileSync(
      configFile,
      JSON.stringify({ ...JSON.parse(saved), history: [{ epoch: 'x' }] }),
    );
    await assert.rejects(
      () => models.boltzmann.trainOrLoadRbm(dir, images, 6, recipe),
      /config.json: saved RBM: history\[0\] must be an object of numbers/,
    );
    [first, second, other].forEach((t) => t.rbm.dispose());
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  },
);

test(
  'an interrupted RBM training stops after the update in progress, leaks nothing, and is not ' +
    "saved; the caller's random stream is the same whether trainOrLoadRbm trained or loaded",
  async () => {
    const fs = await import('fs');
    const os = await import('os');
    const path = await import('path');
    await runtime.init({ seed: 8, report: false });
    const images = new Float32Array(60 * 6).map(() => (runtime.random() < 0.4 ? 1 : 0));
    const rbm = new RBM(6, 3);
    const trainer = new CdTrainer(rbm);
    const tensors = tf.memory().numTensors;
    const stop = interruptAfter(4);
    let atCut: number[] | undefined;
    const step = trainer.step.bind(trainer);
    trainer.step = (v0) => {
      step(v0);
      if (stop.calls() === 3) atCut = Array.from(rbm.weights.dataSync());
      stop.hook();
    };
    const { value: done, lines } = await captureLines(() => trainer.epoch(images, 10));
    runtime.loopRegistry().reset();
    assert.deepEqual(done, { batches: 4, of: 6 });
    assert.equal(stop.calls(), 4);
    assert.deepEqual(Array.from(rbm.weights.dataSync()), atCut, 'the RBM is as update 4 left it');
    assert.equal(tf.memory().numTensors, tensors);
    assert.deepEqual(lines, [
      'RBM training: stopped at batch 4/6 (interrupted); the RBM keeps its last completed update',
    ]);
    trainer.dispose();
    rbm.dispose();

    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rbm-')), 'model');
    const recipe = { hidden: 3, fit: { epochs: 3, batchSize: 10, k: 1 }, seed: 5, images: 60 };
    runtime.loopRegistry().interrupt();
    const cut = await captureLines(() => models.boltzmann.trainOrLoadRbm(dir, images, 6, recipe));
    runtime.loopRegistry().reset();
    assert.equal(cut.value.interrupted, true);
    assert.equal(fs.existsSync(dir), false, 'an interrupted training is not saved');
    assert.match(cut.lines[0], /it is not saved, and running the cell again trains it/);
    cut.value.rbm.dispose();
    const after = async (load: boolean) => {
      runtime.seed(9);
      const t = await models.boltzmann.trainOrLoadRbm(dir, images, 6, recipe);
      assert.equal(t.loaded, load);
      t.rbm.dispose();
      return runtime.random();
    };
    assert.equal(await after(false), await after(true));
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  },
);
