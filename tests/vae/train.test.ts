import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { data, distributions, models, runtime, tf, training } from 'genlab';
import {
  blockingBound,
  captureLines,
  interruptAfter,
  longestEventLoopBlock,
  timed,
} from '../runtime/loop-helpers';

const { VAE, VaeTrainer, saveVae, loadVae, evaluate } = models.vae;

const small = { inputDim: 784, hidden: [16], latentDim: 3 };
const LECTURE = models.vae.LECTURE_CONFIG;

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-vae-'));
}

function images(n: number): data.ImageDataset {
  return data.loadMnist('train', { limit: n });
}

/** Runs `steps` Adam steps on fixed batches, returning the per-step losses. */
function continueTraining(trainer: models.vae.VaeTrainer, batches: tf.Tensor2D[]): number[] {
  return batches.map((x) => {
    const s = trainer.step(x);
    return s.reconstruction + s.kl;
  });
}

test('training leaks no tensors: tf.memory().numTensors is flat across steps', async () => {
  await runtime.init({ seed: 0, report: false });
  const variants: Partial<models.vae.VaeConfig>[] = [
    small,
    { ...small, classes: 10 },
    { ...small, kind: 'autoencoder' },
    { ...small, likelihood: 'gaussian' },
  ];
  for (const options of variants) {
    const model = new VAE(options);
    const trainer = new VaeTrainer(model, { batchSize: 32 });
    const set = images(32 * 6);
    const counts: number[] = [];
    for (const batch of set.batches(32)) {
      trainer.step(batch.x, options.classes ? batch.y : undefined);
      counts.push(tf.memory().numTensors);
    }
    // The first step creates Adam's moment variables; afterwards nothing may accumulate.
    assert.deepEqual(
      counts.slice(1),
      counts.slice(1).map(() => counts[1]),
      `${JSON.stringify(options)}: ${counts}`,
    );
    // Whole epochs with evaluation and saving leave nothing behind either.
    const dir = path.join(tempDir(), 'model');
    await trainer.fit(set, { epochs: 1, progress: false, test: set });
    await saveVae(dir, trainer);
    const afterEpoch = tf.memory().numTensors;
    await trainer.fit(set, { epochs: 1, progress: false, test: set });
    await saveVae(dir, trainer);
    assert.equal(
      tf.memory().numTensors,
      afterEpoch,
      `${JSON.stringify(options)}: fit + evaluate + save`,
    );
    trainer.dispose();
    model.dispose();
  }
});

test('same seed, same numbers: two runs give identical losses', async () => {
  const run = async () => {
    await runtime.init({ seed: 7, report: false });
    const model = new VAE(small);
    const trainer = new VaeTrainer(model, { batchSize: 32 });
    const history = new training.History();
    await trainer.fit(images(96), { epochs: 2, history, progress: false, test: images(64) });
    const rows = history.rows.map(({ epoch, 'train loss': a, 'test loss': b }) => [epoch, a, b]);
    trainer.dispose();
    model.dispose();
    return rows;
  };
  const a = await run();
  const b = await run();
  assert.deepEqual(a, b);
  assert.equal(a.length, 2);
});

test('save, load and continue training reproduce the same losses as training on without saving', async () => {
  await runtime.init({ seed: 1, report: false });
  const model = new VAE(small);
  const trainer = new VaeTrainer(model, { batchSize: 32 });
  await trainer.fit(images(64), { epochs: 1, progress: false });
  const dir = path.join(tempDir(), 'model');
  const history = new training.History();
  history.push({ epoch: 1, 'train loss': 123.5 });
  await saveVae(dir, trainer, { history });
  const batches = Array.from(images(96).batches(32, { shuffle: false }), (b) => b.x.clone());
  runtime.seed(5);
  const original = continueTraining(trainer, batches);
  const loaded = await loadVae(dir);
  assert.equal(loaded.trainer.epochsDone, 1);
  assert.deepEqual(loaded.history, [{ epoch: 1, 'train loss': 123.5 }]);
  assert.deepEqual(loaded.model.config, model.config);
  runtime.seed(5);
  const resumed = continueTraining(loaded.trainer, batches);
  // Equal up to float32 rounding (Adam's restored bias correction beta^t is recomputed as a power).
  const close = (a: number[], b: number[]) =>
    a.every((v, i) => Math.abs(v - b[i]) <= 1e-5 * Math.abs(b[i]));
  assert.equal(resumed[0], original[0]);
  assert.ok(close(resumed, original), `resumed ${resumed} vs original ${original}`);
  // A fresh optimizer (Adam moments reset) would not reproduce them: the saved state matters.
  const fresh = await loadVae(dir);
  const restarted = new VaeTrainer(fresh.model, { batchSize: 32 });
  runtime.seed(5);
  const reset = continueTraining(restarted, batches);
  assert.ok(!close(reset, original), `a fresh optimizer gave ${reset}, the same as ${original}`);
  tf.dispose(batches);
});

test(
  'a model saved under an injected write failure is not loadable, and an earlier save ' +
    'survives it',
  async () => {
    await runtime.init({ seed: 2, report: false });
    const model = new VAE(small);
    const trainer = new VaeTrainer(model, { batchSize: 32 });
    const dir = path.join(tempDir(), 'model');
    for (const failing of ['weights.bin', 'config.json', 'manifest.json']) {
      const write: training.WriteFile = (file, content) => {
        if (path.basename(file) === failing) {
          fs.writeFileSync(
            file,
            typeof content === 'string' ? content.slice(0, 10) : content.subarray(0, 10),
          );
          throw new Error(`disk full while writing ${failing}`);
        }
        fs.writeFileSync(file, content);
      };
      await assert.rejects(saveVae(dir, trainer, { writeFile: write }), /disk full/);
      assert.equal(training.hasCheckpoint(dir), false);
      await assert.rejects(loadVae(dir), /is not a saved model/);
    }
    await saveVae(dir, trainer);
    const x = images(8).imagesTensor();
    const before = model.reconstruct(x).arraySync();
    await trainer.fit(images(64), { epochs: 1, progress: false });
    await assert.rejects(
      saveVae(dir, trainer, {
        writeFile: (file) => {
          throw new Error(`crash at ${path.basename(file)}`);
        },
      }),
      /crash at weights.bin/,
    );
    const survivor = await loadVae(dir);
    assert.deepEqual(survivor.model.reconstruct(x).arraySync(), before);
    assert.equal(survivor.trainer.epochsDone, 0);
  },
);

test('loading a folder saved for another architecture fails with a message naming the mismatch', async () => {
  await runtime.init({ seed: 0, report: false });
  const dir = path.join(tempDir(), 'model');
  const model = new VAE(small);
  const trainer = new VaeTrainer(model);
  await saveVae(dir, trainer);
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  config.model.latentDim = 4;
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  await assert.rejects(
    loadVae(dir),
    /'encoder.mean.w' has shape \[16,3\], the model expects \[16,4\]/,
  );
});

test('evaluate averages the terms per image and trainers reject bad settings', async () => {
  await runtime.init({ seed: 0, report: false });
  const model = new VAE({ ...small, kind: 'autoencoder' });
  const set = images(50);
  const m = await evaluate(model, set, 20);
  const direct =
    (model.elboTerms(set.imagesTensor()).reconstruction.dataSync() as Float32Array).reduce(
      (a, b) => a + b,
      0,
    ) / 50;
  assert.ok(Math.abs(m.reconstruction - direct) < 1e-3 * direct);
  assert.equal(m.kl, 0);
  assert.throws(
    () => new VaeTrainer(model, { learningRate: 0 }),
    /VaeTrainer: learningRate must be a finite number > 0, got 0/,
  );
  assert.throws(
    () => new VaeTrainer(model, { learningrate: 0.1 } as never),
    /unknown option 'learningrate' \(did you mean 'learningRate'\?\)/,
  );
  assert.throws(
    () => new VaeTrainer(model, { batchSize: 0 }),
    /batchSize must be a positive integer, got 0/,
  );
  await assert.rejects(
    new VaeTrainer(model).fit(set, { epochs: 0 }),
    /epochs must be a positive integer, got 0/,
  );
  await assert.rejects(
    new VaeTrainer(model).fit(set, { epochs: 1, tests: set } as never),
    /VaeTrainer.fit: unknown option 'tests' \(did you mean 'test'\?\)/,
  );
  await assert.rejects(
    () => evaluate(model, set, -1),
    /batchSize must be a positive integer, got -1/,
  );
  assert.throws(() => training.modelDir('../etc'), /must be letters, digits/);
});

test(
  'trainOrLoad trains and saves, then reloads, continues a shorter run, and retrains a ' +
    'changed configuration',
  async () => {
    await runtime.init({ seed: 0, report: false });
    const dir = path.join(tempDir(), 'model');
    const set = images(64);
    const base = { dir, model: small, train: set, batchSize: 32, progress: false };
    const first = await models.vae.trainOrLoad({ ...base, epochs: 1 });
    assert.equal(first.loaded, false);
    assert.ok(training.hasCheckpoint(dir));
    const x = set.imagesTensor();
    const again = await models.vae.trainOrLoad({ ...base, epochs: 1 });
    assert.equal(again.loaded, true);
    assert.deepEqual(
      again.model.reconstruct(x).arraySync(),
      first.model.reconstruct(x).arraySync(),
    );
    const history = new training.History();
    const longer = await models.vae.trainOrLoad({ ...base, epochs: 3, history });
    assert.equal(longer.trainer.epochsDone, 3);
    assert.deepEqual(history.column('epoch'), [1, 2, 3]);
    await models.vae.trainOrLoad({ ...base, epochs: 3, history });
    assert.deepEqual(history.column('epoch'), [1, 2, 3], 'the same history again: no rows twice');
    const saved = await loadVae(dir);
    assert.equal(saved.trainer.epochsDone, 3);
    assert.deepEqual(
      saved.history.map((r) => r.epoch),
      [1, 2, 3],
    );
    const changed = await models.vae.trainOrLoad({
      ...base,
      model: { ...small, latentDim: 4 },
      epochs: 1,
    });
    assert.equal(changed.loaded, false);
    assert.equal((await loadVae(dir)).model.config.latentDim, 4);
  },
);

test(
  'a decoder started at the pixel log-odds of the data begins at the independent-pixel model, ' +
    'far below the default start',
  async () => {
    await runtime.init({ seed: 0, report: false });
    const set = images(1000);
    const bias = models.vae.outputBiasFromData(set);
    // -log p(x) under prod_i Bernoulli(x_i; sigmoid(bias_i)), averaged over the images.
    const independent = tf.tidy(
      () =>
        tf
          .mean(
            tf.neg(
              new distributions.Independent(
                new distributions.Bernoulli({ logits: bias }),
                1,
              ).logProb(set.imagesTensor()),
            ),
          )
          .dataSync()[0],
    );
    const started = new VAE(LECTURE, { outputBias: bias });
    const plain = new VAE(LECTURE);
    const fromData = (await evaluate(started, set)).reconstruction;
    const fromDefault = (await evaluate(plain, set)).reconstruction;
    assert.ok(
      Math.abs(fromData - independent) < 0.05 * independent,
      `data-started reconstruction ${fromData} vs independent-pixel NLL ${independent}`,
    );
    assert.ok(
      fromDefault > 1.5 * independent,
      `default-start reconstruction ${fromDefault} vs independent-pixel NLL ${independent}`,
    );
    bias.dispose();
    started.dispose();
    plain.dispose();
  },
);

test(
  'trainOrLoad starts a new model from the pixel log-odds of its training data unless ' +
    'told not to',
  async () => {
    await runtime.init({ seed: 0, report: false });
    const set = images(64);
    const expected = models.vae.outputBiasFromData(set);
    // A learning rate of 1e-9 leaves the bias where it started, to within 2 steps * 1e-9.
    const base = {
      model: small,
      train: set,
      batchSize: 32,
      learningRate: 1e-9,
      epochs: 1,
      progress: false,
    };
    const outputBias = (m: models.vae.VAE) => m.namedVariables()['decoder.1.b'];
    const started = await models.vae.trainOrLoad(base);
    assert.ok(
      tf.tidy(() => tf.max(tf.abs(tf.sub(outputBias(started.model), expected))).dataSync()[0]) <
        1e-6,
    );
    const plain = await models.vae.trainOrLoad({ ...base, outputBiasFromData: false });
    // PyTorch's default: U(-1/sqrt(16), 1/sqrt(16)) for the 16-unit hidden layer.
    assert.ok(tf.tidy(() => tf.max(tf.abs(outputBias(plain.model))).dataSync()[0]) <= 0.25);
    expected.dispose();
    // The start is part of a saved model's configuration: a model saved with the other start is
    // retrained.
    const dir = path.join(tempDir(), 'model');
    assert.equal(
      (await models.vae.trainOrLoad({ ...base, dir, outputBiasFromData: false })).loaded,
      false,
    );
    assert.equal((await loadVae(dir)).outputBiasFromData, false);
    assert.equal((await models.vae.trainOrLoad({ ...base, dir })).loaded, false);
    assert.equal((await loadVae(dir)).outputBiasFromData, true);
    assert.equal((await models.vae.trainOrLoad({ ...base, dir })).loaded, true);
  },
);

test('a VAE refuses an output bias of the wrong shape or with non-finite values', () => {
  assert.throws(
    () => new VAE(small, { outputBias: tf.zeros([10]) as tf.Tensor1D }),
    /outputBias must be a vector of 784 logits \(one per pixel\), got shape \[10\]/,
  );
  assert.throws(
    () => new VAE(small, { outputBias: tf.fill([784], NaN) as tf.Tensor1D }),
    /outputBias holds NaN or infinite values/,
  );
});

test(
  'loading a saved VAE draws no random numbers: a stale save that gets retrained gives a ' +
    "fresh run's numbers",
  async () => {
    await runtime.init({ seed: 0, report: false });
    const dir = path.join(tempDir(), 'model');
    const set = images(64);
    const base = { dir, model: small, train: set, batchSize: 32, epochs: 1, progress: false };
    await models.vae.trainOrLoad({ ...base, learningRate: 2e-3 });
    runtime.seed(7);
    const expected = [runtime.random(), runtime.random()];
    runtime.seed(7);
    (await loadVae(dir)).model.dispose();
    assert.deepEqual([runtime.random(), runtime.random()], expected);
    // The save above has another learning rate, so it is stale: the retrained model equals one
    // trained from scratch.
    runtime.seed(3);
    const retrained = await models.vae.trainOrLoad(base);
    runtime.seed(3);
    const fresh = await models.vae.trainOrLoad({ ...base, dir: undefined });
    assert.equal(retrained.loaded, false);
    const x = set.take(8).imagesTensor();
    assert.deepEqual(
      retrained.model.reconstruct(x).arraySync(),
      fresh.model.reconstruct(x).arraySync(),
    );
  },
);

test('a damaged or foreign saved VAE is refused naming the file; a misspelled option trains nothing', async () => {
  await runtime.init({ seed: 0, report: false });
  const dir = path.join(tempDir(), 'model');
  const trainer = new VaeTrainer(new VAE(small));
  await saveVae(dir, trainer);
  const configFile = path.join(dir, 'config.json');
  const saved = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  const refusal = (config: unknown, problem: RegExp) => {
    fs.writeFileSync(configFile, JSON.stringify(config));
    return assert.rejects(loadVae(dir), (e: Error) => {
      assert.ok(e instanceof training.CheckpointError, e.message);
      assert.ok(e.message.startsWith(`${configFile}: `), e.message);
      assert.match(e.message, problem);
      return true;
    });
  };
  await refusal({}, /saved VAE: model must be an object, got undefined/);
  await refusal({ kind: 'rbm', recipe: {} }, /holds a saved 'rbm', not a 'vae'/);
  await refusal({ ...saved, model: { ...saved.model, latent: 2 } }, /unknown option 'latent'/);
  await refusal({ ...saved, batchSize: -1 }, /batchSize must be a positive integer, got -1/);
  fs.writeFileSync(
    configFile,
    JSON.stringify({ ...saved, optimizerWeights: ['optimizer/0', 'optimizer/99'] }),
  );
  await assert.rejects(
    loadVae(dir),
    (e: Error) =>
      e.message ===
      `${dir}: config.json names optimizer tensors that weights.bin lacks: ` + 'optimizer/99',
  );
  fs.writeFileSync(configFile, JSON.stringify(saved));
  assert.equal((await loadVae(dir)).trainer.epochsDone, 0);
  await assert.rejects(
    models.vae.trainOrLoad({
      dir,
      model: small,
      train: images(32),
      epochs: 1,
      bachSize: 8,
    } as never),
    /trainOrLoad: unknown option 'bachSize' \(did you mean 'batchSize'\?\)/,
  );
  trainer.dispose();
});

/** The values of every variable of a model, by name. */
function weights(model: models.vae.VAE): Record<string, number[]> {
  return Object.fromEntries(
    Object.entries(model.namedVariables()).map(([k, v]) => [k, Array.from(v.dataSync())]),
  );
}

test(
  'an interrupt stops fit after the batch in progress, with the model as that batch left it and ' +
    'nothing leaked; fit again finishes the epoch exactly as if nothing had happened',
  async () => {
    const set = images(32 * 8); // 8 batches per epoch
    /** fit 2 epochs (interrupted after batch `cut`, if given), then fit `more` epochs. */
    const run = async (more: number, cut?: number) => {
      await runtime.init({ seed: 3, report: false });
      const model = new VAE(small);
      const trainer = new VaeTrainer(model, { batchSize: 32 });
      const history = new training.History();
      const stop = interruptAfter(cut ?? Infinity);
      let atCut: Record<string, number[]> | undefined;
      const step = trainer.step.bind(trainer);
      trainer.step = (x, labels) => {
        const result = step(x, labels);
        if (stop.calls() + 1 === cut) atCut = weights(model);
        stop.hook();
        return result;
      };
      const first = await captureLines(() =>
        trainer.fit(set, { epochs: 2, history, progress: false }),
      );
      const stopped = {
        interrupted: first.value.interrupted,
        lines: first.lines,
        batches: stop.calls(),
        sameAsAtCut: atCut && JSON.stringify(weights(model)) === JSON.stringify(atCut),
        unfinished: trainer.unfinishedEpoch,
        epochsDone: trainer.epochsDone,
        tensors: tf.memory().numTensors,
      };
      runtime.loopRegistry().reset();
      await trainer.fit(set, { epochs: more, history, progress: false });
      const final = {
        weights: weights(model),
        losses: history.rows.map(({ epoch, 'train loss': loss }) => [epoch, loss]),
        epochsDone: trainer.epochsDone,
        tensors: tf.memory().numTensors,
      };
      trainer.dispose();
      model.dispose();
      return { stopped, final };
    };
    const whole = await run(1);
    const cut = await run(2, 11);
    assert.equal(whole.stopped.interrupted, false);
    assert.equal(cut.stopped.interrupted, true);
    assert.equal(cut.stopped.batches, 11, 'no batch runs after the interrupt');
    assert.equal(cut.stopped.sameAsAtCut, true, 'the model is as batch 11 left it');
    assert.deepEqual(cut.stopped.unfinished, { epoch: 2, batches: 3 });
    assert.equal(cut.stopped.epochsDone, 1);
    assert.deepEqual(cut.stopped.lines, [
      'VAE training: stopped at epoch 2, batch 3/8 (interrupted); the model keeps its last ' +
        'completed batch; calling fit again continues from there',
    ]);
    // The second fit finishes epoch 2 (the first of its 2 epochs) and runs epoch 3.
    assert.equal(cut.final.epochsDone, 3);
    assert.deepEqual(cut.final.losses, whole.final.losses);
    assert.deepEqual(cut.final.weights, whole.final.weights);
    assert.equal(cut.final.tensors, cut.stopped.tensors, 'nothing held or leaked across the stop');
  },
);

test('evaluate and IWAE stop at a batch when interrupted, averaging the images done', async () => {
  await runtime.init({ seed: 4, report: false });
  const model = new VAE(small);
  const set = images(100);
  const full = await evaluate(model, set, 10);
  runtime.loopRegistry().interrupt();
  const { value: none, lines } = await captureLines(() => evaluate(model, set, 10));
  const iwae = await models.vae.importanceWeightedLogLikelihoodOf(model, set, {
    samples: 2,
    progress: false,
  });
  runtime.loopRegistry().reset();
  assert.equal(full.images, 100);
  assert.equal(full.interrupted, false);
  assert.equal(none.interrupted, true);
  assert.equal(none.images, 0);
  assert.deepEqual(lines, [
    'VAE evaluation: stopped at batch 0/10 (interrupted); the averages cover the first 0 of 100 ' +
      'images',
  ]);
  assert.equal(iwae.interrupted, true);
  assert.equal(iwae.perImage.length, 0);
  model.dispose();
});

test('a lecture-scale VAE epoch with its test evaluation never blocks the event loop for 1 s', async () => {
  await runtime.init({ seed: 9, report: false });
  const model = new VAE(LECTURE);
  const trainer = new VaeTrainer(model);
  const step = timed(trainer.step.bind(trainer));
  trainer.step = step.fn;
  const blocked = await longestEventLoopBlock(() =>
    trainer.fit(images(12800), {
      epochs: 1,
      progress: false,
      test: data.loadMnist('test', { limit: 5000 }),
    }),
  );
  // About 7 ms a step on an idle machine; the loop lets the event loop run every 50 ms.
  assert.ok(
    blocked < blockingBound(step.slowest()),
    `the event loop waited ${blocked.toFixed(0)} ms; the slowest step took ` +
      `${step.slowest().toFixed(0)} ms`,
  );
  trainer.dispose();
  model.dispose();
});
