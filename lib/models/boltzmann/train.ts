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
import { permutation, seed } from '../../runtime/random';
import {
  assignVariables,
  hasCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from '../../training/checkpoint';
import { bernoulli, checkBinaryBatch } from './binary';
import { contrastiveGradients, RBM } from './rbm';

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

function checkPositive(name: string, value: number, allowZero = false): void {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0))
    throw new Error(`${name} must be a finite number ${allowZero ? '>= 0' : '> 0'}, got ${value}`);
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
  private readonly velocity: {
    weights: tf.Variable;
    visibleBias: tf.Variable;
    hiddenBias: tf.Variable;
  };

  constructor(
    readonly rbm: RBM,
    options: CdOptions = {},
  ) {
    this.k = options.k ?? 1;
    if (!Number.isInteger(this.k) || this.k < 1)
      throw new Error(
        `CdTrainer: k (Gibbs steps per update) must be a positive integer, got ${options.k}`,
      );
    this.persistent = options.persistent ?? false;
    this.learningRate = options.learningRate ?? 0.05;
    this.momentum = options.momentum ?? 0.5;
    this.weightDecay = options.weightDecay ?? 2e-4;
    checkPositive('CdTrainer: learningRate', this.learningRate);
    checkPositive('CdTrainer: weightDecay', this.weightDecay, true);
    if (!(this.momentum >= 0 && this.momentum < 1))
      throw new Error(`CdTrainer: momentum must be in [0, 1), got ${this.momentum}`);
    const chains = options.chains ?? 100;
    if (!Number.isInteger(chains) || chains < 1)
      throw new Error(`CdTrainer: chains must be a positive integer, got ${chains}`);
    if (this.persistent)
      this.chains = tf.variable(
        tf.tidy(() => bernoulli(tf.fill([chains, rbm.visible], 0.5)) as tf.Tensor2D),
      );
    this.velocity = {
      weights: tf.variable(tf.zeros(rbm.weights.shape)),
      visibleBias: tf.variable(tf.zeros([rbm.visible])),
      hiddenBias: tf.variable(tf.zeros([rbm.hidden])),
    };
  }

  /**
   * One CD-k (or PCD-k) update on a batch v0 [B, D] of binary images, all in one tidy scope;
   * returns nothing so that nothing waits for the device.
   */
  step(v0: tf.Tensor2D): void {
    checkBinaryBatch('CdTrainer.step(v0)', v0, this.rbm.visible);
    const rbm = this.rbm;
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
      const grad = contrastiveGradients(v0, positiveHidden, v, negativeHidden);
      this.update(
        rbm.weights,
        this.velocity.weights,
        this.weightDecay > 0
          ? tf.sub(grad.weights, tf.mul(rbm.weights, this.weightDecay))
          : grad.weights,
      );
      this.update(rbm.visibleBias, this.velocity.visibleBias, grad.visibleBias);
      this.update(rbm.hiddenBias, this.velocity.hiddenBias, grad.hiddenBias);
      if (this.chains) this.chains.assign(v as tf.Tensor2D);
    });
  }

  private update(param: tf.Variable, velocity: tf.Variable, gradient: tf.Tensor): void {
    // Without momentum the velocity is just the step: skip the pass that decays it.
    if (this.momentum === 0) {
      const step = tf.mul(gradient, this.learningRate);
      velocity.assign(step);
      param.assign(tf.add(param, step));
      return;
    }
    velocity.assign(tf.add(tf.mul(velocity, this.momentum), tf.mul(gradient, this.learningRate)));
    param.assign(tf.add(param, velocity));
  }

  /** One pass over `images` [n * D] in shuffled mini-batches (a last partial batch is dropped). */
  epoch(images: Float32Array, batchSize = 100): void {
    const d = this.rbm.visible;
    const n = images.length / d;
    if (!Number.isInteger(n) || n < batchSize)
      throw new Error(
        `CdTrainer.epoch: images must hold at least batchSize=${batchSize} whole images of ${d} ` +
          `pixels, got ${images.length} values`,
      );
    const order = permutation(n);
    const batch = new Float32Array(batchSize * d);
    for (let start = 0; start + batchSize <= n; start += batchSize) {
      for (let r = 0; r < batchSize; r++)
        batch.set(images.subarray(order[start + r] * d, (order[start + r] + 1) * d), r * d);
      const v0 = tf.tensor2d(batch, [batchSize, d]);
      this.step(v0);
      v0.dispose();
    }
  }

  dispose(): void {
    tf.dispose([
      this.velocity.weights,
      this.velocity.visibleBias,
      this.velocity.hiddenBias,
      ...(this.chains ? [this.chains] : []),
    ]);
  }
}

export interface FitOptions extends CdOptions {
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
  /** Called after each epoch (from 1) with the trainer, e.g. to log the reconstruction error. */
  onEpoch?: (epoch: number, trainer: CdTrainer) => void;
}

/**
 * Trains `rbm` on `images` [n * D] with CD-k or PCD-k; returns the trainer (dispose it when done).
 */
export function fitRbm(rbm: RBM, images: Float32Array, options: FitOptions): CdTrainer {
  const {
    epochs,
    batchSize = 100,
    finalMomentum = 0.9,
    momentumSwitchEpoch = 5,
    linearDecay = false,
  } = options;
  if (!Number.isInteger(epochs) || epochs < 1)
    throw new Error(`fitRbm: epochs must be a positive integer, got ${epochs}`);
  const trainer = new CdTrainer(rbm, options);
  const initialRate = trainer.learningRate;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    if (epoch > momentumSwitchEpoch) trainer.momentum = finalMomentum;
    if (linearDecay) trainer.learningRate = (initialRate * (epochs - epoch + 1)) / epochs;
    trainer.epoch(images, batchSize);
    options.onEpoch?.(epoch, trainer);
  }
  return trainer;
}

export interface RbmRecipe {
  /** Hidden units. */
  hidden: number;
  /**
   * Training options (epochs, k, persistent, learning rate, ...); callbacks are not part of a
   * recipe.
   */
  fit: Omit<FitOptions, 'onEpoch'>;
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
}

/** The checkpoint folder contents written by trainOrLoadRbm. */
interface RbmCheckpointConfig {
  recipe: RbmRecipe;
  history: RbmEpochRow[];
  seconds: number;
}

/**
 * Trains an RBM by `recipe` on `images` and saves it under `dir`, or loads it from `dir` when a
 * checkpoint of the same recipe is there (so a long full-size run is paid once). `onEpoch` sees
 * each history row.
 */
export function trainOrLoadRbm(
  dir: string,
  images: Float32Array,
  visible: number,
  recipe: RbmRecipe,
  onEpoch?: (row: RbmEpochRow) => void,
): TrainedRbm {
  if (images.length !== recipe.images * visible)
    throw new Error(
      `trainOrLoadRbm: recipe.images = ${recipe.images} but images hold ` +
        `${images.length / visible} images of ${visible} pixels`,
    );
  if (hasCheckpoint(dir)) {
    const saved = loadCheckpoint<RbmCheckpointConfig>(dir);
    if (JSON.stringify(saved.config.recipe) === JSON.stringify(recipe)) {
      const rbm = new RBM(visible, recipe.hidden, { weightScale: 0 });
      assignVariables(rbm.namedVariables(), saved.tensors, dir);
      tf.dispose(Object.values(saved.tensors));
      return { rbm, history: saved.config.history, seconds: saved.config.seconds, loaded: true };
    }
    tf.dispose(Object.values(saved.tensors));
  }
  seed(recipe.seed);
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
  fitRbm(rbm, images, {
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
  }).dispose();
  tf.dispose([monitor, small]);
  saveCheckpoint<RbmCheckpointConfig>(
    dir,
    { recipe, history, seconds: trainSeconds },
    rbm.namedVariables(),
  );
  return { rbm, history, seconds: trainSeconds, loaded: false };
}
