/**
 * The binary-binary restricted Boltzmann machine (lectures 000, 001):
 *   E(v, h) = -(a^T v + b^T h + v^T W h),  P(v, h) = exp(-E(v, h)) / Z,
 *   v in {0,1}^D, h in {0,1}^H.
 * No connections within a layer, so both conditionals factorize:
 *   p(h_j = 1 | v) = sigmoid(b_j + (v^T W)_j),  p(v_i = 1 | h) = sigmoid(a_i + (W h)_i),
 * and the hidden units sum out of the marginal in closed form through the free energy
 *   F(v) = -a^T v - sum_j softplus(b_j + (v^T W)_j),  P(v) = exp(-F(v)) / Z.
 * Products with W^T use matMul's transpose flags: the kit's wasm kernels hand them to BLAS without
 * copying W.
 */
import * as tf from '@tensorflow/tfjs';
import { runLoop } from '../../runtime/loop';
import { checkInteger, checkOptions, checkValues } from '../../runtime/checks';
import {
  bernoulli,
  checkBinaryBatch,
  forEachStateChunk,
  logAddExp,
  MAX_ENUMERATED_UNITS,
} from './binary';

export interface RbmParameters {
  /** W, [visible, hidden]. */
  weights: tf.Tensor2D;
  /** a, [visible]. */
  visibleBias: tf.Tensor1D;
  /** b, [hidden]. */
  hiddenBias: tf.Tensor1D;
}

/**
 * F(v) = -a^T v - sum_j softplus(b_j + (v^T W)_j) of each row of v [batch, D], as a function of the
 * parameters.
 */
export function freeEnergyOf(v: tf.Tensor2D, p: RbmParameters): tf.Tensor1D {
  return tf.tidy(() => {
    const field = tf.add(tf.matMul(v, p.weights), p.hiddenBias);
    return tf.neg(
      tf.add(tf.sum(tf.mul(v, p.visibleBias), 1), tf.sum(tf.softplus(field), 1)),
    ) as tf.Tensor1D;
  });
}

export interface ContrastiveGradients {
  /** <v h^T>_data - <v h^T>_model, [D, H]. */
  weights: tf.Tensor2D;
  /** <v>_data - <v>_model, [D]. */
  visibleBias: tf.Tensor1D;
  /** <h>_data - <h>_model, [H]. */
  hiddenBias: tf.Tensor1D;
}

/**
 * The contrastive gradients of the log-likelihood, data minus model statistics, with the hidden
 * units averaged out: for data v0 [B, D] and chain states vk [M, D] with hidden probabilities ph0
 * [B, H], phk [M, H], dW = v0^T ph0 / B - vk^T phk / M, da = mean(v0) - mean(vk), db = mean(ph0) -
 * mean(phk). Each is one matrix product over the stacked phases [v0; vk], with weights c = [1/B;
 * -1/M].
 */
export function contrastiveGradients(
  v0: tf.Tensor2D,
  ph0: tf.Tensor2D,
  vk: tf.Tensor2D,
  phk: tf.Tensor2D,
): ContrastiveGradients {
  if (
    v0.shape[0] !== ph0.shape[0] ||
    vk.shape[0] !== phk.shape[0] ||
    v0.shape[1] !== vk.shape[1] ||
    ph0.shape[1] !== phk.shape[1]
  ) {
    throw new Error(
      `contrastiveGradients: shapes do not match: v0 [${v0.shape}], ph0 [${ph0.shape}], vk ` +
        `[${vk.shape}], phk [${phk.shape}]`,
    );
  }
  return tf.tidy(() => {
    const c = tf.concat([
      tf.fill([v0.shape[0], 1], 1 / v0.shape[0]),
      tf.fill([vk.shape[0], 1], -1 / vk.shape[0]),
    ]) as tf.Tensor2D;
    const visible = tf.concat([v0, vk]) as tf.Tensor2D;
    const hidden = tf.concat([ph0, phk]) as tf.Tensor2D;
    return {
      weights: tf.matMul(visible, tf.mul(hidden, c), true, false) as tf.Tensor2D,
      visibleBias: tf.reshape(tf.matMul(c, visible, true, false), [v0.shape[1]]) as tf.Tensor1D,
      hiddenBias: tf.reshape(tf.matMul(c, hidden, true, false), [ph0.shape[1]]) as tf.Tensor1D,
    };
  });
}

/** The CD weight gradient <v h^T>_data - <v h^T>_model alone (see contrastiveGradients). */
export function contrastiveWeightGradient(
  v0: tf.Tensor2D,
  ph0: tf.Tensor2D,
  vk: tf.Tensor2D,
  phk: tf.Tensor2D,
): tf.Tensor2D {
  const { weights, visibleBias, hiddenBias } = contrastiveGradients(v0, ph0, vk, phk);
  tf.dispose([visibleBias, hiddenBias]);
  return weights;
}

export interface RbmInit {
  /** Standard deviation of the initial weights (default 0.01, Hinton's practical guide). */
  weightScale?: number;
  /** Initial visible biases, e.g. logit of the training pixel means (default 0). */
  visibleBias?: tf.Tensor1D;
}

export class RBM {
  readonly weights: tf.Variable<tf.Rank.R2>;
  readonly visibleBias: tf.Variable<tf.Rank.R1>;
  readonly hiddenBias: tf.Variable<tf.Rank.R1>;

  constructor(
    readonly visible: number,
    readonly hidden: number,
    init: RbmInit = {},
  ) {
    checkOptions('RBM', init, { weightScale: true, visibleBias: true });
    checkInteger('RBM', 'visible', visible);
    checkInteger('RBM', 'hidden', hidden);
    const scale = init.weightScale ?? 0.01;
    if (!(scale >= 0) || !Number.isFinite(scale))
      throw new Error(`RBM: weightScale must be a finite number >= 0, got ${scale}`);
    if (
      init.visibleBias &&
      (init.visibleBias.rank !== 1 || init.visibleBias.shape[0] !== visible)
    ) {
      throw new Error(
        `RBM: visibleBias must have shape [${visible}], got [${init.visibleBias.shape.join(', ')}]`,
      );
    }
    // weightScale 0 (a model whose weights are assigned next, as when loading) draws no random
    // number, so loading leaves the kit's random stream where it was.
    this.weights = tf.variable(
      tf.tidy(() =>
        scale === 0 ? tf.zeros([visible, hidden]) : tf.randomNormal([visible, hidden], 0, scale),
      ) as tf.Tensor2D,
    );
    this.visibleBias = tf.variable(
      init.visibleBias ? init.visibleBias.clone() : tf.zeros([visible]),
    );
    this.hiddenBias = tf.variable(tf.zeros([hidden]));
  }

  /** An RBM with the given parameters (copied). */
  static fromParameters(p: RbmParameters): RBM {
    if (p.weights.rank !== 2)
      throw new Error(
        `RBM.fromParameters: weights must be [visible, hidden], got ` +
          `[${p.weights.shape.join(', ')}]`,
      );
    const [visible, hidden] = p.weights.shape;
    if (p.visibleBias.shape[0] !== visible || p.visibleBias.rank !== 1)
      throw new Error(
        `RBM.fromParameters: visibleBias must be [${visible}], got ` +
          `[${p.visibleBias.shape.join(', ')}]`,
      );
    if (p.hiddenBias.shape[0] !== hidden || p.hiddenBias.rank !== 1)
      throw new Error(
        `RBM.fromParameters: hiddenBias must be [${hidden}], got ` +
          `[${p.hiddenBias.shape.join(', ')}]`,
      );
    const rbm = new RBM(visible, hidden, { weightScale: 0 });
    rbm.assign(p);
    return rbm;
  }

  /**
   * A random RBM for tests and demos: W ~ N(0, weightScale^2), a ~ N(0, biasScale^2), b ~ N(0,
   * biasScale^2).
   */
  static random(visible: number, hidden: number, weightScale: number, biasScale = 0.5): RBM {
    const p = tf.tidy(() => ({
      weights: tf.randomNormal([visible, hidden], 0, weightScale) as tf.Tensor2D,
      visibleBias: tf.randomNormal([visible], 0, biasScale) as tf.Tensor1D,
      hiddenBias: tf.randomNormal([hidden], 0, biasScale) as tf.Tensor1D,
    }));
    const rbm = RBM.fromParameters(p);
    tf.dispose([p.weights, p.visibleBias, p.hiddenBias]);
    return rbm;
  }

  /** Overwrites the parameters with copies of `p`. */
  assign(p: RbmParameters): void {
    this.weights.assign(p.weights);
    this.visibleBias.assign(p.visibleBias);
    this.hiddenBias.assign(p.hiddenBias);
  }

  /** The parameters by name (for checkpoints). */
  namedVariables(): Record<string, tf.Variable> {
    return { weights: this.weights, visibleBias: this.visibleBias, hiddenBias: this.hiddenBias };
  }

  /** Throws unless `v` is a [batch, D] tensor of binary units. */
  checkVisible(name: string, v: tf.Tensor): void {
    checkBinaryBatch(name, v, this.visible);
  }

  /** Binary units take data as {0, 1} states or as probabilities of 1 (grey levels in [0, 1]). */
  checkData(who: string, images: Float32Array): void {
    checkValues(
      who,
      'images',
      images,
      (v) => v >= 0 && v <= 1,
      'pixel intensities in [0, 1]',
      'Scale raw bytes by 1/255 (data.loadMnist does)',
    );
  }

  /** The CD statistics of this energy (contrastiveGradients). */
  contrastiveGradients(
    v0: tf.Tensor2D,
    ph0: tf.Tensor2D,
    vk: tf.Tensor2D,
    phk: tf.Tensor2D,
  ): ContrastiveGradients {
    return contrastiveGradients(v0, ph0, vk, phk);
  }

  /** n states of uniformly random pixels (where PCD's chains start). */
  randomVisible(n: number): tf.Tensor2D {
    return tf.tidy(() => bernoulli(tf.fill([n, this.visible], 0.5)) as tf.Tensor2D);
  }

  /** b + v^T W, [batch, H]: the input of each hidden unit. */
  hiddenField(v: tf.Tensor2D): tf.Tensor2D {
    checkBinaryBatch('v', v, this.visible);
    return tf.tidy(() => tf.add(tf.matMul(v, this.weights), this.hiddenBias));
  }

  /** p(h_j = 1 | v) = sigmoid(b_j + (v^T W)_j), [batch, H]. */
  hiddenProbs(v: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.sigmoid(this.hiddenField(v)));
  }

  /** p(v_i = 1 | h) = sigmoid(a_i + (W h)_i), [batch, D]. */
  visibleProbs(h: tf.Tensor2D): tf.Tensor2D {
    checkBinaryBatch('h', h, this.hidden);
    return tf.tidy(
      () =>
        tf.sigmoid(
          tf.add(tf.matMul(h, this.weights, false, true), this.visibleBias),
        ) as tf.Tensor2D,
    );
  }

  /** E[v | h] = p(v = 1 | h), as for the Gaussian-Bernoulli RBM's visibleMean. */
  visibleMean(h: tf.Tensor2D): tf.Tensor2D {
    return this.visibleProbs(h);
  }

  /** h ~ p(h | v). */
  sampleHidden(v: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => bernoulli(this.hiddenProbs(v)) as tf.Tensor2D);
  }

  /** v ~ p(v | h). */
  sampleVisible(h: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => bernoulli(this.visibleProbs(h)) as tf.Tensor2D);
  }

  /**
   * `steps` steps of block Gibbs sampling v -> h ~ p(h|v) -> v ~ p(v|h) from v0. Returns the final
   * binary visible states and their mean-field probabilities p(v|h) (smoother to look at), and the
   * steps done: a kit loop, an interrupt stops it after the step in progress (`interrupted`).
   */
  async gibbs(
    v0: tf.Tensor2D,
    steps: number,
  ): Promise<{ v: tf.Tensor2D; probs: tf.Tensor2D; steps: number; interrupted: boolean }> {
    if (!Number.isInteger(steps) || steps < 1)
      throw new Error(`gibbs: steps must be a positive integer, got ${steps}`);
    checkBinaryBatch('gibbs(v0)', v0, this.visible);
    let v = v0.clone();
    let probs = tf.zeros(v0.shape) as tf.Tensor2D;
    let done = 0;
    const interrupted = await runLoop('Gibbs sampling', async (loop) => {
      for (; done < steps; done++) {
        if (await loop.shouldStop()) {
          loop.stop(`step ${done}/${steps}`, 'the chains keep their last completed step');
          return true;
        }
        const next = tf.tidy(() => {
          const p = this.visibleProbs(this.sampleHidden(v));
          return { p, v: bernoulli(p) as tf.Tensor2D };
        });
        tf.dispose([v, probs]);
        v = next.v;
        probs = next.p;
      }
      return false;
    });
    return { v, probs, steps: done, interrupted };
  }

  /** E(v, h) = -(a^T v + b^T h + v^T W h), [batch]. */
  energy(v: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor1D {
    checkBinaryBatch('energy(v)', v, this.visible);
    checkBinaryBatch('energy(h)', h, this.hidden);
    if (v.shape[0] !== h.shape[0])
      throw new Error(`energy: v has ${v.shape[0]} rows but h has ${h.shape[0]}`);
    return tf.tidy(() => {
      const interaction = tf.sum(tf.mul(tf.matMul(v, this.weights), h), 1);
      return tf.neg(
        tf.add(
          tf.add(tf.sum(tf.mul(v, this.visibleBias), 1), tf.sum(tf.mul(h, this.hiddenBias), 1)),
          interaction,
        ),
      ) as tf.Tensor1D;
    });
  }

  /** F(v) = -a^T v - sum_j softplus(b_j + (v^T W)_j), [batch]: P(v) = exp(-F(v)) / Z. */
  freeEnergy(v: tf.Tensor2D): tf.Tensor1D {
    checkBinaryBatch('v', v, this.visible);
    return freeEnergyOf(v, this.parameters());
  }

  /** The parameters as tensors (the variables themselves, not copies). */
  parameters(): RbmParameters {
    return { weights: this.weights, visibleBias: this.visibleBias, hiddenBias: this.hiddenBias };
  }

  /**
   * Mean squared reconstruction error sum_i (v_i - p(v_i | h = p(h|v)))^2 per image (mean-field,
   * deterministic).
   */
  reconstructionError(v: tf.Tensor2D): number {
    return tf.tidy(
      () =>
        tf
          .mean(tf.sum(tf.squaredDifference(v, this.visibleProbs(this.hiddenProbs(v))), 1))
          .dataSync()[0],
    );
  }

  /**
   * Average log pseudo-likelihood sum_i log P(v_i | v_{-i}) per image, with every i (not a random
   * subset): log P(v_i | v_{-i}) = -softplus(F(v) - F(v with bit i flipped)). Flipping bit i adds
   * s_i W_i to the hidden field (s_i = 1 - 2 v_i), so all D flips cost one [D, H] tensor per image.
   */
  pseudoLogLikelihood(v: tf.Tensor2D): number {
    checkBinaryBatch('pseudoLogLikelihood(v)', v, this.visible);
    let total = 0;
    const n = v.shape[0];
    const chunk = Math.max(1, Math.floor(4e6 / (this.visible * this.hidden)));
    for (let start = 0; start < n; start += chunk) {
      total += tf.tidy(() => {
        const x = tf.slice(v, [start, 0], [Math.min(chunk, n - start), -1]) as tf.Tensor2D;
        const field = this.hiddenField(x); // [m, H]
        const flip = tf.sub(1, tf.mul(2, x)); // s_i, [m, D]
        const flippedField = tf.add(
          field.expandDims(1),
          tf.mul(flip.expandDims(2), this.weights.expandDims(0)),
        ); // [m, D, H]
        // F(v) - F(v') = s_i a_i + sum_j softplus(field'_j) - softplus(field_j)
        const delta = tf.add(
          tf.mul(flip, this.visibleBias),
          tf.sub(tf.sum(tf.softplus(flippedField), 2), tf.sum(tf.softplus(field), 1, true)),
        );
        return tf.neg(tf.sum(tf.softplus(delta))).dataSync()[0];
      });
    }
    return total / n;
  }

  /**
   * Exact log Z by summing over the smaller layer (at most 20 units):
   *   log Z = log sum_h exp(b^T h + sum_i softplus(a_i + (W h)_i))
   *   (or the same with v and h swapped).
   */
  logPartitionExact(): number {
    const small = Math.min(this.visible, this.hidden);
    if (small > MAX_ENUMERATED_UNITS) {
      throw new Error(
        `logPartitionExact: both layers have more than ${MAX_ENUMERATED_UNITS} units ` +
          `(${this.visible} visible, ${this.hidden} hidden); estimate log Z with ` +
          `annealedImportanceSampling instead`,
      );
    }
    let logZ = -Infinity;
    const overHidden = this.hidden <= this.visible;
    const chunk = Math.max(
      1,
      Math.min(1 << 14, Math.floor(2e7 / Math.max(this.visible, this.hidden))),
    );
    forEachStateChunk(
      small,
      (states) => {
        const term = overHidden
          ? tf.add(
              tf.sum(tf.mul(states, this.hiddenBias), 1),
              tf.sum(
                tf.softplus(tf.add(tf.matMul(states, this.weights, false, true), this.visibleBias)),
                1,
              ),
            )
          : tf.neg(this.freeEnergy(states));
        logZ = logAddExp(logZ, tf.logSumExp(term).dataSync()[0]);
      },
      chunk,
    );
    return logZ;
  }

  /** log P(v) = -F(v) - log Z per image, [batch], given log Z (exact or from AIS). */
  logProbability(v: tf.Tensor2D, logZ: number): tf.Tensor1D {
    if (!Number.isFinite(logZ))
      throw new Error(`logProbability: logZ must be a finite number, got ${logZ}`);
    return tf.tidy(() => tf.sub(tf.neg(this.freeEnergy(v)), logZ) as tf.Tensor1D);
  }

  /** Average log P(v) over the rows of `images` [n, D] in nats per image, in batches. */
  averageLogProbability(images: Float32Array, logZ: number, batchSize = 1000): number {
    const n = images.length / this.visible;
    if (!Number.isInteger(n) || n < 1)
      throw new Error(
        `averageLogProbability: ${images.length} values are not whole images of ` +
          `${this.visible} pixels`,
      );
    let total = 0;
    for (let start = 0; start < n; start += batchSize) {
      const m = Math.min(batchSize, n - start);
      total += tf.tidy(
        () =>
          tf
            .sum(
              this.logProbability(
                tf.tensor2d(images.subarray(start * this.visible, (start + m) * this.visible), [
                  m,
                  this.visible,
                ]),
                logZ,
              ),
            )
            .dataSync()[0],
      );
    }
    return total / n;
  }

  dispose(): void {
    tf.dispose([this.weights, this.visibleBias, this.hiddenBias]);
  }
}
