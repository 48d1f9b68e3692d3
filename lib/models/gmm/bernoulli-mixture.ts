/**
 * Mixtures of Bernoullis over binary vectors (binarized MNIST), fitted by EM:
 *   p(x) = sum_k pi_k prod_d mu_kd^x_d (1 - mu_kd)^(1 - x_d)
 *   log p(x | k) = x . (log mu_k - log(1 - mu_k)) + sum_d log(1 - mu_kd)
 *     (one matrix product for all k)
 *   E-step: r_nk = softmax_k(log pi_k + log p(x_n | k));  M-step: pi_k = N_k / N,
 *   mu_k = (sum_n r_nk x_n + a) / (N_k + 2a): the MAP estimate under a Beta(1 + a, 1 + a) prior,
 *   which keeps every log mu finite. EM never decreases the penalized objective
 *   log p(X) + log p(mu).
 * The data are streamed in chunks, so 60,000 images and K = 100 cost about two 60000x784x100
 * products per iteration.
 */
import * as tf from '@tensorflow/tfjs';
import {
  checkInteger,
  checkNonNegative,
  checkOptions,
  checkPositive,
  checkValues,
  OptionKeys,
} from '../../runtime/checks';
import { runLoop } from '../../runtime/loop';
import { Categorical } from '../../distributions/categorical';
import { Bernoulli } from '../../distributions/bernoulli';
import { Independent } from '../../distributions/independent';
import { MixtureSameFamily } from '../../distributions/mixture';
import { permutation } from '../../runtime/random';

/** Binary images as a flat array, as data.ImageDataset provides them. */
export interface BinaryImages {
  images: Float32Array;
  size: number;
  pixels: number;
}

export interface BernoulliMixtureFitOptions {
  /** EM iterations (default 50). */
  iterations?: number;
  /** Stop when the objective per image improves by less than this (default 1e-4 nats). */
  tolerance?: number;
  /** Beta prior pseudo-count a (default 1): mu = (sum r x + a) / (N_k + 2a). */
  pseudoCount?: number;
  /** Images per chunk of the E-step (default 10000). */
  chunkSize?: number;
  /**
   * Called after each iteration with the log-likelihood per training image of the parameters before
   * it.
   */
  onIteration?: (iteration: number, logLikelihood: number) => void;
}

const FIT_KEYS: OptionKeys<BernoulliMixtureFitOptions> = {
  iterations: true,
  tolerance: true,
  pseudoCount: true,
  chunkSize: true,
  onIteration: true,
};

export interface BernoulliMixtureFit {
  model: BernoulliMixture;
  /** Training log-likelihood per image (nats) of the parameters before each M-step. */
  logLikelihood: number[];
  /** The penalized objective (log-likelihood + log prior) per image, which EM never decreases. */
  objective: number[];
  converged: boolean;
  /** True when an interrupt stopped EM early; `model` is then the last completed iteration's. */
  interrupted: boolean;
}

function checkImages(data: BinaryImages, what: string): void {
  if (
    !data ||
    !(data.images instanceof Float32Array) ||
    data.size < 1 ||
    data.images.length !== data.size * data.pixels
  ) {
    throw new Error(
      `${what}: data must be binary images { images: Float32Array, size, pixels } such as ` +
        `data.loadBinarizedMnist('train')`,
    );
  }
  checkValues(
    what,
    'every pixel',
    data.images,
    (v) => v === 0 || v === 1,
    '0 or 1 (a mixture of Bernoullis needs binary data)',
    "Binarize first, e.g. data.loadBinarizedMnist('train')",
  );
}

/** Chunks of the data as [c, D] tensors, created one at a time and disposed after use. */
function* chunks(data: BinaryImages, chunkSize: number): Generator<tf.Tensor2D> {
  for (let start = 0; start < data.size; start += chunkSize) {
    const end = Math.min(data.size, start + chunkSize);
    const t = tf.tensor2d(data.images.subarray(start * data.pixels, end * data.pixels), [
      end - start,
      data.pixels,
    ]);
    try {
      yield t;
    } finally {
      t.dispose();
    }
  }
}

export class BernoulliMixture {
  readonly k: number;
  readonly dim: number;

  /** logWeights [K] (log pi), probs [K, D] in (0, 1). The model owns these tensors. */
  constructor(
    readonly logWeights: tf.Tensor1D,
    readonly probs: tf.Tensor2D,
  ) {
    const [k, d] = probs.shape;
    if (logWeights.rank !== 1 || logWeights.shape[0] !== k)
      throw new Error(
        `BernoulliMixture: logWeights must have shape [${k}], got [${logWeights.shape}]`,
      );
    this.k = k;
    this.dim = d;
  }

  /** [K] mixing weights pi. */
  get weights(): tf.Tensor1D {
    return tf.exp(this.logWeights);
  }

  /**
   * log pi_k + log p(x_n | k), [n, K]: a single matrix product with the logits log mu - log(1 -
   * mu).
   */
  jointLogProb(x: tf.Tensor2D): tf.Tensor2D {
    if (x.rank !== 2 || x.shape[1] !== this.dim)
      throw new Error(`BernoulliMixture: x must have shape [n, ${this.dim}], got [${x.shape}]`);
    return tf.tidy(() => {
      // [D, K]
      const logitsT = tf.transpose(tf.sub(tf.log(this.probs), tf.log1p(tf.neg(this.probs))));
      const bias = tf.add(tf.sum(tf.log1p(tf.neg(this.probs)), 1), this.logWeights); // [K]
      return tf.add(tf.matMul(x, logitsT), bias);
    });
  }

  /** log p(x_n), [n]. */
  logProb(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => tf.logSumExp(this.jointLogProb(x), 1));
  }

  /** Mean log-likelihood per image (nats), streamed in chunks. */
  logLikelihood(data: BinaryImages, chunkSize = 10000): number {
    checkImages(data, 'BernoulliMixture.logLikelihood');
    let total = 0;
    for (const x of chunks(data, chunkSize)) {
      const s = tf.tidy(() => tf.sum(this.logProb(x)));
      total += s.dataSync()[0];
      s.dispose();
    }
    return total / data.size;
  }

  /** p(k | x_n), [n, K]. */
  responsibilities(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.softmax(this.jointLogProb(x), -1)) as tf.Tensor2D;
  }

  /** The mixture as a distribution: Categorical(pi) over K products of D Bernoullis. */
  toDistribution(): MixtureSameFamily {
    return new MixtureSameFamily(
      new Categorical({ logits: this.logWeights }),
      new Independent(new Bernoulli({ probs: this.probs }), 1),
    );
  }

  /** The two-step recipe: k ~ Categorical(pi), then each pixel x_d ~ Bernoulli(mu_kd). */
  sample(n: number): { x: tf.Tensor2D; component: tf.Tensor1D } {
    const { x, component } = tf.tidy(() => {
      const s = this.toDistribution().sampleWithComponents(n);
      return { x: s.x as tf.Tensor2D, component: s.component as tf.Tensor1D };
    });
    return { x, component };
  }

  /** Free parameters: (K - 1) + K D. */
  get numParameters(): number {
    return this.k - 1 + this.k * this.dim;
  }

  /**
   * Fits K components by EM; initial means blend K random images with the mean image. A kit loop:
   * an interrupt stops it at the next chunk of the E-step, keeping the last completed iteration.
   */
  static async fit(
    data: BinaryImages,
    k: number,
    options: BernoulliMixtureFitOptions = {},
  ): Promise<BernoulliMixtureFit> {
    const who = 'BernoulliMixture.fit';
    checkOptions(who, options, FIT_KEYS);
    checkImages(data, who);
    checkInteger(who, 'k', k, 1, data.size);
    const iterations = options.iterations ?? 50;
    checkInteger(who, 'iterations', iterations);
    const a = options.pseudoCount ?? 1;
    checkPositive(who, 'pseudoCount (it keeps log mu finite)', a);
    const chunkSize = options.chunkSize ?? 10000;
    checkInteger(who, 'chunkSize', chunkSize);
    const tolerance = options.tolerance ?? 1e-4;
    checkNonNegative(who, 'tolerance', tolerance);

    let model = BernoulliMixture.initialize(data, k, a);
    const logLikelihood: number[] = [];
    const objective: number[] = [];
    let converged = false;
    const interrupted = await runLoop('EM', async (loop) => {
      for (let it = 0; it < iterations; it++) {
        // E-step, accumulating the sufficient statistics N_k and sum_n r_nk x_n chunk by chunk
        let nk = tf.zeros([k]);
        let sx = tf.zeros([k, data.pixels]);
        let total = 0;
        for (const x of chunks(data, chunkSize)) {
          if (await loop.shouldStop()) {
            tf.dispose([nk, sx]);
            loop.stop(
              `iteration ${it + 1}/${iterations}`,
              'the model keeps its last completed one',
            );
            return true;
          }
          const [nkNext, sxNext, ll] = tf.tidy(() => {
            const joint = model.jointLogProb(x);
            const logPx = tf.logSumExp(joint, 1, true);
            const r = tf.exp(tf.sub(joint, logPx));
            return [
              tf.add(nk, tf.sum(r, 0)),
              tf.add(sx, tf.matMul(tf.transpose(r), x)),
              tf.sum(logPx),
            ];
          });
          tf.dispose([nk, sx]);
          nk = nkNext;
          sx = sxNext;
          total += ll.dataSync()[0];
          ll.dispose();
        }
        const ll = total / data.size;
        // log p(mu) = a sum_kd [log mu_kd + log(1 - mu_kd)] (+ a constant), per image
        const prior = tf.tidy(() =>
          tf.sum(tf.add(tf.log(model.probs), tf.log1p(tf.neg(model.probs)))).mul(a / data.size),
        );
        logLikelihood.push(ll);
        objective.push(ll + prior.dataSync()[0]);
        prior.dispose();
        options.onIteration?.(it, ll);
        // M-step
        const [logWeights, probs] = tf.tidy(() => [
          tf.log(tf.maximum(tf.div(nk, data.size), 1e-30)),
          tf.div(tf.add(sx, a), tf.add(tf.expandDims(nk, 1), 2 * a)),
        ]);
        tf.dispose([nk, sx]);
        model.dispose();
        model = new BernoulliMixture(logWeights as tf.Tensor1D, probs as tf.Tensor2D);
        const n = objective.length;
        if (n > 1 && Math.abs(objective[n - 1] - objective[n - 2]) < tolerance) {
          converged = true;
          break;
        }
      }
      return false;
    });
    return { model, logLikelihood, objective, converged, interrupted };
  }

  /**
   * mu_k = (x_i + a) / (1 + 2a) blended half-and-half with the smoothed mean image, for K random
   * images x_i.
   */
  static initialize(data: BinaryImages, k: number, pseudoCount = 1): BernoulliMixture {
    const picks = permutation(data.size).subarray(0, k);
    const d = data.pixels;
    const mean = new Float64Array(d);
    for (let i = 0; i < data.size; i++)
      for (let j = 0; j < d; j++) mean[j] += data.images[i * d + j] / data.size;
    const probs = new Float32Array(k * d);
    picks.forEach((img, c) => {
      for (let j = 0; j < d; j++) {
        const own = (data.images[img * d + j] + pseudoCount) / (1 + 2 * pseudoCount);
        probs[c * d + j] = 0.5 * own + 0.5 * mean[j] * (1 - 2e-3) + 1e-3;
      }
    });
    return new BernoulliMixture(
      tf.fill([k], -Math.log(k)) as tf.Tensor1D,
      tf.tensor2d(probs, [k, d]),
    );
  }

  dispose(): void {
    tf.dispose([this.logWeights, this.probs]);
  }
}
