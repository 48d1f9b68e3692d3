import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { data, models, runtime, tf, training } from 'genlab';

const { PixelCNN, PixelCnnTrainer, logLikelihoodOf, savePixelCnn, loadPixelCnn } =
  models.autoregressive;
const { trainOrLoadPixelCnn, trainOrLoadMade } = models.autoregressive;

function allStates(d: number): tf.Tensor2D {
  const values = new Float32Array(2 ** d * d);
  for (let s = 0; s < 2 ** d; s++) for (let i = 0; i < d; i++) values[s * d + i] = (s >> i) & 1;
  return tf.tensor2d(values, [2 ** d, d]);
}

function weightsOf(model: models.autoregressive.PixelCNN): number[][] {
  return model.variables().map((v) => Array.from(v.dataSync()));
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-pixelcnn-'));
}

test(
  'maximum likelihood on samples of a teacher PixelCNN (2x2 images): the student ends within ' +
    '0.02 nats of the teacher in KL, by exact enumeration',
  async () => {
    await runtime.init({ seed: 0, report: false });
    const shape = { imageShape: [2, 2] as [number, number], firstKernel: 3 };
    const teacher = new PixelCNN({ ...shape, channels: 4, residualBlocks: 1 });
    for (const v of teacher.variables())
      v.assign(tf.tidy(() => tf.mul(tf.randomNormal(v.shape), 1.5)));
    const x = teacher.sample(4000);
    const train = new data.ImageDataset(x.dataSync() as Float32Array, new Uint8Array(4000), 2, 2);
    x.dispose();
    const student = new PixelCNN({ ...shape, channels: 8, residualBlocks: 1 });
    const trainer = new PixelCnnTrainer(student, { learningRate: 1e-2, batchSize: 100 });
    const history = new training.History();
    const first = await trainer.fit(train, { epochs: 1, progress: false, history });
    const last = await trainer.fit(train, { epochs: 30, progress: false, history });
    assert.equal(trainer.epochsDone, 31);
    assert.ok(last.train < first.train, `${first.train} -> ${last.train}`);
    // KL(teacher || student) = Σ_x p(x) (log p(x) - log q(x)) over all 16 images; the sample's
    // own error is about (16 - 1) / (2 * 4000) = 0.002 nats.
    const states = allStates(4);
    const kl = tf.tidy(() => {
      const logP = teacher.logProb(states);
      return tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, student.logProb(states)))).dataSync()[0];
    });
    assert.ok(kl >= 0 && kl < 0.02, `KL ${kl}`);
    // The exact log-likelihood of a data set is the mean of logProb over its images.
    const ll = logLikelihoodOf(student, train, { batchSize: 300 });
    const all = train.imagesTensor();
    const direct = Array.from(tf.tidy(() => student.logProb(all).dataSync()));
    assert.deepEqual(Array.from(ll.perImage), direct);
    tf.dispose([states, all]);
    [teacher, student].forEach((m) => m.dispose());
    trainer.dispose();
  },
);

test(
  'save and load: the loaded PixelCNN gives the same log-probabilities and continues training ' +
    'exactly as an uninterrupted run, leaking nothing',
  async () => {
    const train = data.loadBinarizedMnist('test', { limit: 100 });
    const config = { imageShape: [28, 28] as [number, number], channels: 4, residualBlocks: 1 };
    await runtime.init({ seed: 4, report: false });
    const straight = new PixelCNN(config);
    const straightTrainer = new PixelCnnTrainer(straight, { batchSize: 50 });
    await straightTrainer.fit(train, { epochs: 2, progress: false });

    await runtime.init({ seed: 4, report: false });
    const first = new PixelCNN(config);
    const firstTrainer = new PixelCnnTrainer(first, { batchSize: 50 });
    await firstTrainer.fit(train, { epochs: 1, progress: false });
    const dir = path.join(tempDir(), 'pixelcnn');
    const recipe = {
      model: models.autoregressive.pixelCnnConfig(config),
      learningRate: 1e-3,
      batchSize: 50,
      binarize: 'none' as const,
      train: data.fingerprint(train),
    };
    const tensors = tf.memory().numTensors;
    await savePixelCnn(dir, firstTrainer, recipe);
    const loaded = await loadPixelCnn(dir);
    assert.deepEqual(loaded.recipe, recipe);
    assert.deepEqual(weightsOf(loaded.model), weightsOf(first));
    const x = train.take(10).imagesTensor();
    const [a, b] = [first.logProb(x), loaded.model.logProb(x)];
    assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
    tf.dispose([x, a, b]);
    assert.equal(loaded.trainer.epochsDone, 1);
    await loaded.trainer.fit(train, { epochs: 1, progress: false });
    // Equal up to rounding: tfjs's Adam.setWeights recomputes beta^t by pow where a run multiplies
    // t times, which differ in the last bit of float32.
    const gap = weightsOf(loaded.model)
      .flat()
      .reduce((m, v, i) => Math.max(m, Math.abs(v - weightsOf(straight).flat()[i])), 0);
    assert.ok(gap < 1e-6, `largest weight difference from the uninterrupted run ${gap}`);
    loaded.model.dispose();
    loaded.trainer.dispose();
    assert.equal(tf.memory().numTensors, tensors, 'saving and loading leak no tensors');
    [straight, first].forEach((m) => m.dispose());
    [straightTrainer, firstTrainer].forEach((t) => t.dispose());
  },
);

test(
  'trainOrLoadPixelCnn trains once, then loads the same recipe, continues for more epochs, ' +
    'retrains another recipe, refuses a saved MADE and a corrupt file',
  async () => {
    await runtime.init({ seed: 0, report: false });
    const options = {
      dir: path.join(tempDir(), 'pixelcnn'),
      model: { imageShape: [28, 28] as [number, number], channels: 3, residualBlocks: 1 },
      train: data.loadBinarizedMnist('train', { limit: 100 }),
      epochs: 1,
      batchSize: 50,
      progress: false,
    };
    const log = console.log;
    const said: string[] = [];
    console.log = (...args: unknown[]) => said.push(args.join(' '));
    try {
      const fresh = await trainOrLoadPixelCnn(options);
      assert.equal(fresh.loaded, false);
      const history = new training.History();
      const more = await trainOrLoadPixelCnn({ ...options, epochs: 2, history });
      assert.equal(more.loaded, true);
      assert.equal(more.trainer.epochsDone, 2);
      assert.deepEqual(history.column('epoch'), [1, 2]);
      assert.match(said.join('\n'), /loaded the PixelCNN saved in .* \(1 epochs; training 1 more/);
      const other = await trainOrLoadPixelCnn({ ...options, learningRate: 3e-3 });
      assert.equal(other.loaded, false);
      assert.match(said.join('\n'), /holds a PixelCNN trained otherwise/);
      for (const r of [fresh, more, other]) {
        r.model.dispose();
        r.trainer.dispose();
      }
      const madeDir = path.join(tempDir(), 'made');
      const made = await trainOrLoadMade({
        dir: madeDir,
        model: { inputDim: 784, hidden: [4] },
        train: options.train,
        epochs: 1,
        progress: false,
      });
      made.model.dispose();
      made.trainer.dispose();
      await assert.rejects(
        trainOrLoadPixelCnn({ ...options, dir: madeDir }),
        /holds a saved 'made', not a 'pixelcnn'/,
      );
    } finally {
      console.log = log;
    }
    await assert.rejects(
      trainOrLoadPixelCnn({ ...options, modl: {} } as never),
      /trainOrLoadPixelCnn: unknown option 'modl' \(did you mean 'model'\?\)/,
    );
    await assert.rejects(
      trainOrLoadPixelCnn({ ...options, outputBiasFromData: true } as never),
      /trainOrLoadPixelCnn: unknown option 'outputBiasFromData'/,
    );
    const weights = path.join(options.dir, 'weights.bin');
    const bytes = fs.readFileSync(weights);
    bytes[10] ^= 0xff;
    fs.writeFileSync(weights, bytes);
    await assert.rejects(
      trainOrLoadPixelCnn(options),
      /weights.bin: is corrupted \(checksum mismatch\)/,
    );
  },
);

test('bad training inputs fail at once with a message naming the problem', async () => {
  await runtime.init({ seed: 0, report: false });
  const model = new PixelCNN({ imageShape: [28, 28], channels: 2, residualBlocks: 0 });
  const trainer = new PixelCnnTrainer(model);
  const grey = data.loadMnist('test', { limit: 20 });
  await assert.rejects(
    trainer.fit(grey, { epochs: 1, progress: false }),
    /PixelCnnTrainer.fit\(train\): pixel \d+ is 0\.\d+, but PixelCNN models binary vectors/,
  );
  await assert.rejects(
    trainer.fit(grey, { epochs: 1, binarise: 'dynamic' } as never),
    /PixelCnnTrainer.fit: unknown option 'binarise' \(did you mean 'binarize'\?\)/,
  );
  const small = new data.ImageDataset(new Float32Array(2 * 16), new Uint8Array(2), 4, 4);
  await assert.rejects(trainer.fit(small, { epochs: 1 }), /images have 16 pixels/);
  assert.throws(() => new PixelCnnTrainer(model, { lr: 1 } as never), /PixelCnnTrainer: unknown/);
  model.dispose();
  trainer.dispose();
});
