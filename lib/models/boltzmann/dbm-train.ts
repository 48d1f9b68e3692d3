/**
 * Training a two-layer DBM (Salakhutdinov & Hinton 2009) in two stages.
 *
 * 1. Greedy pretraining with the modification that makes the stacked RBMs a sensible DBM start.
 *    In the DBM, h1 hears both v (bottom-up) and h2 (top-down); an RBM trained alone hears only one
 *    of them and would double-count when stacked. So the bottom RBM is trained with its visible
 *    layer doubled (two tied copies of v: p(h1 | v) = σ(b + 2 v^T W1)) and the top RBM with its
 *    hidden layer doubled (p(h1 | h2) = σ(a + 2 W2 h2)); in the composed DBM each side contributes
 *    one copy's worth, and h1's bias is the average of the two RBMs' biases on h1.
 * 2. Joint maximum likelihood by stochastic approximation: for each mini-batch the data term comes
 *    from mean field q(h | v), the model term from persistent Gibbs chains,
 *      dW1 = <v μ1^T>_data - <v h1^T>_model,  dW2 = <μ1 μ2^T>_data - <h1 h2^T>_model,
 *    (biases alike), with the chain statistics Rao-Blackwellized: h1 and h2 of the chains are
 *    replaced by their conditional probabilities.
 */
import * as tf from '@tensorflow/tfjs';
import { pixelLogits } from '../../data/pixels';
import {
  checkInteger,
  checkInterval,
  checkNonNegative,
  checkOptions,
  checkPositive,
  OptionKeys,
} from '../../runtime/checks';
import { progress } from '../../runtime/progress';
import { seed } from '../../runtime/random';
import { assignVariables, saveCheckpoint } from '../../training/checkpoint';
import { bernoulli, checkBinaryBatch } from './binary';
import { DbmState, DeepBoltzmannMachine } from './dbm';
import { ContrastiveGradients, contrastiveGradients, RBM } from './rbm';
import {
  CdOptions,
  cdOptions,
  CdTrainer,
  checkpointOfRecipe,
  restoreFromCheckpoint,
  recipeConfig,
  ContrastiveModel,
  MomentumSgd,
  ScheduleOptions,
  trainEpochs,
} from './train';

/**
 * An RBM trained as one layer of a DBM, with one layer doubled (two tied copies that always take
 * the same values): the other layer then receives twice the input through W, and the CD
 * statistics of W and of the doubled layer's bias count both copies.
 */
export class DoubledRbm implements ContrastiveModel {
  constructor(
    readonly rbm: RBM,
    readonly doubled: 'visible' | 'hidden',
  ) {
    if (doubled !== 'visible' && doubled !== 'hidden')
      throw new Error(`DoubledRbm: doubled must be 'visible' or 'hidden', got '${doubled}'`);
  }

  get visible(): number {
    return this.rbm.visible;
  }
  get hidden(): number {
    return this.rbm.hidden;
  }
  get weights(): tf.Variable<tf.Rank.R2> {
    return this.rbm.weights;
  }
  get visibleBias(): tf.Variable<tf.Rank.R1> {
    return this.rbm.visibleBias;
  }
  get hiddenBias(): tf.Variable<tf.Rank.R1> {
    return this.rbm.hiddenBias;
  }

  checkVisible(name: string, v: tf.Tensor): void {
    this.rbm.checkVisible(name, v);
  }

  checkData(who: string, images: Float32Array): void {
    this.rbm.checkData(who, images);
  }

  /** p(h_j = 1 | v) = σ(b_j + m (v^T W)_j), m = 2 when the visible layer is doubled. */
  hiddenProbs(v: tf.Tensor2D): tf.Tensor2D {
    if (this.doubled === 'hidden') return this.rbm.hiddenProbs(v);
    return tf.tidy(
      () =>
        tf.sigmoid(tf.sub(tf.mul(this.rbm.hiddenField(v), 2), this.rbm.hiddenBias)) as tf.Tensor2D,
    );
  }

  /** p(v_i = 1 | h) = σ(a_i + m (W h)_i), m = 2 when the hidden layer is doubled. */
  visibleProbs(h: tf.Tensor2D): tf.Tensor2D {
    if (this.doubled === 'visible') return this.rbm.visibleProbs(h);
    checkBinaryBatch('h', h, this.hidden);
    return tf.tidy(
      () =>
        tf.sigmoid(
          tf.add(tf.mul(tf.matMul(h, this.weights, false, true), 2), this.visibleBias),
        ) as tf.Tensor2D,
    );
  }

  sampleHidden(v: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => bernoulli(this.hiddenProbs(v)) as tf.Tensor2D);
  }

  sampleVisible(h: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => bernoulli(this.visibleProbs(h)) as tf.Tensor2D);
  }

  contrastiveGradients(
    v0: tf.Tensor2D,
    ph0: tf.Tensor2D,
    vk: tf.Tensor2D,
    phk: tf.Tensor2D,
  ): ContrastiveGradients {
    const g = contrastiveGradients(v0, ph0, vk, phk);
    const twice = (t: tf.Tensor) => {
      const out = tf.mul(t, 2);
      t.dispose();
      return out;
    };
    return {
      weights: twice(g.weights) as tf.Tensor2D,
      visibleBias: (this.doubled === 'visible'
        ? twice(g.visibleBias)
        : g.visibleBias) as tf.Tensor1D,
      hiddenBias: (this.doubled === 'hidden' ? twice(g.hiddenBias) : g.hiddenBias) as tf.Tensor1D,
    };
  }

  randomVisible(n: number): tf.Tensor2D {
    return this.rbm.randomVisible(n);
  }
}

/**
 * The DBM that the two pretrained RBMs make: W1, a from the bottom RBM, W2, b2 from the top RBM,
 * b1 the average of the bottom RBM's hidden bias and the top RBM's visible bias (each RBM counted
 * h1's whole input through its doubled side).
 */
export function composeDbm(bottom: RBM, top: RBM): DeepBoltzmannMachine {
  if (bottom.hidden !== top.visible)
    throw new Error(
      `composeDbm: the bottom RBM has ${bottom.hidden} hidden units but the top RBM has ` +
        `${top.visible} visible units`,
    );
  const hiddenBias1 = tf.tidy(() => tf.mul(tf.add(bottom.hiddenBias, top.visibleBias), 0.5));
  const dbm = DeepBoltzmannMachine.fromParameters({
    weights1: bottom.weights,
    weights2: top.weights,
    visibleBias: bottom.visibleBias,
    hiddenBias1: hiddenBias1 as tf.Tensor1D,
    hiddenBias2: top.hiddenBias,
  });
  hiddenBias1.dispose();
  return dbm;
}

export interface DbmTrainerOptions {
  /** Persistent chains (default 100). */
  chains?: number;
  /** Gibbs sweeps of the chains per update (default 1). */
  gibbsSteps?: number;
  /** Mean-field sweeps per mini-batch (default 10). */
  meanFieldIterations?: number;
  /** Step size on the per-example average gradient (default 0.005). */
  learningRate?: number;
  /** Momentum (default 0.5). */
  momentum?: number;
  /** L2 weight decay on W1 and W2 (default 2e-4). */
  weightDecay?: number;
}

const DBM_TRAINER_KEYS: OptionKeys<DbmTrainerOptions> = {
  chains: true,
  gibbsSteps: true,
  meanFieldIterations: true,
  learningRate: true,
  momentum: true,
  weightDecay: true,
};

/** The DbmTrainer options among `options` (a recipe's joint stage also holds its schedule). */
function dbmTrainerOptions(options: DbmTrainerOptions): DbmTrainerOptions {
  const { chains, gibbsSteps, meanFieldIterations, learningRate, momentum, weightDecay } = options;
  return { chains, gibbsSteps, meanFieldIterations, learningRate, momentum, weightDecay };
}

/** Joint training of a DBM: mean field for the data term, persistent chains for the model term. */
export class DbmTrainer {
  readonly chains: number;
  readonly gibbsSteps: number;
  readonly meanFieldIterations: number;
  learningRate: number;
  momentum: number;
  readonly weightDecay: number;
  /** The persistent chains' state. */
  state: DbmState;
  private readonly sgd: MomentumSgd;

  constructor(
    readonly dbm: DeepBoltzmannMachine,
    options: DbmTrainerOptions = {},
  ) {
    checkOptions('DbmTrainer', options, DBM_TRAINER_KEYS);
    this.chains = options.chains ?? 100;
    this.gibbsSteps = options.gibbsSteps ?? 1;
    this.meanFieldIterations = options.meanFieldIterations ?? 10;
    checkInteger('DbmTrainer', 'chains', this.chains);
    checkInteger('DbmTrainer', 'gibbsSteps', this.gibbsSteps);
    checkInteger('DbmTrainer', 'meanFieldIterations', this.meanFieldIterations);
    this.learningRate = options.learningRate ?? 0.005;
    this.momentum = options.momentum ?? 0.5;
    this.weightDecay = options.weightDecay ?? 2e-4;
    checkPositive('DbmTrainer', 'learningRate', this.learningRate);
    checkNonNegative('DbmTrainer', 'weightDecay', this.weightDecay);
    checkInterval('DbmTrainer', 'momentum', this.momentum, 0, 1, '[)');
    this.state = dbm.randomState(this.chains);
    const p = dbm.namedVariables();
    this.sgd = new MomentumSgd([
      p.weights1,
      p.weights2,
      p.visibleBias,
      p.hiddenBias1,
      p.hiddenBias2,
    ]);
  }

  /** One update on a batch v0 [B, D] of binary images. */
  step(v0: tf.Tensor2D): void {
    const dbm = this.dbm;
    checkBinaryBatch('DbmTrainer.step(v0)', v0, dbm.visible);
    const { mu1, mu2 } = dbm.meanField(v0, { iterations: this.meanFieldIterations });
    const chain = dbm.gibbs(this.state, this.gibbsSteps);
    chain.visibleProbs.dispose();
    tf.dispose([this.state.v, this.state.h1, this.state.h2]);
    this.state = { v: chain.v, h1: chain.h1, h2: chain.h2 };
    tf.tidy(() => {
      const { v, h1, h2 } = this.state;
      const chainMu1 = tf.sigmoid(dbm.hidden1Field(v, h2));
      const chainMu2 = tf.sigmoid(dbm.hidden2Field(h1));
      // data minus model: <v μ1^T>, <v>, <μ1> and <μ1 μ2^T>, <μ2>
      const bottom = contrastiveGradients(v0, mu1, v, chainMu1);
      const top = contrastiveGradients(mu1, mu2, h1, chainMu2);
      const decay = (g: tf.Tensor, w: tf.Tensor) =>
        this.weightDecay > 0 ? tf.sub(g, tf.mul(w, this.weightDecay)) : g;
      this.sgd.apply(
        [
          decay(bottom.weights, dbm.weights1),
          decay(top.weights, dbm.weights2),
          bottom.visibleBias,
          bottom.hiddenBias,
          top.hiddenBias,
        ],
        this.learningRate,
        this.momentum,
      );
    });
    tf.dispose([mu1, mu2]);
  }

  dispose(): void {
    this.sgd.dispose();
    tf.dispose([this.state.v, this.state.h1, this.state.h2]);
  }
}

/** How to pretrain one RBM of the DBM (CD or PCD options and a schedule). */
export type LayerRecipe = Omit<CdOptions, 'persistent'> &
  ScheduleOptions & { persistent?: boolean };

export interface DbmRecipe {
  /** [D, H1, H2], e.g. [784, 500, 1000]. */
  sizes: [number, number, number];
  /** Pretraining of the bottom RBM (visible layer doubled). */
  bottom: LayerRecipe;
  /** Pretraining of the top RBM (hidden layer doubled) on samples of h1 ~ p(h1 | v). */
  top: LayerRecipe;
  /** Joint training (epochs: 0 keeps the pretrained DBM). */
  joint: DbmTrainerOptions & Omit<ScheduleOptions, 'epochs'> & { epochs: number };
  /** Seed of the run. */
  seed: number;
  /** Number of training images (a checkpoint is only reused for the same data). */
  images: number;
}

const DBM_RECIPE_KEYS: OptionKeys<DbmRecipe> = {
  sizes: true,
  bottom: true,
  top: true,
  joint: true,
  seed: true,
  images: true,
};

export interface DbmEpochRow {
  stage: 'bottom' | 'top' | 'joint';
  epoch: number;
  /**
   * Mean-field reconstruction error on 1,000 training images, Σ_i (v_i - p(v_i | μ1))² per image
   * (for the RBMs, through their own doubled conditionals).
   */
  reconstruction: number;
  /** Cumulative training time (s). */
  seconds: number;
}

export interface TrainedDbm {
  dbm: DeepBoltzmannMachine;
  history: DbmEpochRow[];
  /** Training time of the run that produced the weights (s): pretraining plus joint training. */
  seconds: number;
  loaded: boolean;
  /** True when an interrupt stopped training early (such a model is not saved). */
  interrupted: boolean;
}

interface DbmCheckpointConfig {
  recipe: DbmRecipe;
  history: DbmEpochRow[];
  seconds: number;
}

/** Binary samples h ~ p(h | v) of a doubled bottom RBM for all rows of `images`. */
function sampleHiddenRows(model: DoubledRbm, images: Float32Array, batchSize = 1000): Float32Array {
  const n = images.length / model.visible;
  const out = new Float32Array(n * model.hidden);
  for (let start = 0; start < n; start += batchSize) {
    const m = Math.min(batchSize, n - start);
    const h = tf.tidy(() =>
      model.sampleHidden(
        tf.tensor2d(images.subarray(start * model.visible, (start + m) * model.visible), [
          m,
          model.visible,
        ]),
      ),
    );
    out.set(h.dataSync() as Float32Array, start * model.hidden);
    h.dispose();
  }
  return out;
}

function squaredError(x: tf.Tensor2D, p: tf.Tensor2D): number {
  return tf.tidy(() => tf.mean(tf.sum(tf.squaredDifference(x, p), 1)).dataSync()[0]);
}

/**
 * Pretrains (bottom and top RBMs, doubled) and jointly trains a DBM by `recipe` on binary `images`
 * [n * D], with a progress bar per stage; or loads it from `dir` when a checkpoint of the same
 * recipe is there. Asynchronous: it yields to the event loop after every update.
 */
export async function trainOrLoadDbm(
  dir: string,
  images: Float32Array,
  recipe: DbmRecipe,
  onEpoch?: (row: DbmEpochRow) => void,
): Promise<TrainedDbm> {
  checkOptions('trainOrLoadDbm', recipe, DBM_RECIPE_KEYS);
  const [d, h1, h2] = recipe.sizes;
  if (images.length !== recipe.images * d)
    throw new Error(
      `trainOrLoadDbm: recipe.images = ${recipe.images} but images hold ${images.length / d} ` +
        `images of ${d} pixels`,
    );
  const saved = checkpointOfRecipe(dir, recipe, recipeConfig<DbmCheckpointConfig>('dbm'));
  if (saved) {
    const dbm = restoreFromCheckpoint(
      saved.tensors,
      () => new DeepBoltzmannMachine(d, h1, h2),
      (model) => assignVariables(model.namedVariables(), saved.tensors, dir),
    );
    return {
      dbm,
      history: saved.config.history,
      seconds: saved.config.seconds,
      loaded: true,
      interrupted: false,
    };
  }
  seed(recipe.seed);
  const monitorRows = Math.min(1000, recipe.images);
  const monitor = tf.tensor2d(images.subarray(0, monitorRows * d), [monitorRows, d]);
  const history: DbmEpochRow[] = [];
  const started = Date.now();
  const record = (stage: DbmEpochRow['stage'], epoch: number, reconstruction: number) => {
    if (!Number.isFinite(reconstruction))
      throw new Error(
        `trainOrLoadDbm: ${stage} training diverged in epoch ${epoch} (reconstruction error ` +
          `${reconstruction}); lower its learning rate`,
      );
    const row = { stage, epoch, reconstruction, seconds: (Date.now() - started) / 1000 };
    history.push(row);
    onEpoch?.(row);
  };
  let interrupted = false;
  const runLayer = async (
    stage: 'bottom' | 'top',
    model: DoubledRbm,
    data: Float32Array,
    layer: LayerRecipe,
    monitorInput: tf.Tensor2D,
  ) => {
    const trainer = new CdTrainer(model, cdOptions(layer));
    const batchSize = layer.batchSize ?? 100;
    const bar = progress(layer.epochs * Math.floor(data.length / model.visible / batchSize), {
      label: `DBM ${stage} RBM (${model.visible} x ${model.hidden}, ${model.doubled} doubled)`,
    });
    try {
      interrupted ||= await trainEpochs(trainer, data, model.visible, {
        ...layer,
        label: `DBM ${stage} RBM training`,
        onStep: () => bar.tick(),
        onEpoch: (epoch) =>
          record(
            stage,
            epoch,
            tf.tidy(() =>
              squaredError(monitorInput, model.visibleProbs(model.sampleHidden(monitorInput))),
            ),
          ),
      });
    } finally {
      trainer.dispose();
      bar.done();
    }
  };

  const bias = pixelLogits(images, d);
  const bottom = new DoubledRbm(new RBM(d, h1, { visibleBias: bias }), 'visible');
  bias.dispose();
  let top: DoubledRbm | undefined;
  let dbm: DeepBoltzmannMachine | undefined;
  try {
    await runLayer('bottom', bottom, images, recipe.bottom, monitor);
    const hidden = sampleHiddenRows(bottom, images);
    const topBias = pixelLogits(hidden, h1);
    top = new DoubledRbm(new RBM(h1, h2, { visibleBias: topBias }), 'hidden');
    topBias.dispose();
    const monitorHidden = tf.tensor2d(hidden.subarray(0, monitorRows * h1), [monitorRows, h1]);
    try {
      await runLayer('top', top, hidden, recipe.top, monitorHidden);
    } finally {
      monitorHidden.dispose();
    }
    dbm = composeDbm(bottom.rbm, top.rbm);
    if (recipe.joint.epochs > 0) {
      const trainer = new DbmTrainer(dbm, dbmTrainerOptions(recipe.joint));
      const batchSize = recipe.joint.batchSize ?? 100;
      const bar = progress(recipe.joint.epochs * Math.floor(recipe.images / batchSize), {
        label: `DBM joint training (${recipe.sizes.join('-')})`,
      });
      const model = dbm;
      try {
        interrupted ||= await trainEpochs(trainer, images, d, {
          ...recipe.joint,
          label: 'DBM joint training',
          onStep: () => bar.tick(),
          onEpoch: (epoch) => {
            const { mu1, mu2 } = model.meanField(monitor, {
              iterations: trainer.meanFieldIterations,
            });
            record(
              'joint',
              epoch,
              tf.tidy(() => squaredError(monitor, tf.sigmoid(model.visibleField(mu1)))),
            );
            tf.dispose([mu1, mu2]);
          },
        });
      } finally {
        trainer.dispose();
        bar.done();
      }
    }
  } catch (err) {
    dbm?.dispose();
    throw err;
  } finally {
    bottom.rbm.dispose();
    top?.rbm.dispose();
    monitor.dispose();
  }
  const seconds = (Date.now() - started) / 1000;
  // an interrupted training is returned as it is and not saved
  if (!interrupted)
    saveCheckpoint<DbmCheckpointConfig>(dir, { recipe, history, seconds }, dbm.namedVariables());
  return { dbm, history, seconds, loaded: false, interrupted };
}
