import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { data, metrics, models, runtime, tf, training } from 'genlab';
import { captureLines, interruptAfter } from '../runtime/loop-helpers';

const testSet = data.loadBinarizedMnist('test', { limit: 40 });

/** An entry whose model gives every image log p = -(number of inked pixels) * `rate`. */
function pixelCountEntry(rate: number, calls: number[]): metrics.LeaderboardEntry {
  return {
    model: `toy ${rate}`,
    estimator: 'exact',
    kind: 'exact',
    literature: [{ logLikelihood: -100, source: 'nobody' }],
    score: async (images) => {
      calls.push(rate);
      const values = metrics.logLikelihoodOfImages(
        images,
        (x) => tf.tidy(() => tf.mul(tf.sum(x, 1), -rate) as tf.Tensor1D),
        7,
      );
      return metrics.scoreOf(images, values);
    },
  };
}

test('per-image log-likelihoods: mean, standard error over images, batches in order', () => {
  const values = metrics.logLikelihoodOfImages(
    testSet,
    (x) => tf.sum(x, 1).neg() as tf.Tensor1D,
    7,
  );
  const counts = Array.from({ length: 40 }, (_, i) =>
    testSet.images.subarray(i * 784, (i + 1) * 784).reduce((s, v) => s - v, 0),
  );
  assert.deepEqual(Array.from(values.perImage), counts);
  const mean = counts.reduce((s, v) => s + v, 0) / 40;
  const sd = Math.sqrt(counts.reduce((s, v) => s + (v - mean) ** 2, 0) / 39);
  assert.ok(Math.abs(values.mean - mean) < 1e-9);
  assert.ok(Math.abs(values.standardError - sd / Math.sqrt(40)) < 1e-9);
  assert.throws(
    () => metrics.summarizePerImage(Float32Array.of(1, NaN, 2)),
    /NaN or infinite entries/,
  );
  assert.throws(() => metrics.summarizePerImage(Float32Array.of(1)), /at least 2 values, got 1/);
  assert.throws(
    () => metrics.logLikelihoodOfImages(testSet, (x) => tf.sum(x, 1) as tf.Tensor1D, 0),
    /batchSize must be a positive integer, got 0/,
  );
});

test('computeLeaderboard scores every entry in order on the same images, literature rows too', async () => {
  const calls: number[] = [];
  const entries = [
    pixelCountEntry(1, calls),
    { model: 'not yet', estimator: 'AIS', kind: 'estimate' as const, literature: [] },
    pixelCountEntry(0.5, calls),
  ];
  runtime.seed(3);
  const expected = [runtime.random(), runtime.random()];
  runtime.seed(3);
  runtime.random();
  const drawing = {
    ...entries[1],
    score: async (images: data.ImageDataset) => {
      runtime.seed(9); // an entry that reseeds, as the kit's do
      return entries[0].score!(images);
    },
  };
  const rows = await metrics.computeLeaderboard([...entries, drawing], testSet);
  assert.equal(runtime.random(), expected[1], "the caller's random stream is left as it was");
  calls.pop();
  rows.pop();
  assert.deepEqual(calls, [1, 0.5]);
  assert.equal(rows[1].score, undefined);
  assert.ok(Math.abs(rows[2].score!.logLikelihood - rows[0].score!.logLikelihood / 2) < 1e-9);
  assert.equal(rows[0].score!.testFingerprint, data.fingerprint(testSet));
  const table = metrics.leaderboardTable(rows);
  assert.equal(table.length, 3);
  assert.equal(table[1]['error covers'], 'not trained by the kit yet');
  assert.equal(table[0].literature, '−100.00 (nobody)');
  const markdown = metrics.leaderboardMarkdown(rows);
  assert.equal(markdown.trim().split('\n').length, 5);
  assert.match(markdown, /\| toy 0\.5 \| exact \| exact \| \*\*−\d+\.\d\d\*\* ± \d+\.\d\d \|/);

  const elsewhere: metrics.LeaderboardEntry = {
    ...pixelCountEntry(1, calls),
    score: async () =>
      metrics.scoreOf(testSet.take(39), metrics.summarizePerImage(new Float32Array(39).fill(-1))),
  };
  await assert.rejects(
    metrics.computeLeaderboard([elsewhere], testSet),
    /'toy 1' was scored on other images/,
  );
  await assert.rejects(
    metrics.computeLeaderboard([{ ...entries[1], kind: 'upper bound' as 'exact' }], testSet),
    /kind must be one of exact, lower bound, estimate, got 'upper bound'/,
  );
  await assert.rejects(
    metrics.computeLeaderboard(
      [{ ...entries[1], literature: [{ logLikelihood: 88, source: 'sign error' }] }],
      testSet,
    ),
    /a literature log-likelihood must be a finite number <= 0.*got 88/,
  );
  assert.throws(
    () => metrics.scoreOf(testSet, metrics.summarizePerImage(Float32Array.of(1, 2))),
    /2 values for 40 test images/,
  );
});

test('cachedScore computes once per checkpoint, estimator and test set', async () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-scores-')), 'model');
  const weights = { w: tf.tensor1d([1, 2, 3]) };
  training.saveCheckpoint(dir, { what: 'toy' }, weights);
  let computed = 0;
  const compute = () => {
    computed++;
    return metrics.scoreOf(
      testSet,
      metrics.summarizePerImage(new Float32Array(40).fill(-computed)),
    );
  };
  const first = await metrics.cachedScore(dir, { estimator: 'x' }, testSet, compute);
  const again = await metrics.cachedScore(dir, { estimator: 'x' }, testSet, compute);
  assert.equal(computed, 1);
  assert.equal(again.logLikelihood, first.logLikelihood);
  assert.ok(again.evaluationSeconds! >= 0);
  await metrics.cachedScore(dir, { estimator: 'y' }, testSet, compute);
  assert.equal(computed, 2, 'another estimator is computed');
  const fewer = testSet.take(39);
  await metrics.cachedScore(dir, { estimator: 'x' }, fewer, () => {
    computed++;
    return metrics.scoreOf(fewer, metrics.summarizePerImage(new Float32Array(39).fill(-1)));
  });
  assert.equal(computed, 3, 'other test images are computed');
  weights.w.dispose();
  const retrained = { w: tf.tensor1d([1, 2, 4]) };
  training.saveCheckpoint(dir, { what: 'toy' }, retrained);
  const fresh = await metrics.cachedScore(dir, { estimator: 'x' }, testSet, compute);
  assert.equal(computed, 4, 'a model saved again is scored again');
  assert.ok(Math.abs(fresh.logLikelihood + 4) < 1e-9);
  fs.writeFileSync(path.join(dir, 'scores.json'), '{ not json');
  await metrics.cachedScore(dir, { estimator: 'x' }, testSet, compute);
  assert.equal(computed, 5, 'an unreadable cache is recomputed');
  await metrics.cachedScore(dir, { estimator: 'x' }, testSet, compute);
  assert.equal(computed, 5, 'and rewritten');
  retrained.w.dispose();
});

test('the kit rows: each family with the estimator it allows, literature beside', () => {
  const entries = metrics.mnistLeaderboard(metrics.QUICK_MNIST_LEADERBOARD_SIZES);
  const kinds = entries.map((e) => [e.model.split(/[ ,]/)[0], e.kind, e.score !== undefined]);
  assert.deepEqual(kinds, [
    ['mixture', 'exact', true],
    ['RBM', 'estimate', true],
    ['VAE', 'lower bound', true],
    ['VAE', 'lower bound', true],
    ['MADE', 'exact', true],
    ['PixelCNN', 'exact', true],
    ['deep', 'estimate', false],
  ]);
  assert.ok(entries.every((e) => e.literature.length > 0 || e.estimator.startsWith('ELBO')));
  assert.deepEqual(models.autoregressive.MNIST_MADE.model.hidden, [500]);
});

test(
  'an interrupt during an entry stops the leaderboard there: the rows before it are returned, ' +
    'the interrupted score is not cached, one line says so',
  async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-scores-')), 'model');
    const weights = { w: tf.tensor1d([1, 2, 3]) };
    training.saveCheckpoint(dir, { what: 'toy' }, weights);
    weights.w.dispose();
    const stop = interruptAfter(2);
    /** A score computed by a kit loop of 5 steps, cached under `dir`. */
    const slow: metrics.LeaderboardEntry = {
      ...pixelCountEntry(2, []),
      model: 'slow',
      score: (images) =>
        metrics.cachedScore(dir, { estimator: 'slow' }, images, () =>
          runtime.runLoop('slow scoring', async (loop) => {
            for (let step = 0; step < 5; step++) {
              if (await loop.shouldStop()) {
                loop.stop(`step ${step}/5`, 'nothing is kept');
                break;
              }
              stop.hook();
            }
            return metrics.scoreOf(
              images,
              metrics.summarizePerImage(new Float32Array(40).fill(-2)),
            );
          }),
        ),
    };
    const calls: number[] = [];
    const entries = [pixelCountEntry(1, calls), slow, pixelCountEntry(0.5, calls)];
    const { value: rows, lines } = await captureLines(() =>
      metrics.computeLeaderboard(entries, testSet),
    );
    runtime.loopRegistry().reset();
    assert.deepEqual(
      rows.map((r) => r.entry.model),
      ['toy 1'],
    );
    assert.deepEqual(calls, [1], 'the entries after the interrupted one do not run');
    assert.deepEqual(lines, [
      'slow scoring: stopped at step 2/5 (interrupted); nothing is kept; run the cell again to ' +
        'continue (the scores done are cached)',
    ]);
    assert.equal(fs.existsSync(path.join(dir, 'scores.json')), false, 'nothing cached');
    const again = await metrics.computeLeaderboard(entries, testSet);
    assert.equal(again.length, 3);
    assert.ok(fs.existsSync(path.join(dir, 'scores.json')), 'a completed score is cached');
  },
);

test('the leaderboard figure: scored rows with ± 2 s.e., every literature value beside its row', () => {
  const rows: metrics.LeaderboardRow[] = [
    {
      entry: {
        model: 'A',
        estimator: 'exact',
        kind: 'exact',
        literature: [
          { logLikelihood: -80, source: 'paper 1' },
          { logLikelihood: -82, source: 'paper 2' },
        ],
      },
      score: {
        logLikelihood: -90,
        standardError: 0.5,
        errorSource: 'over test images',
        testImages: 10,
        testFingerprint: 'f',
      },
    },
    {
      entry: {
        model: 'B',
        estimator: 'AIS',
        kind: 'estimate',
        literature: [{ logLikelihood: -85, source: 'paper 3' }],
      },
    },
  ];
  const [kit, literature] = metrics.leaderboardFigure(rows).data;
  assert.deepEqual(kit.y, ['A<br>exact']);
  assert.deepEqual(kit.x, [-90]);
  assert.deepEqual((kit.error_x as { array: number[] }).array, [1]);
  assert.deepEqual(literature.y, ['A<br>exact', 'A<br>exact', 'B<br>AIS']);
  assert.deepEqual(literature.x, [-80, -82, -85]);
  assert.deepEqual(literature.text, ['paper 1', 'paper 2', 'paper 3']);
});
