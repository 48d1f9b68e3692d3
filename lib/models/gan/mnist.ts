/**
 * The MNIST GAN experiment of notebook 10: train a GAN (MLP or DCGAN) for some epochs, and after
 * each epoch judge its samples with the kit's classifier (classes covered, class-histogram entropy,
 * MNIST-FID). A finished run is saved (weights, per-step history, per-epoch metrics, sample grids)
 * and reused when the same options are asked for again.
 */
import * as tf from '@tensorflow/tfjs';
import { ImageDataset, loadMnist } from '../../data/mnist';
import {
  classHistogram,
  featureStats,
  frechetDistance,
  GaussianStats,
  MnistClassifier,
} from '../../metrics';
import {
  checkArray,
  checkFinite,
  checkInteger,
  checkOptions,
  checkRecord,
  OptionKeys,
} from '../../runtime/checks';
import {
  assignVariables,
  CheckpointError,
  hasCheckpoint,
  History,
  HistoryRow,
  historyRowsFromJson,
  loadCheckpoint,
  modelDir,
  saveCheckpoint,
  savedConfig,
} from '../../training';
import { runLoop, withSeed } from '../../runtime';
import { GAN, ganDataDim, GanConfig, MNIST_GAN } from './gan';
import { GeneratorLossName } from './losses';
import { GanRun, GanSnapshot, GanTrainer, imageBatches, trainGan } from './trainer';

export interface MnistGanOptions {
  /** The networks (default MNIST_GAN, the lecture-scale MLPs; MNIST_DCGAN for the DCGAN). */
  config?: GanConfig;
  generatorLoss?: GeneratorLossName;
  epochs: number;
  /** Default 64. */
  batchSize?: number;
  /** Train on the first `trainLimit` training images only (default all 60,000). */
  trainLimit?: number;
  /** Adam learning rate of both networks (default 2e-4). */
  learningRate?: number;
  /**
   * Standard deviation of the instance noise added to D's inputs (default 0; see
   * GanTrainerOptions).
   */
  instanceNoise?: number;
  /** Generated (and real) images per metric evaluation (default 2000). */
  evalSize?: number;
  /** Save the finished run there, and reuse a run saved there with the same options. */
  dir?: string;
  /** If set, the sample grid of every epoch is also written there as a PNG while training runs. */
  gridDir?: string;
  /** Seed of the run's random draws (default 0; see trainMnistGan). */
  seed?: number;
}

export interface MnistGanRun {
  gan: GAN;
  /** One row per D+G step (see trainGan). */
  steps: History;
  /**
   * One row per epoch (epoch 0 = untrained): epoch, 'modes covered', 'entropy (nats)', 'MNIST-FID',
   * 'D loss', 'G loss'.
   */
  epochs: History;
  /** Samples at fixed z after each epoch (and before training). */
  grids: GanSnapshot[];
  /**
   * MNIST-FID between real test and real training images of the same count: the floor of the
   * metric.
   */
  floorFid: number;
  /** True when the run was loaded from `dir` rather than trained. */
  fromCheckpoint: boolean;
  /**
   * True when an interrupt stopped training (then `epochs` is empty) or judging (then `epochs`
   * holds the epochs judged); such a run is not saved.
   */
  interrupted: boolean;
}

interface SavedRun {
  kind: 'gan-mnist';
  options: Required<Omit<MnistGanOptions, 'dir' | 'gridDir'>>;
  steps: HistoryRow[];
  epochs: HistoryRow[];
  grids: { step: number; n: number }[];
  floorFid: number;
}

const GENERATION_CHUNK = 500;

/** How an interrupted run goes on, in its stop line. */
const NOT_SAVED = 'the run is not saved, and running the cell again starts it over';

/** Where notebook 10 keeps its full-mode MNIST GAN run: <repo>/build/models/gan-mnist. */
export const MNIST_GAN_DIR = modelDir('gan-mnist');

/** n generated images [n, 784], drawn in chunks. */
function generate(gan: GAN, n: number): tf.Tensor2D {
  const parts: tf.Tensor2D[] = [];
  for (let done = 0; done < n; done += GENERATION_CHUNK)
    parts.push(gan.sample(Math.min(GENERATION_CHUNK, n - done)));
  const all = tf.concat(parts) as tf.Tensor2D;
  tf.dispose(parts);
  return all;
}

/** Class histogram and MNIST-FID of n generated images against the real statistics. */
export function judgeGenerator(
  gan: GAN,
  classifier: MnistClassifier,
  realStats: GaussianStats,
  n: number,
): { modesCovered: number; entropy: number; fid: number; counts: number[] } {
  const x = generate(gan, n);
  try {
    const h = classHistogram(classifier, x);
    return {
      modesCovered: h.modesCovered,
      entropy: h.entropy,
      fid: frechetDistance(realStats, featureStats(classifier, x)),
      counts: h.counts,
    };
  } finally {
    x.dispose();
  }
}

function statsOf(classifier: MnistClassifier, data: ImageDataset): GaussianStats {
  const x = data.imagesTensor();
  try {
    return featureStats(classifier, x);
  } finally {
    x.dispose();
  }
}

const MNIST_GAN_KEYS: OptionKeys<MnistGanOptions> = {
  config: true,
  generatorLoss: true,
  epochs: true,
  batchSize: true,
  trainLimit: true,
  learningRate: true,
  instanceNoise: true,
  evalSize: true,
  dir: true,
  gridDir: true,
  seed: true,
};

function normalize(options: MnistGanOptions): SavedRun['options'] {
  checkOptions('trainMnistGan', options, MNIST_GAN_KEYS);
  const o = {
    config: MNIST_GAN,
    generatorLoss: 'nonSaturating' as GeneratorLossName,
    batchSize: 64,
    trainLimit: 60000,
    learningRate: 2e-4,
    instanceNoise: 0,
    evalSize: 2000,
    seed: 0,
    ...options,
  };
  if (!Number.isInteger(o.epochs) || o.epochs < 1)
    throw new Error(`trainMnistGan: epochs must be a positive integer, got ${o.epochs}`);
  if (!Number.isInteger(o.evalSize) || o.evalSize < 2)
    throw new Error(`trainMnistGan: evalSize must be an integer >= 2, got ${o.evalSize}`);
  checkInteger('trainMnistGan', 'seed', o.seed, 0);
  const dataDim = ganDataDim(o.config);
  if (dataDim !== 784) {
    const field =
      o.config.architecture === 'dcgan' ? 'the pixels of config.imageShape' : 'config.dataDim';
    throw new Error(`trainMnistGan: ${field} must be 784 for MNIST, got ${dataDim}`);
  }
  const { dir: _dir, gridDir: _gridDir, ...rest } = o;
  return rest;
}

/** Checks the config.json of a saved MNIST GAN run (its options are compared with those asked). */
function readSavedRun(raw: unknown): SavedRun {
  const who = 'saved MNIST GAN run';
  const c = savedConfig(raw, 'gan-mnist');
  if (c.kind === undefined) throw new Error(`${who}: kind must be 'gan-mnist'`);
  checkRecord(who, 'options', c.options);
  const isGrid = (g: unknown) =>
    typeof g === 'object' &&
    g !== null &&
    Number.isInteger((g as SavedRun['grids'][0]).step) &&
    Number.isInteger((g as SavedRun['grids'][0]).n);
  checkArray(who, 'grids', c.grids, isGrid, 'an object { step, n }');
  checkFinite(who, 'floorFid', c.floorFid);
  return {
    ...(c as unknown as SavedRun),
    steps: historyRowsFromJson(who, 'steps', c.steps),
    epochs: historyRowsFromJson(who, 'epochs', c.epochs),
  };
}

function loadRun(dir: string, options: SavedRun['options']): MnistGanRun | undefined {
  if (!hasCheckpoint(dir)) return undefined;
  const { config, tensors } = loadCheckpoint(dir, readSavedRun);
  if (JSON.stringify(config.options) !== JSON.stringify(options)) {
    tf.dispose(Object.values(tensors));
    return undefined;
  }
  const gan = new GAN(options.config);
  const names = [...Object.keys(gan.namedVariables()), ...config.grids.map((_, i) => `grid.${i}`)];
  const missing = names.filter((name) => !(name in tensors));
  if (missing.length > 0) {
    gan.dispose();
    tf.dispose(Object.values(tensors));
    throw new CheckpointError(dir, `weights.bin lacks the tensors ${missing.join(', ')}`);
  }
  const weights: Record<string, tf.Tensor> = {};
  for (const name of Object.keys(gan.namedVariables())) weights[name] = tensors[name];
  try {
    assignVariables(gan.namedVariables(), weights, dir);
  } catch (err) {
    gan.dispose();
    tf.dispose(Object.values(tensors));
    throw err;
  }
  const grids = config.grids.map((g, i) => ({
    ...g,
    samples: tensors[`grid.${i}`].dataSync() as Float32Array,
  }));
  tf.dispose(Object.values(tensors));
  const steps = new History();
  config.steps.forEach((r) => steps.push(r));
  const epochs = new History();
  config.epochs.forEach((r) => epochs.push(r));
  return {
    gan,
    steps,
    epochs,
    grids,
    floorFid: config.floorFid,
    fromCheckpoint: true,
    interrupted: false,
  };
}

/**
 * Trains (or reloads from `options.dir`) a GAN on MNIST (MNIST_GAN by default, or MNIST_DCGAN). The
 * generator's weights (with a DCGAN's batch-norm statistics) are kept at the end of every epoch;
 * after training, each of them is judged with the classifier (`evalSize` generated images against
 * as many real test images), so the classifier may be passed as a function that loads it late.
 * Building, training and judging draw their random numbers from `options.seed` (default 0), not
 * from the caller's stream, which they leave as it was: the run is the same whichever notebook
 * trains it, and the cells after it draw the same numbers whether it was trained or loaded. An
 * interrupt stops training (or judging) at the step in progress; the run returned is then marked
 * interrupted and is not saved.
 */
export async function trainMnistGan(
  classifier: MnistClassifier | (() => MnistClassifier),
  options: MnistGanOptions,
): Promise<MnistGanRun> {
  const o = normalize(options);
  const { dir } = options;
  return withSeed(o.seed, async () => {
    const saved = dir === undefined ? undefined : loadRun(dir, o);
    if (saved) return saved;
    const run = await trainAndJudge(classifier, o, options.gridDir);
    if (dir !== undefined && !run.interrupted) saveRun(dir, o, run);
    return run;
  });
}

async function trainAndJudge(
  classifier: MnistClassifier | (() => MnistClassifier),
  o: SavedRun['options'],
  gridDir: string | undefined,
): Promise<MnistGanRun> {
  const train = loadMnist('train', { limit: o.trainLimit });
  const stepsPerEpoch = Math.floor(train.size / o.batchSize);
  if (stepsPerEpoch < 1)
    throw new Error(`trainMnistGan: ${train.size} training images make no batch of ${o.batchSize}`);
  const gan = new GAN(o.config);
  const trainer = new GanTrainer(gan, {
    generatorLoss: o.generatorLoss,
    generatorLearningRate: o.learningRate,
    instanceNoise: o.instanceNoise,
  });
  const generatorVars = gan.generator.namedVariables();
  const copyGenerator = (): Record<string, Float32Array> =>
    Object.fromEntries(
      Object.entries(generatorVars).map(([k, v]) => [k, v.dataSync().slice() as Float32Array]),
    );
  const setGenerator = (weights: Record<string, Float32Array>): void => {
    for (const [k, v] of Object.entries(generatorVars))
      tf.tidy(() => v.assign(tf.tensor(weights[k], v.shape)));
  };
  const epochWeights: Record<string, Float32Array>[] = [];
  const batches = imageBatches(train, o.batchSize);
  let run: GanRun;
  try {
    run = await runLoop(
      'MNIST GAN',
      () =>
        trainGan(trainer, batches, {
          steps: stepsPerEpoch * o.epochs,
          snapshotAt: Array.from({ length: o.epochs + 1 }, (_, e) => e * stepsPerEpoch),
          label: `GAN, ${o.epochs} epoch${o.epochs > 1 ? 's' : ''} of ${stepsPerEpoch} steps`,
          saveDir: gridDir,
          onSnapshot: () => epochWeights.push(copyGenerator()),
        }),
      { then: NOT_SAVED },
    );
  } finally {
    batches.return(undefined);
    trainer.dispose();
  }
  const steps = run.history;
  const grids = run.snapshots;
  const epochs = new History();
  if (run.interrupted)
    return { gan, steps, epochs, grids, floorFid: NaN, fromCheckpoint: false, interrupted: true };
  // Judge the generator of every epoch, then restore the final one.
  const judge = typeof classifier === 'function' ? classifier() : classifier;
  const realStats = statsOf(judge, loadMnist('test', { limit: o.evalSize }));
  const floorFid = frechetDistance(
    realStats,
    statsOf(judge, loadMnist('train', { limit: o.evalSize })),
  );
  const interrupted = await runLoop(
    'judging the GAN of every epoch',
    async (loop) => {
      try {
        for (const [epoch, weights] of epochWeights.entries()) {
          if (await loop.shouldStop()) {
            loop.stop(`epoch ${epoch} of ${o.epochs}`, 'the GAN is trained, its table incomplete');
            return true;
          }
          setGenerator(weights);
          const m = judgeGenerator(gan, judge, realStats, o.evalSize);
          const row: HistoryRow = {
            epoch,
            'modes covered': m.modesCovered,
            'entropy (nats)': m.entropy,
            'MNIST-FID': m.fid,
          };
          if (epoch > 0) {
            const recent = steps.rows.slice((epoch - 1) * stepsPerEpoch, epoch * stepsPerEpoch);
            row['D loss'] = recent.reduce((s, r) => s + r['D loss'], 0) / recent.length;
            row['G loss'] = recent.reduce((s, r) => s + r['G loss'], 0) / recent.length;
          }
          epochs.push(row);
        }
        return false;
      } finally {
        setGenerator(epochWeights[epochWeights.length - 1]);
      }
    },
    { then: NOT_SAVED },
  );
  return { gan, steps, epochs, grids, floorFid, fromCheckpoint: false, interrupted };
}

function saveRun(dir: string, options: SavedRun['options'], run: MnistGanRun): void {
  const tensors: Record<string, tf.Tensor> = { ...run.gan.namedVariables() };
  run.grids.forEach((g, i) => (tensors[`grid.${i}`] = tf.tensor1d(g.samples)));
  const saved: SavedRun = {
    kind: 'gan-mnist',
    options,
    steps: run.steps.rows,
    epochs: run.epochs.rows,
    grids: run.grids.map(({ step, n }) => ({ step, n })),
    floorFid: run.floorFid,
  };
  saveCheckpoint(dir, saved, tensors);
  run.grids.forEach((_, i) => tensors[`grid.${i}`].dispose());
}
