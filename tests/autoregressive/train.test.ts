import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { data, models, runtime, tf, training } from 'genlab';
import { captureLines, interruptAfter } from '../runtime/loop-helpers';

const { MADE, MadeTrainer, logLikelihoodOf, saveMade, loadMade, trainOrLoadMade } =
  models.autoregressive;

/** n binary vectors drawn from `teacher`, as a data set of 1 x D images. */
function samplesOf(teacher: models.autoregressive.MADE, n: number): data.ImageDataset {
  const x = teacher.sample(n);
  const images = Float32Array.from(x.dataSync());
  x.dispose();
  return new data.ImageDataset(images, new Uint8Array(n), 1, teacher.inputDim, 'samples');
}

function allStates(d: number): tf.Tensor2D {
  const values = new Float32Array(2 ** d * d);
  for (let s = 0; s < 2 ** d; s++) for (let i = 0; i < d; i++) values[s * d + i] = (s >> i) & 1;
  return tf.tensor2d(values, [2 ** d, d]);
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-made-'));
}

function weightsOf(model: models.autoregressive.MADE): number[][] {
  return model.variables().map((v) => Array.from(v.dataSync()));
}

/** trainOrLoadMade options: a tiny MADE on 200 binarized images (4 batches), in a new folder. */
function smallMadeRun(epochs: number) {
  return {
    dir: path.join(tempDir(), 'made'),
    model: { inputDim: 784, hidden: [8] },
    train: data.loadBinarizedMnist('train', { limit: 200 }),
    epochs,
    batchSize: 50,
    progress: false,
  };
}

test(
  'maximum likelihood on samples of a teacher MADE: the student ends within 0.03 nats of the ' +
    'teacher in KL, by exact enumeration',
  async () => {
    await runtime.init({ seed: 0, report: false });
    const teacher = new MADE({ inputDim: 5, hidden: [12], ordering: 'random' });
    for (const v of teacher.variables())
      v.assign(tf.tidy(() => tf.mul(tf.randomNormal(v.shape), 1.5)));
    const train = samplesOf(teacher, 4000);
    const student = new MADE({ inputDim: 5, hidden: [24], masks: 2, ordering: 'random' });
    const trainer = new MadeTrainer(student, { learningRate: 1e-2, batchSize: 100 });
    const history = new training.History();
    const first = await trainer.fit(train, { epochs: 1, progress: false, history });
    const last = await trainer.fit(train, { epochs: 40, progress: false, history });
    assert.equal(trainer.epochsDone, 41);
    assert.equal(history.rows.length, 41);
    assert.ok(last.train < first.train, `${first.train} -> ${last.train}`);
    // KL(teacher || student) = sum_x p(x) (log p(x) - log q(x)) over all 32 states
    const states = allStates(5);
    const kl = tf.tidy(() => {
      const logP = teacher.logProb(states);
      return tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, student.logProb(states)))).dataSync()[0];
    });
    const entropy = tf.tidy(() => {
      const logP = teacher.logProb(states);
      return -tf.sum(tf.mul(tf.exp(logP), logP)).dataSync()[0];
    });
    assert.ok(kl >= 0 && kl < 0.03, `KL ${kl} (entropy of the teacher ${entropy})`);
    // The exact log-likelihood of a data set is the mean of logProb over its vectors.
    const ll = logLikelihoodOf(student, train, { batchSize: 300 });
    const x = train.imagesTensor();
    const direct = Array.from(tf.tidy(() => student.logProb(x).dataSync()));
    assert.equal(ll.perImage.length, 4000);
    assert.deepEqual(Array.from(ll.perImage), direct);
    const mean = direct.reduce((s, v) => s + v, 0) / direct.length;
    assert.ok(Math.abs(ll.mean - mean) < 1e-4);
    const sd = Math.sqrt(direct.reduce((s, v) => s + (v - mean) ** 2, 0) / (direct.length - 1));
    assert.ok(Math.abs(ll.standardError - sd / Math.sqrt(4000)) < 1e-6);
    tf.dispose([states, x]);
    [teacher, student].forEach((m) => m.dispose());
    trainer.dispose();
  },
);

test(
  'save and load: the loaded model gives the same log-probabilities and continues training ' +
    'exactly as an uninterrupted run',
  async () => {
    const train = data.loadBinarizedMnist('test', { limit: 300 });
    const config = { inputDim: 784, hidden: [16], masks: 2, directConnections: true };
    await runtime.init({ seed: 4, report: false });
    const straight = new MADE(config);
    const straightTrainer = new MadeTrainer(straight, { batchSize: 50 });
    await straightTrainer.fit(train, { epochs: 2, progress: false });

    await runtime.init({ seed: 4, report: false });
    const first = new MADE(config);
    const firstTrainer = new MadeTrainer(first, { batchSize: 50 });
    await firstTrainer.fit(train, { epochs: 1, progress: false });
    const dir = path.join(tempDir(), 'made');
    const recipe = {
      model: models.autoregressive.madeConfig(config),
      learningRate: 1e-3,
      batchSize: 50,
      binarize: 'none' as const,
      train: data.fingerprint(train),
      outputBiasFromData: false,
    };
    await saveMade(dir, firstTrainer, recipe);
    const loaded = await loadMade(dir);
    assert.deepEqual(loaded.recipe, recipe);
    assert.deepEqual(loaded.model.degrees, first.degrees);
    assert.deepEqual(weightsOf(loaded.model), weightsOf(first));
    const x = train.take(20).imagesTensor();
    const [a, b] = [first.logProb(x), loaded.model.logProb(x)];
    assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
    assert.equal(loaded.trainer.epochsDone, 1);
    await loaded.trainer.fit(train, { epochs: 1, progress: false });
    assert.deepEqual(weightsOf(loaded.model), weightsOf(straight));
    tf.dispose([x, a, b]);
    [straight, first, loaded.model].forEach((m) => m.dispose());
    [straightTrainer, firstTrainer, loaded.trainer].forEach((t) => t.dispose());
  },
);

test(
  'trainOrLoadMade trains once, then loads the same recipe, continues for more epochs, ' +
    'retrains another recipe, and stops at a corrupt file',
  async () => {
    await runtime.init({ seed: 0, report: false });
    const options = smallMadeRun(1);
    const dir = options.dir;
    const log = console.log;
    const said: string[] = [];
    console.log = (...args: unknown[]) => said.push(args.join(' '));
    try {
      const fresh = await trainOrLoadMade(options);
      assert.equal(fresh.loaded, false);
      const again = await trainOrLoadMade(options);
      assert.equal(again.loaded, true);
      assert.deepEqual(weightsOf(again.model), weightsOf(fresh.model));
      const history = new training.History();
      const more = await trainOrLoadMade({ ...options, epochs: 2, history });
      assert.equal(more.loaded, true);
      assert.equal(more.trainer.epochsDone, 2);
      assert.deepEqual(history.column('epoch'), [1, 2]);
      assert.match(said.join('\n'), /1 epochs; training 1 more/);
      const third = await trainOrLoadMade({ ...options, epochs: 3, history });
      assert.deepEqual(history.column('epoch'), [1, 2, 3], 'the same history again: no rows twice');
      assert.deepEqual(
        (await loadMade(dir)).history.map((r) => r.epoch),
        [1, 2, 3],
      );
      const other = await trainOrLoadMade({ ...options, learningRate: 3e-3 });
      assert.equal(other.loaded, false);
      assert.match(said.join('\n'), /holds a MADE trained otherwise/);
      for (const r of [fresh, again, more, third, other]) {
        r.model.dispose();
        r.trainer.dispose();
      }
    } finally {
      console.log = log;
    }
    const weights = path.join(dir, 'weights.bin');
    const bytes = fs.readFileSync(weights);
    bytes[10] ^= 0xff;
    fs.writeFileSync(weights, bytes);
    await assert.rejects(
      trainOrLoadMade(options),
      /weights.bin: is corrupted \(checksum mismatch\)/,
    );
  },
);

test('bad training inputs fail at once with a message naming the problem', async () => {
  await runtime.init({ seed: 0, report: false });
  const made = new MADE({ inputDim: 784, hidden: [4] });
  const grey = data.loadMnist('test', { limit: 100 });
  const binary = data.loadBinarizedMnist('test', { limit: 100 });
  assert.throws(
    () => new MadeTrainer(made, { learningRate: -1 }),
    /MadeTrainer: learningRate must be a finite number > 0, got -1/,
  );
  assert.throws(
    () => new MadeTrainer(made, { lr: 0.1 } as never),
    /MadeTrainer: unknown option 'lr'; the options are learningRate, batchSize/,
  );
  assert.throws(() => new MadeTrainer(made, { batchSize: 0 }), /batchSize must be a positive/);
  const trainer = new MadeTrainer(made);
  await assert.rejects(
    trainer.fit(grey, { epochs: 1, progress: false }),
    /pixel \d+ is 0\.\d+, but MADE models binary vectors; binarize first/,
  );
  await assert.rejects(
    trainer.fit(binary, { epochs: 1, progress: false, binarize: 'dynamc' as 'dynamic' }),
    /binarize must be one of 'none', 'dynamic', got 'dynamc'/,
  );
  await assert.rejects(trainer.fit(binary, { epochs: 0 }), /epochs must be a positive integer/);
  await assert.rejects(
    trainer.fit(binary, { epochs: 1, binarise: 'dynamic' } as never),
    /MadeTrainer.fit: unknown option 'binarise' \(did you mean 'binarize'\?\)/,
  );
  await assert.rejects(
    trainer.fit(binary, { epochs: 1, progress: false, test: grey }),
    /fit\(test\): pixel/,
  );
  const small = new data.ImageDataset(new Float32Array(2 * 16), new Uint8Array(2), 4, 4);
  await assert.rejects(
    trainer.fit(small, { epochs: 1 }),
    /images have 16 pixels, the model has 784/,
  );
  assert.throws(() => logLikelihoodOf(made, binary, { batchSize: 0 }), /batchSize must be a/);
  const wrong = tf.zeros([2, 783]) as tf.Tensor2D;
  assert.throws(() => trainer.step(wrong), /\[n, 784\], got \[2, 783\]/);
  wrong.dispose();
  // Dynamic binarization trains on grey levels.
  const result = await trainer.fit(grey, { epochs: 1, progress: false, binarize: 'dynamic' });
  assert.ok(Number.isFinite(result.train));
  made.dispose();
  trainer.dispose();
});

test('training, evaluation, saving and loading leak no tensors', async () => {
  await runtime.init({ seed: 0, report: false });
  const train = data.loadBinarizedMnist('test', { limit: 200 });
  const made = new MADE({ inputDim: 784, hidden: [8], masks: 2, directConnections: true });
  const trainer = new MadeTrainer(made, { batchSize: 50 });
  const dir = path.join(tempDir(), 'made');
  const recipe = {
    model: made.config,
    learningRate: 1e-3,
    batchSize: 50,
    binarize: 'none' as const,
    train: data.fingerprint(train),
    outputBiasFromData: false,
  };
  await trainer.fit(train, { epochs: 1, progress: false, test: train });
  await saveMade(dir, trainer, recipe);
  const before = tf.memory().numTensors;
  await trainer.fit(train, { epochs: 1, progress: false, test: train });
  await saveMade(dir, trainer, recipe);
  logLikelihoodOf(made, train);
  const loaded = await loadMade(dir);
  loaded.model.dispose();
  loaded.trainer.dispose();
  assert.equal(tf.memory().numTensors, before);
  made.dispose();
  trainer.dispose();
});

test(
  'an interrupted trainOrLoadMade stops after the batch in progress with one line, keeps that ' +
    'batch in the model, saves only completed epochs, leaks nothing, and continues when run again',
  async () => {
    await runtime.init({ seed: 2, report: false });
    const options = smallMadeRun(3);
    const dir = options.dir;
    const tensors = tf.memory().numTensors;
    // 4 batches per epoch: the interrupt arrives after the 2nd batch of epoch 2.
    const stop = interruptAfter(6);
    let afterSixth: number[][] = [];
    const step = MadeTrainer.prototype.step;
    MadeTrainer.prototype.step = function (this: InstanceType<typeof MadeTrainer>, x) {
      const nll = step.call(this, x);
      stop.hook();
      if (stop.calls() === 6) afterSixth = weightsOf(this.model);
      return nll;
    };
    let stopped: Awaited<ReturnType<typeof trainOrLoadMade>>;
    let lines: string[];
    try {
      ({ value: stopped, lines } = await captureLines(() => trainOrLoadMade(options)));
    } finally {
      MadeTrainer.prototype.step = step;
      runtime.loopRegistry().reset();
    }
    assert.equal(stopped.interrupted, true);
    assert.equal(stop.calls(), 6, 'no batch after the interrupt');
    assert.deepEqual(weightsOf(stopped.model), afterSixth);
    assert.equal(stopped.trainer.epochsDone, 1);
    assert.deepEqual(lines, [
      'MADE training: stopped at epoch 2, batch 2/4 (interrupted); the model keeps its last ' +
        'completed batch (the epoch is not counted as done); completed epochs are saved in ' +
        `${dir}, and running the cell again continues from the last one`,
    ]);
    stopped.model.dispose();
    stopped.trainer.dispose();
    assert.equal(tf.memory().numTensors, tensors, 'no tensor leaks');
    const history = new training.History();
    const { value: resumed } = await captureLines(() => trainOrLoadMade({ ...options, history }));
    assert.equal(resumed.loaded, true);
    assert.equal(resumed.interrupted, false);
    assert.equal(resumed.trainer.epochsDone, 3);
    assert.deepEqual(history.column('epoch'), [1, 2, 3]);
    resumed.model.dispose();
    resumed.trainer.dispose();
  },
);
