/**
 * Maximum-likelihood learning of an RBM (lecture 001: data correlations minus model correlations):
 *   dlog P(v) / dW = <v h^T>_data - <v h^T>_model,
 * with the model term from a short Gibbs chain: contrastive divergence CD-k starts the chain at the
 * data and runs k steps; persistent CD (PCD, Tieleman 2008) keeps "fantasy" chains alive across
 * updates. Parameters move by SGD with momentum and L2 weight decay:
 *   velocity = momentum * velocity + learningRate * (gradient - weightDecay * W),  W += velocity.
 */
import * as tf from '@tensorflow/tfjs';
import { pixelLogits } from '../../data/pixels';
import {
  checkFinite,
  checkInteger,
  checkInterval,
  checkNonNegative,
  checkOptions,
  checkPositive,
  checkRecord,
  OptionKeys,
} from '../../runtime/checks';
import { runLoop } from '../../runtime/loop';
import { permutation, withSeed } from '../../runtime/random';
import {
  assignVariables,
  Checkpoint,
  ConfigReader,
  hasCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  savedConfig,
} from '../../training/checkpoint';
import { historyRowsFromJson } from '../../training/history';
import { bernoulli } from './binary';
import { ContrastiveGradients, RBM } from './rbm';

export interface CdOptions {
  /** Gibbs steps per update (CD-k / PCD-k), default 1. */
  k?: number;
  /** Keep persistent chains (PCD) instead of restarting at the data (CD), default false. */
  persistent?: boolean;
  /** Number of persistent chains (default 100; PCD only). */
  chains?: number;
  /** Step size on the per-example average gradient (default 0.05). */
  learningRate?: number;
  /**
   * Momentum of the parameter velocity (default 0.5; Hinton's guide raises it to 0.9 after a few
   * epochs).
   */
  momentum?: number;
  /** L2 weight decay on W (default 2e-4). */
  weightDecay?: number;
}

const CD_KEYS: OptionKeys<CdOptions> = {
  k: true,
  persistent: true,
  chains: true,
  learningRate: true,
  momentum: true,
  weightDecay: true,
};

/**
 * What CD and PCD need of a two-layer Boltzmann machine (the binary RBM, the Gaussian-Bernoulli
 * RBM, the doubled RBMs that pretrain a DBM): its conditionals and its data-minus-model statistics.
 */
export interface ContrastiveModel {
  readonly visible: number;
  readonly hidden: number;
  readonly weights: tf.Variable<tf.Rank.R2>;
  readonly visibleBias: tf.Variable<tf.Rank.R1>;
  readonly hiddenBias: tf.Variable<tf.Rank.R1>;
  /** Throws unless `v` is a [batch, visible] tensor of this model's visible states. */
  checkVisible(name: string, v: tf.Tensor): void;
  /** Throws unless a data set's values [n * visible] suit the visible units (one pass). */
  checkData(who: string, images: Float32Array): void;
  /** p(h_j = 1 | v), [batch, H]. */
  hiddenProbs(v: tf.Tensor2D): tf.Tensor2D;
  /** h ~ p(h | v). */
  sampleHidden(v: tf.Tensor2D): tf.Tensor2D;
  /** v ~ p(v | h). */
  sampleVisible(h: tf.Tensor2D): tf.Tensor2D;
  /** d log P / d(W, a, b) as data statistics minus chain statistics (see contrastiveGradients). */
  contrastiveGradients(
    v0: tf.Tensor2D,
    ph0: tf.Tensor2D,
    vk: tf.Tensor2D,
    phk: tf.Tensor2D,
  ): ContrastiveGradients;
  /** n random visible states, where persistent chains start. */
  randomVisible(n: number): tf.Tensor2D;
}

/**
 * SGD with momentum and its velocities: velocity = momentum * velocity + learningRate * gradient,
 * parameter += velocity (gradient ascent on the log-likelihood).
 */
export class MomentumSgd {
  private readonly velocities: tf.Variable[];

  constructor(readonly parameters: tf.Variable[]) {
    this.velocities = parameters.map((p) => tf.variable(tf.zerosLike(p)));
  }

  /** One update with `gradients[i]` for `parameters[i]` (call inside a tidy scope). */
  apply(gradients: tf.Tensor[], learningRate: number, momentum: number): void {
    this.parameters.forEach((param, i) => {
      const velocity = this.velocities[i];
      // Without momentum the velocity is just the step: skip the pass that decays it.
      const step =
        momentum === 0
          ? tf.mul(gradients[i], learningRate)
          : tf.add(tf.mul(velocity, momentum), tf.mul(gradients[i], learningRate));
      velocity.assign(step);
      param.assign(tf.add(param, step));
    });
  }

  dispose(): void {
    tf.dispose(this.velocities);
  }
}

/**
 * The rows of `images` [n * width] in shuffled mini-batches of `batchSize` [batchSize, width] (a
 * last partial batch is dropped); each batch is disposed when the next one is requested.
 */
export function* shuffledBatches(
  caller: string,
  images: Float32Array,
  width: number,
  batchSize: number,
): Generator<tf.Tensor2D> {
  const n = images.length / width;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`${caller}: batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(n) || n < batchSize)
    throw new Error(
      `${caller}: images must hold at least batchSize=${batchSize} whole images of ${width} ` +
        `pixels, got ${images.length} values`,
    );
  const order = permutation(n);
  const batch = new Float32Array(batchSize * width);
  let current: tf.Tensor2D | undefined;
  try {
    for (let start = 0; start + batchSize <= n; start += batchSize) {
      for (let r = 0; r < batchSize; r++)
        batch.set(
          images.subarray(order[start + r] * width, (order[start + r] + 1) * width),
          r * width,
        );
      current?.dispose();
      current = tf.tensor2d(batch, [batchSize, width]);
      yield current;
    }
  } finally {
    current?.dispose();
  }
}

/** The CdTrainer options among `options` (e.g. of a FitOptions, which also holds a schedule). */
export function cdOptions(options: CdOptions): CdOptions {
  const { k, persistent, chains, learningRate, momentum, weightDecay } = options;
  return { k, persistent, chains, learningRate, momentum, weightDecay };
}

/** Owns the momentum velocities (and the persistent chains) of one RBM's training run. */
export class CdTrainer {
  readonly k: number;
  readonly persistent: boolean;
  learningRate: number;
  momentum: number;
  weightDecay: number;
  /** The persistent fantasy particles [chains, D] (PCD only). */
  readonly chains?: tf.Variable<tf.Rank.R2>;
  private readonly sgd: MomentumSgd;

  constructor(
    readonly rbm: ContrastiveModel,
    options: CdOptions = {},
  ) {
    checkOptions('CdTrainer', options, CD_KEYS);
    this.k = options.k ?? 1;
    checkInteger('CdTrainer', 'k (Gibbs steps per update)', this.k);
    this.persistent = options.persistent ?? false;
    this.learningRate = options.learningRate ?? 0.05;
    this.momentum = options.momentum ?? 0.5;
    this.weightDecay = options.weightDecay ?? 2e-4;
    checkPositive('CdTrainer', 'learningRate', this.learningRate);
    checkNonNegative('CdTrainer', 'weightDecay', this.weightDecay);
    checkInterval('CdTrainer', 'momentum', this.momentum, 0, 1, '[)');
    const chains = options.chains ?? 100;
    checkInteger('CdTrainer', 'chains', chains);
    if (this.persistent) this.chains = tf.variable(rbm.randomVisible(chains));
    this.sgd = new MomentumSgd([rbm.weights, rbm.visibleBias, rbm.hiddenBias]);
  }

  /**
   * One CD-k (or PCD-k) update on a batch v0 [B, D] of training images, all in one tidy scope;
   * returns nothing so that nothing waits for the device.
   */
  step(v0: tf.Tensor2D): void {
    const rbm = this.rbm;
    rbm.checkVisible('CdTrainer.step(v0)', v0);
    tf.tidy(() => {
      const positiveHidden = rbm.hiddenProbs(v0);
      // Negative phase: k steps of block Gibbs from the data (CD) or from the persistent chains
      // (PCD).
      let h = this.persistent
        ? rbm.sampleHidden(this.chains as tf.Tensor2D)
        : (bernoulli(positiveHidden) as tf.Tensor2D);
      let v = rbm.sampleVisible(h);
      for (let t = 1; t < this.k; t++) {
        h = rbm.sampleHidden(v);
        v = rbm.sampleVisible(h);
      }
      const negativeHidden = rbm.hiddenProbs(v);
      // data minus model statistics: <v h^T>, <v>, <h>
      const grad = rbm.contrastiveGradients(v0, positiveHidden, v, negativeHidden);
      this.sgd.apply(
        [
          this.weightDecay > 0
            ? tf.sub(grad.weights, tf.mul(rbm.weights, this.weightDecay))
            : grad.weights,
          grad.visibleBias,
          grad.hiddenBias,
        ],
        this.learningRate,
        this.momentum,
      );
      if (this.chains) this.chains.assign(v as tf.Tensor2D);
    });
  }

  /**
   * One pass over `images` [n * D] in shuffled mini-batches (a last partial batch is dropped), as a
   * kit loop: it returns the number of batches done, fewer than `of` when an interrupt stopped it
   * (after the batch in progress; the line printed then names the pass `label`).
   */
  async epoch(
    images: Float32Array,
    batchSize = 100,
    label = 'RBM training',
  ): Promise<{ batches: number; of: number }> {
    const of = Math.floor(images.length / this.rbm.visible / batchSize);
    this.rbm.checkData('CdTrainer.epoch', images);
    return runLoop(label, async (loop) => {
      let done = 0;
      for (const v0 of shuffledBatches('CdTrainer.epoch', images, this.rbm.visible, batchSize)) {
        if (await loop.shouldStop()) {
          loop.stop(`batch ${done}/${of}`, 'the RBM keeps its last completed update');
          return { batches: done, of };
        }
        this.step(v0);
        done++;
      }
      return { batches: of, of };
    });
  }

  dispose(): void {
    this.sgd.dispose();
    this.chains?.dispose();
  }
}

/** The epochs of a training run and how its learning rate and momentum change over them. */
export interface ScheduleOptions {
  /** Passes over the data. */
  epochs: number;
  /** Mini-batch size (default 100). */
  batchSize?: number;
  /**
   * Momentum from the given epoch on (default 0.9 from epoch 5, as in Hinton's practical guide).
   */
  finalMomentum?: number;
  momentumSwitchEpoch?: number;
  /**
   * Decay the learning rate linearly to 0 over the epochs (Tieleman's PCD schedule), default false.
   */
  linearDecay?: boolean;
}

/** A trainer that makes one update per mini-batch with a scheduled learning rate and momentum. */
export interface ScheduledTrainer {
  learningRate: number;
  momentum: number;
  step(batch: tf.Tensor2D): void;
}

/** Checks the schedule; returns a function setting the trainer's rate and momentum for an epoch. */
function epochSchedule(
  caller: string,
  trainer: ScheduledTrainer,
  options: ScheduleOptions,
): (epoch: number) => void {
  const { epochs, finalMomentum = 0.9, momentumSwitchEpoch = 5, linearDecay = false } = options;
  checkInteger(caller, 'epochs', epochs);
  checkInterval(caller, 'finalMomentum', finalMomentum, 0, 1, '[)');
  checkInteger(caller, 'momentumSwitchEpoch', momentumSwitchEpoch, 0);
  const initialRate = trainer.learningRate;
  return (epoch) => {
    if (epoch > momentumSwitchEpoch) trainer.momentum = finalMomentum;
    if (linearDecay) trainer.learningRate = (initialRate * (epochs - epoch + 1)) / epochs;
  };
}

export interface FitOptions extends CdOptions, ScheduleOptions {
  /** Called after each epoch (from 1) with the trainer, e.g. to log the reconstruction error. */
  onEpoch?: (epoch: number, trainer: CdTrainer) => void;
  /** What the line printed on an interrupt calls this training (default 'RBM training'). */
  label?: string;
}

/** The training options of a recipe: FitOptions without its callback and its label. */
export type RecipeFitOptions = Omit<FitOptions, 'onEpoch' | 'label'>;

export const RECIPE_FIT_KEYS: OptionKeys<RecipeFitOptions> = {
  ...CD_KEYS,
  epochs: true,
  batchSize: true,
  finalMomentum: true,
  momentumSwitchEpoch: true,
  linearDecay: true,
};
const FIT_KEYS: OptionKeys<FitOptions> = { ...RECIPE_FIT_KEYS, onEpoch: true, label: true };

/**
 * Trains `rbm` on `images` [n * D] with CD-k or PCD-k; returns the trainer (dispose it when done).
 * An interrupt stops it after the batch in progress (`interrupted`; `onEpoch` is not called for
 * the unfinished epoch). `caller` names the function a bad option is reported against.
 */
export async function fitRbm(
  rbm: ContrastiveModel,
  images: Float32Array,
  options: FitOptions,
  caller = 'fitRbm',
): Promise<{ trainer: CdTrainer; interrupted: boolean }> {
  checkOptions(caller, options, FIT_KEYS);
  const trainer = new CdTrainer(rbm, cdOptions(options));
  const label = options.label ?? 'RBM training';
  try {
    const schedule = epochSchedule(caller, trainer, options);
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      schedule(epoch);
      const done = await trainer.epoch(
        images,
        options.batchSize ?? 100,
        `${label}, epoch ${epoch}/${options.epochs}`,
      );
      if (done.batches < done.of) return { trainer, interrupted: true };
      options.onEpoch?.(epoch, trainer);
    }
  } catch (err) {
    trainer.dispose();
    throw err;
  }
  return { trainer, interrupted: false };
}

/**
 * Runs `trainer` over `images` [n * width] for the scheduled epochs, in shuffled mini-batches, as a
 * kit loop: it lets the event loop run between updates (so a notebook redraws its
 * progress), and an interrupt stops it after the update in progress; it then resolves to true.
 * `onStep` sees each update, `onEpoch` each finished epoch.
 */
export async function trainEpochs(
  trainer: ScheduledTrainer,
  images: Float32Array,
  width: number,
  options: ScheduleOptions & {
    /** What the line printed on an interrupt calls this training (default 'RBM training'). */
    label?: string;
    onStep?: () => void;
    onEpoch?: (epoch: number) => void;
  },
): Promise<boolean> {
  const schedule = epochSchedule('trainEpochs', trainer, options);
  const batchSize = options.batchSize ?? 100;
  const of = Math.floor(images.length / width / batchSize);
  return runLoop(options.label ?? 'RBM training', async (loop) => {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      schedule(epoch);
      let done = 0;
      for (const batch of shuffledBatches('trainEpochs', images, width, batchSize)) {
        if (await loop.shouldStop()) {
          loop.stop(`epoch ${epoch}, batch ${done}/${of}`, 'the model keeps its last update');
          return true;
        }
        trainer.step(batch);
        done++;
        options.onStep?.();
      }
      options.onEpoch?.(epoch);
    }
    return false;
  });
}

/**
 * The model `make` builds, filled from a checkpoint's tensors by `fill`. The tensors are freed
 * either way, and a model refused while being filled is freed too.
 */
export function restoreFromCheckpoint<M extends { dispose(): void }>(
  tensors: Record<string, tf.Tensor>,
  make: () => M,
  fill: (model: M) => void,
): M {
  let model: M | undefined;
  try {
    model = make();
    fill(model);
    return model;
  } catch (err) {
    model?.dispose();
    throw err;
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

/**
 * The checkpoint in `dir` when it was saved for exactly `recipe` (its config has the same
 * `recipe`), else undefined; a trainOrLoad function then trains and saves.
 */
export function checkpointOfRecipe<C extends { recipe: unknown }>(
  dir: string,
  recipe: unknown,
  readConfig: ConfigReader<C>,
): Checkpoint<C> | undefined {
  if (!hasCheckpoint(dir)) return undefined;
  const saved = loadCheckpoint(dir, readConfig);
  if (JSON.stringify(saved.config.recipe) === JSON.stringify(recipe)) return saved;
  tf.dispose(Object.values(saved.tensors));
  return undefined;
}

export interface RbmRecipe {
  /** Hidden units. */
  hidden: number;
  /**
   * Training options (epochs, k, persistent, learning rate, ...); callbacks and labels are not
   * part of a recipe.
   */
  fit: RecipeFitOptions;
  /** Seed of the run (default 0). */
  seed: number;
  /** Number of training images (recorded so a checkpoint is only reused for the same data). */
  images: number;
}

export interface RbmEpochRow {
  epoch: number;
  /**
   * Mean-field reconstruction error on a fixed set of 1,000 training images (squared pixels per
   * image).
   */
  reconstruction: number;
  /** Average log pseudo-likelihood on 100 training images (nats per image). */
  pseudoLogLikelihood: number;
  /** Cumulative training time (s). */
  seconds: number;
}

export interface TrainedRbm {
  rbm: RBM;
  history: RbmEpochRow[];
  /** Training time of the run that produced the weights (s). */
  seconds: number;
  /** Whether the weights came from a checkpoint. */
  loaded: boolean;
  /** True when an interrupt stopped training early (such an RBM is not saved). */
  interrupted: boolean;
}

/**
 * A ConfigReader for a model of kind `kind` saved by a trainOrLoad function: an object with a
 * recipe (compared with the one asked for by checkpointOfRecipe).
 */
export function recipeConfig<C extends { recipe: unknown }>(kind: string): ConfigReader<C> {
  return (raw) => {
    const config = savedConfig(raw, kind);
    checkRecord(`saved ${kind}`, 'recipe', config.recipe);
    return config as unknown as C;
  };
}

/** The checkpoint folder contents written by trainOrLoadRbm. */
interface RbmCheckpointConfig {
  kind: 'rbm';
  recipe: RbmRecipe;
  history: RbmEpochRow[];
  seconds: number;
}

/** Checks the config.json of a saved RBM (the recipe is compared with the one asked for). */
function readRbmConfig(raw: unknown): RbmCheckpointConfig {
  const who = 'saved RBM';
  const c = recipeConfig<RbmCheckpointConfig>('rbm')(raw);
  checkNonNegative(who, 'seconds', c.seconds);
  const history = historyRowsFromJson(who, 'history', c.history).map((row, i) => {
    for (const key of ['epoch', 'reconstruction', 'pseudoLogLikelihood', 'seconds'])
      checkFinite(who, `history[${i}].${key}`, row[key]);
    return row as unknown as RbmEpochRow;
  });
  return { ...c, history };
}

/**
 * Trains an RBM by `recipe` on `images` and saves it under `dir`, or loads it from `dir` when a
 * checkpoint of the same recipe is there (so a long full-size run is paid once). `onEpoch` sees
 * each history row. Training draws its random numbers from `recipe.seed` and leaves the caller's
 * stream as it was, so the cells after this call draw the same numbers whether it trained or
 * loaded. An interrupted training returns the RBM as it is, marked `interrupted`, and saves
 * nothing.
 */
export async function trainOrLoadRbm(
  dir: string,
  images: Float32Array,
  visible: number,
  recipe: RbmRecipe,
  onEpoch?: (row: RbmEpochRow) => void,
): Promise<TrainedRbm> {
  checkOptions('trainOrLoadRbm', recipe, { hidden: true, fit: true, seed: true, images: true });
  checkOptions('trainOrLoadRbm', recipe.fit, RECIPE_FIT_KEYS);
  checkInteger('trainOrLoadRbm', 'visible', visible);
  checkInteger('trainOrLoadRbm', 'recipe.images', recipe.images);
  if (images.length !== recipe.images * visible)
    throw new Error(
      `trainOrLoadRbm: recipe.images = ${recipe.images} but images hold ` +
        `${images.length / visible} images of ${visible} pixels`,
    );
  const saved = checkpointOfRecipe(dir, recipe, readRbmConfig);
  if (saved) {
    const rbm = restoreFromCheckpoint(
      saved.tensors,
      () => new RBM(visible, recipe.hidden, { weightScale: 0 }),
      (model) => assignVariables(model.namedVariables(), saved.tensors, dir),
    );
    return {
      rbm,
      history: saved.config.history,
      seconds: saved.config.seconds,
      loaded: true,
      interrupted: false,
    };
  }
  const trained = await runLoop(
    'RBM training',
    () => withSeed(recipe.seed, () => trainRbm(images, visible, recipe, onEpoch)),
    { then: 'it is not saved, and running the cell again trains it from the start' },
  );
  if (!trained.interrupted)
    saveCheckpoint<RbmCheckpointConfig>(
      dir,
      { kind: 'rbm', recipe, history: trained.history, seconds: trained.seconds },
      trained.rbm.namedVariables(),
    );
  return trained;
}

async function trainRbm(
  images: Float32Array,
  visible: number,
  recipe: RbmRecipe,
  onEpoch?: (row: RbmEpochRow) => void,
): Promise<TrainedRbm> {
  const bias = pixelLogits(images, visible);
  const rbm = new RBM(visible, recipe.hidden, { visibleBias: bias });
  bias.dispose();
  const monitor = tf.tensor2d(images.subarray(0, Math.min(1000, recipe.images) * visible), [
    Math.min(1000, recipe.images),
    visible,
  ]);
  const small = tf.tidy(() =>
    tf.slice(monitor, [0, 0], [Math.min(100, monitor.shape[0]), -1]),
  ) as tf.Tensor2D;
  const history: RbmEpochRow[] = [];
  const started = Date.now();
  let trainSeconds = 0;
  try {
    const { trainer, interrupted } = await fitRbm(rbm, images, {
      ...recipe.fit,
      onEpoch: (epoch) => {
        trainSeconds = (Date.now() - started) / 1000;
        const row = {
          epoch,
          reconstruction: rbm.reconstructionError(monitor),
          pseudoLogLikelihood: rbm.pseudoLogLikelihood(small),
          seconds: trainSeconds,
        };
        history.push(row);
        onEpoch?.(row);
      },
    });
    trainer.dispose();
    return { rbm, history, seconds: trainSeconds, loaded: false, interrupted };
  } finally {
    tf.dispose([monitor, small]);
  }
}
