/**
 * The Gaussian–Bernoulli RBM (lecture 001, "Gaussian visible units (raw pixel data)"; Hinton's
 * practical guide, section 13.2): real-valued visible units v in R^D, binary hidden units h,
 *   E(v, h) = Σ_i (v_i - a_i)² / 2σ_i² - b^T h - Σ_ij (v_i / σ_i) W_ij h_j.
 * The conditionals are a factorized Gaussian and the usual sigmoid,
 *   p(v_i | h) = N(a_i + σ_i (W h)_i, σ_i²),  p(h_j = 1 | v) = σ(b_j + Σ_i (v_i / σ_i) W_ij),
 * the hidden units sum out into the free energy
 *   F(v) = Σ_i (v_i - a_i)² / 2σ_i² - Σ_j softplus(b_j + Σ_i (v_i / σ_i) W_ij),
 * and the visible units integrate out in closed form (a Gaussian integral for each h),
 *   log Z = log Σ_h exp(b^T h + Σ_i [a_i (W h)_i / σ_i + (W h)_i² / 2 + log(√(2π) σ_i)]).
 * The σ_i are fixed, not learned: the data's per-pixel standard deviations make this the model of
 * standardized pixels with unit variances that Hinton's guide recommends, in grey levels.
 */
import * as tf from '@tensorflow/tfjs';
import { checkFiniteValues, checkOptions, OptionKeys } from '../../runtime/checks';
import { nextSeed } from '../../runtime/random';
import { progress } from '../../runtime/progress';
import { seed } from '../../runtime/random';
import { assignVariables, saveCheckpoint } from '../../training/checkpoint';
import { bernoulli, forEachStateChunk, logAddExp, MAX_ENUMERATED_UNITS } from './binary';
import { ContrastiveGradients, contrastiveGradients } from './rbm';
import {
  CdOptions,
  cdOptions,
  CdTrainer,
  checkpointOfRecipe,
  restoreFromCheckpoint,
  recipeConfig,
  ContrastiveModel,
  ScheduleOptions,
  trainEpochs,
} from './train';

export interface GaussianRbmInit {
  /** σ_i per visible unit, [D] (default 1). */
  sigma?: tf.Tensor1D;
  /** Initial visible biases a, [D] (default 0; the data mean is the natural start). */
  visibleBias?: tf.Tensor1D;
  /** Standard deviation of the initial weights (default 0.01). */
  weightScale?: number;
}

const INIT_KEYS: OptionKeys<GaussianRbmInit> = {
  sigma: true,
  visibleBias: true,
  weightScale: true,
};

function checkVector(name: string, t: tf.Tensor | undefined, n: number): void {
  if (t && (t.rank !== 1 || t.shape[0] !== n))
    throw new Error(
      `GaussianBernoulliRBM: ${name} must have shape [${n}], got [${t.shape.join(', ')}]`,
    );
}

export class GaussianBernoulliRBM implements ContrastiveModel {
  readonly weights: tf.Variable<tf.Rank.R2>;
  readonly visibleBias: tf.Variable<tf.Rank.R1>;
  readonly hiddenBias: tf.Variable<tf.Rank.R1>;
  /** σ, [D] (fixed). */
  readonly sigma: tf.Tensor1D;

  constructor(
    readonly visible: number,
    readonly hidden: number,
    init: GaussianRbmInit = {},
  ) {
    checkOptions('GaussianBernoulliRBM', init, INIT_KEYS);
    for (const [name, n] of [
      ['visible', visible],
      ['hidden', hidden],
    ] as const) {
      if (!Number.isInteger(n) || n < 1)
        throw new Error(`GaussianBernoulliRBM: ${name} must be a positive integer, got ${n}`);
    }
    const scale = init.weightScale ?? 0.01;
    if (!(scale >= 0) || !Number.isFinite(scale))
      throw new Error(
        `GaussianBernoulliRBM: weightScale must be a finite number >= 0, got ${scale}`,
      );
    checkVector('sigma', init.sigma, visible);
    checkVector('visibleBias', init.visibleBias, visible);
    if (init.sigma && !init.sigma.dataSync().every((s) => s > 0 && Number.isFinite(s)))
      throw new Error('GaussianBernoulliRBM: every sigma must be a finite number > 0');
    this.sigma = init.sigma ? init.sigma.clone() : tf.ones([visible]);
    this.weights = tf.variable(
      tf.tidy(() => tf.randomNormal([visible, hidden], 0, scale, 'float32', nextSeed())),
    ) as tf.Variable<tf.Rank.R2>;
    this.visibleBias = tf.variable(
      init.visibleBias ? init.visibleBias.clone() : tf.zeros([visible]),
    );
    this.hiddenBias = tf.variable(tf.zeros([hidden]));
  }

  /** The trained parameters by name (σ is part of the recipe, not of the checkpoint). */
  namedVariables(): Record<string, tf.Variable> {
    return { weights: this.weights, visibleBias: this.visibleBias, hiddenBias: this.hiddenBias };
  }

  checkVisible(name: string, v: tf.Tensor): void {
    if (!(v instanceof tf.Tensor) || v.rank !== 2 || v.shape[1] !== this.visible) {
      const got = v instanceof tf.Tensor ? `[${v.shape.join(', ')}]` : typeof v;
      throw new Error(
        `${name} must be a [batch, ${this.visible}] tensor of real values, got ${got}`,
      );
    }
  }
  /** Gaussian units take any real values. */
  checkData(who: string, images: Float32Array): void {
    checkFiniteValues(who, 'images', images);
  }

  /** b + (v / σ)^T W, [batch, H]. */
  hiddenField(v: tf.Tensor2D): tf.Tensor2D {
    this.checkVisible('v', v);
    return tf.tidy(() => tf.add(tf.matMul(tf.div(v, this.sigma), this.weights), this.hiddenBias));
  }

  hiddenProbs(v: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.sigmoid(this.hiddenField(v)));
  }

  sampleHidden(v: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => bernoulli(this.hiddenProbs(v)) as tf.Tensor2D);
  }

  /** E[v | h] = a + σ ⊙ (W h), [batch, D]. */
  visibleMean(h: tf.Tensor2D): tf.Tensor2D {
    if (!(h instanceof tf.Tensor) || h.rank !== 2 || h.shape[1] !== this.hidden)
      throw new Error(
        `h must be a [batch, ${this.hidden}] tensor of binary units, got ` +
          `${h instanceof tf.Tensor ? `[${h.shape.join(', ')}]` : typeof h}`,
      );
    return tf.tidy(() =>
      tf.add(tf.mul(tf.matMul(h, this.weights, false, true), this.sigma), this.visibleBias),
    );
  }

  /** v ~ N(a + σ ⊙ (W h), σ²). */
  sampleVisible(h: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() =>
      tf.add(
        this.visibleMean(h),
        tf.mul(
          tf.randomNormal([h.shape[0], this.visible], 0, 1, 'float32', nextSeed()),
          this.sigma,
        ),
      ),
    );
  }

  /** n draws from N(a, σ²): where persistent chains start. */
  randomVisible(n: number): tf.Tensor2D {
    return tf.tidy(() =>
      tf.add(
        tf.mul(tf.randomNormal([n, this.visible], 0, 1, 'float32', nextSeed()), this.sigma),
        this.visibleBias,
      ),
    );
  }

  /**
   * The CD statistics of this energy: with x = v / σ, dW = <x h^T>_data - <x h^T>_model, db as for
   * the binary RBM, and da = <(v - a) / σ²>_data - <(v - a) / σ²>_model = (<x> - <x>) / σ.
   */
  contrastiveGradients(
    v0: tf.Tensor2D,
    ph0: tf.Tensor2D,
    vk: tf.Tensor2D,
    phk: tf.Tensor2D,
  ): ContrastiveGradients {
    return tf.tidy(() => {
      const g = contrastiveGradients(tf.div(v0, this.sigma), ph0, tf.div(vk, this.sigma), phk);
      return {
        weights: g.weights,
        visibleBias: tf.div(g.visibleBias, this.sigma),
        hiddenBias: g.hiddenBias,
      } as ContrastiveGradients & tf.TensorContainerObject;
    });
  }

  /** E(v, h) per row, [batch]. */
  energy(v: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor1D {
    this.checkVisible('energy(v)', v);
    return tf.tidy(() => {
      const quadratic = tf.sum(
        tf.div(tf.square(tf.sub(v, this.visibleBias)), tf.mul(tf.square(this.sigma), 2)),
        1,
      );
      const interaction = tf.sum(tf.mul(tf.matMul(tf.div(v, this.sigma), this.weights), h), 1);
      return tf.sub(
        quadratic,
        tf.add(tf.sum(tf.mul(h, this.hiddenBias), 1), interaction),
      ) as tf.Tensor1D;
    });
  }

  /** F(v) per row (see the file comment): P(v) = exp(-F(v)) / Z. */
  freeEnergy(v: tf.Tensor2D): tf.Tensor1D {
    this.checkVisible('freeEnergy(v)', v);
    return tf.tidy(
      () =>
        tf.sub(
          tf.sum(
            tf.div(tf.square(tf.sub(v, this.visibleBias)), tf.mul(tf.square(this.sigma), 2)),
            1,
          ),
          tf.sum(tf.softplus(this.hiddenField(v)), 1),
        ) as tf.Tensor1D,
    );
  }

  /** Exact log Z by enumerating the hidden states (H <= 20) with the Gaussian integral over v. */
  logPartitionExact(): number {
    if (this.hidden > MAX_ENUMERATED_UNITS)
      throw new Error(
        `logPartitionExact: ${this.hidden} hidden units, more than the ${MAX_ENUMERATED_UNITS} ` +
          `this kit enumerates`,
      );
    const gaussian = tf.tidy(
      () => tf.sum(tf.log(tf.mul(this.sigma, Math.sqrt(2 * Math.PI)))).dataSync()[0],
    );
    let logZ = -Infinity;
    forEachStateChunk(this.hidden, (h) => {
      const c = tf.matMul(h, this.weights, false, true); // (W h), [chunk, D]
      // b^T h + Σ_i [a_i c_i / σ_i + c_i² / 2]
      const term = tf.add(
        tf.sum(tf.mul(h, this.hiddenBias), 1),
        tf.sum(tf.add(tf.div(tf.mul(c, this.visibleBias), this.sigma), tf.div(tf.square(c), 2)), 1),
      );
      logZ = logAddExp(logZ, tf.logSumExp(term).dataSync()[0] + gaussian);
    });
    return logZ;
  }

  dispose(): void {
    tf.dispose([this.weights, this.visibleBias, this.hiddenBias, this.sigma]);
  }
}

/**
 * Per-pixel mean and standard deviation of `images` [n * width] (the σ_i of a Gaussian–Bernoulli
 * RBM), each standard deviation raised to at least `minSigma` (pixels that are almost always blank
 * would otherwise get σ_i near 0 and enormous v_i / σ_i).
 */
export function pixelMoments(
  images: Float32Array,
  width: number,
  minSigma: number,
): { mean: tf.Tensor1D; sigma: tf.Tensor1D } {
  const n = images.length / width;
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(n) || n < 2)
    throw new Error(
      `pixelMoments: need at least 2 whole images of ${width} pixels, got ${images.length} values`,
    );
  if (!(minSigma > 0)) throw new Error(`pixelMoments: minSigma must be > 0, got ${minSigma}`);
  const mean = new Float64Array(width);
  const square = new Float64Array(width);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < width; i++) {
      const x = images[k * width + i];
      if (!Number.isFinite(x))
        throw new Error(`pixelMoments: image ${k}, pixel ${i} is ${x}; pixels must be finite`);
      mean[i] += x / n;
      square[i] += (x * x) / n;
    }
  }
  const sigma = mean.map((m, i) => Math.max(minSigma, Math.sqrt(Math.max(0, square[i] - m * m))));
  return {
    mean: tf.tensor1d(Float32Array.from(mean)),
    sigma: tf.tensor1d(Float32Array.from(sigma)),
  };
}

export interface GaussianRbmRecipe {
  hidden: number;
  /** σ_i = max(minSigma, standard deviation of pixel i over the training images). */
  minSigma: number;
  /** CD or PCD options and the schedule. */
  fit: CdOptions & ScheduleOptions;
  seed: number;
  /** Number of training images (a checkpoint is only reused for the same data). */
  images: number;
}

const RECIPE_KEYS: OptionKeys<GaussianRbmRecipe> = {
  hidden: true,
  minSigma: true,
  fit: true,
  seed: true,
  images: true,
};

export interface GaussianRbmEpochRow {
  epoch: number;
  /** Σ_i (v_i - E[v_i | h = p(h | v)])² per image on 1,000 training images (grey levels²). */
  reconstruction: number;
  /** Cumulative training time (s). */
  seconds: number;
}

interface GaussianRbmCheckpointConfig {
  recipe: GaussianRbmRecipe;
  history: GaussianRbmEpochRow[];
  seconds: number;
}

/**
 * Trains a Gaussian–Bernoulli RBM by `recipe` on real-valued `images` [n * D] (e.g. grey levels in
 * [0, 1]) with σ and the starting visible biases from the data's pixel moments, and saves it under
 * `dir`; or loads it when a checkpoint of the same recipe is there. Yields to the event loop after
 * every update.
 */
export async function trainOrLoadGaussianRbm(
  dir: string,
  images: Float32Array,
  visible: number,
  recipe: GaussianRbmRecipe,
  onEpoch?: (row: GaussianRbmEpochRow) => void,
): Promise<{
  rbm: GaussianBernoulliRBM;
  history: GaussianRbmEpochRow[];
  seconds: number;
  loaded: boolean;
  /** True when an interrupt stopped training early (such a model is not saved). */
  interrupted: boolean;
}> {
  checkOptions('trainOrLoadGaussianRbm', recipe, RECIPE_KEYS);
  if (images.length !== recipe.images * visible)
    throw new Error(
      `trainOrLoadGaussianRbm: recipe.images = ${recipe.images} but images hold ` +
        `${images.length / visible} images of ${visible} pixels`,
    );
  const saved = checkpointOfRecipe(
    dir,
    recipe,
    recipeConfig<GaussianRbmCheckpointConfig>('gaussian-rbm'),
  );
  if (saved) {
    const { sigma, ...variables } = saved.tensors;
    const rbm = restoreFromCheckpoint(
      saved.tensors,
      () =>
        new GaussianBernoulliRBM(visible, recipe.hidden, {
          sigma: sigma as tf.Tensor1D,
          weightScale: 0,
        }),
      (model) => assignVariables(model.namedVariables(), variables, dir),
    );
    return {
      rbm,
      history: saved.config.history,
      seconds: saved.config.seconds,
      loaded: true,
      interrupted: false,
    };
  }
  seed(recipe.seed);
  const { mean, sigma } = pixelMoments(images, visible, recipe.minSigma);
  const rbm = new GaussianBernoulliRBM(visible, recipe.hidden, { sigma, visibleBias: mean });
  tf.dispose([mean, sigma]);
  const rows = Math.min(1000, recipe.images);
  const monitor = tf.tensor2d(images.subarray(0, rows * visible), [rows, visible]);
  const trainer = new CdTrainer(rbm, cdOptions(recipe.fit));
  const batchSize = recipe.fit.batchSize ?? 100;
  const bar = progress(recipe.fit.epochs * Math.floor(recipe.images / batchSize), {
    label: `Gaussian-Bernoulli RBM (${visible} x ${recipe.hidden})`,
  });
  const history: GaussianRbmEpochRow[] = [];
  const started = Date.now();
  let interrupted: boolean;
  try {
    interrupted = await trainEpochs(trainer, images, visible, {
      ...recipe.fit,
      label: 'Gaussian-Bernoulli RBM training',
      onStep: () => bar.tick(),
      onEpoch: (epoch) => {
        const reconstruction = tf.tidy(
          () =>
            tf
              .mean(
                tf.sum(tf.squaredDifference(monitor, rbm.visibleMean(rbm.hiddenProbs(monitor))), 1),
              )
              .dataSync()[0],
        );
        if (!Number.isFinite(reconstruction))
          throw new Error(
            `trainOrLoadGaussianRbm: training diverged in epoch ${epoch} (reconstruction error ` +
              `${reconstruction}); lower the learning rate`,
          );
        const row = { epoch, reconstruction, seconds: (Date.now() - started) / 1000 };
        history.push(row);
        onEpoch?.(row);
      },
    });
  } catch (err) {
    rbm.dispose();
    throw err;
  } finally {
    trainer.dispose();
    monitor.dispose();
    bar.done();
  }
  const seconds = (Date.now() - started) / 1000;
  // an interrupted training is returned as it is and not saved
  if (!interrupted)
    saveCheckpoint<GaussianRbmCheckpointConfig>(
      dir,
      { recipe, history, seconds },
      { ...rbm.namedVariables(), sigma: rbm.sigma },
    );
  return { rbm, history, seconds, loaded: false, interrupted };
}
