/**
 * Gaussian mixture models fitted by expectation-maximization (lecture note 004):
 *   p(x) = sum_k pi_k N(x; mu_k, Sigma_k)
 *   E-step: r_nk = pi_k N(x_n; mu_k, Sigma_k) / sum_j pi_j N(x_n; mu_j, Sigma_j)
 *   M-step: N_k = sum_n r_nk, pi_k = N_k / N, mu_k = sum_n r_nk x_n / N_k,
 *           Sigma_k = sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T / N_k
 * Each EM iteration cannot decrease the log-likelihood; fit() records it per iteration.
 */
import * as tf from '@tensorflow/tfjs';
import { runLoop } from '../../runtime/loop';
import { Categorical } from '../../distributions/categorical';
import { MixtureSameFamily } from '../../distributions/mixture';
import { MultivariateNormal } from '../../distributions/mvn';
import {
  checkFinite,
  checkFiniteValues,
  checkInteger,
  checkNonNegative,
  checkOptions,
  OptionKeys,
} from '../../runtime/checks';
import { random } from '../../runtime/random';

export interface GaussianMixtureFitOptions {
  /** Maximum EM iterations (default 200). */
  iterations?: number;
  /** Stop when the mean log-likelihood per point improves by less than this (default 1e-6 nats). */
  tolerance?: number;
  /**
   * Added to every covariance diagonal in the M-step so that no component collapses onto a point
   * (default 1e-6).
   */
  regularization?: number;
  /**
   * EM runs from different k-means++ initializations; the best final log-likelihood wins (default
   * 1).
   */
  restarts?: number;
  /** Called after each E-step with the iteration and the mean log-likelihood per point. */
  onIteration?: (iteration: number, logLikelihood: number) => void;
}

const FIT_KEYS: OptionKeys<GaussianMixtureFitOptions> = {
  iterations: true,
  tolerance: true,
  regularization: true,
  restarts: true,
  onIteration: true,
};

export interface GaussianMixtureFit {
  model: GaussianMixture;
  /**
   * Mean log-likelihood per point (nats) of the parameters before each M-step and after the last
   * one.
   */
  logLikelihood: number[];
  converged: boolean;
  /** True when an interrupt stopped EM early. */
  interrupted: boolean;
}

function checkData(x: tf.Tensor, what: string): void {
  if (x.rank !== 2 || x.shape[0] < 1)
    throw new Error(`${what}: x must be a [n, d] tensor of points, got shape [${x.shape}]`);
  checkFiniteValues(what, 'x', x, 'Remove or impute missing values first');
}

export class GaussianMixture {
  readonly k: number;
  readonly dim: number;

  /**
   * weights [K] (non-negative, summing to 1), means [K, d], covariances [K, d, d] (symmetric
   * positive definite). The model owns these tensors; dispose() releases them.
   */
  constructor(
    readonly weights: tf.Tensor1D,
    readonly means: tf.Tensor2D,
    readonly covariances: tf.Tensor3D,
  ) {
    const [k, d] = means.shape;
    if (weights.rank !== 1 || weights.shape[0] !== k)
      throw new Error(
        `GaussianMixture: weights must have shape [${k}] to match means [${means.shape}], got ` +
          `[${weights.shape}]`,
      );
    if (
      covariances.rank !== 3 ||
      covariances.shape[0] !== k ||
      covariances.shape[1] !== d ||
      covariances.shape[2] !== d
    ) {
      throw new Error(
        `GaussianMixture: covariances must have shape [${k}, ${d}, ${d}], got ` +
          `[${covariances.shape}]`,
      );
    }
    const w = Array.from(weights.dataSync());
    const total = w.reduce((s, v) => s + v, 0);
    if (w.some((v) => !(v >= 0)) || Math.abs(total - 1) > 1e-4) {
      throw new Error(
        `GaussianMixture: weights must be non-negative and sum to 1, got ` +
          `[${w.map((v) => v.toPrecision(3))}] (sum ${total})`,
      );
    }
    this.k = k;
    this.dim = d;
  }

  /**
   * The mixture as a distribution (sample, logProb, responsibilities); its tensors belong to the
   * caller's scope.
   */
  toDistribution(): MixtureSameFamily {
    return new MixtureSameFamily(
      new Categorical({ probs: this.weights }),
      new MultivariateNormal(this.means, { covariance: this.covariances }),
    );
  }

  /** log p(x_n) per point, [n]. */
  logProb(x: tf.Tensor2D): tf.Tensor1D {
    checkData(x, 'GaussianMixture.logProb');
    return tf.tidy(() => this.toDistribution().logProb(x)) as tf.Tensor1D;
  }

  /** The mean log-likelihood per point, (1/N) sum_n log p(x_n), in nats. */
  logLikelihood(x: tf.Tensor2D): number {
    const lp = tf.tidy(() => tf.mean(this.logProb(x)));
    const v = lp.dataSync()[0];
    lp.dispose();
    return v;
  }

  /** r_nk = p(k | x_n), [n, K]. */
  responsibilities(x: tf.Tensor2D): tf.Tensor2D {
    checkData(x, 'GaussianMixture.responsibilities');
    return tf.tidy(() => this.toDistribution().responsibilities(x)) as tf.Tensor2D;
  }

  /** Free parameters: (K - 1) weights + K d means + K d (d + 1) / 2 covariance entries. */
  get numParameters(): number {
    return gaussianMixtureParameterCount(this.k, this.dim);
  }

  /** BIC = -2 log p(X) + (number of parameters) log N; lower is better. */
  bic(x: tf.Tensor2D): number {
    const n = x.shape[0];
    return bic(n * this.logLikelihood(x), this.numParameters, n);
  }

  /**
   * The two-step recipe: k ~ Categorical(pi), then x ~ N(mu_k, Sigma_k). Returns draws [n, d] and
   * components [n].
   */
  sample(n: number): { x: tf.Tensor2D; component: tf.Tensor1D } {
    const { x, component } = tf.tidy(() => {
      const s = this.toDistribution().sampleWithComponents(n);
      return { x: s.x as tf.Tensor2D, component: s.component as tf.Tensor1D };
    });
    return { x, component };
  }

  /**
   * One EM iteration: returns the updated model and the mean log-likelihood per point of this one.
   */
  emStep(x: tf.Tensor2D, regularization = 1e-6): { model: GaussianMixture; logLikelihood: number } {
    checkData(x, 'GaussianMixture.emStep');
    if (x.shape[1] !== this.dim)
      throw new Error(
        `GaussianMixture.emStep: x has ${x.shape[1]} columns but the model has dimension ` +
          `${this.dim}`,
      );
    const [weights, means, covariances, ll] = tf.tidy(() => {
      // E-step: log r_nk = log pi_k + log N(x_n; mu_k, Sigma_k) - log p(x_n)
      const dist = this.toDistribution();
      // [n, K]
      const joint = tf.add(dist.components.logProb(tf.expandDims(x, 1)), dist.mixing.logProbs);
      const logPx = tf.logSumExp(joint, 1, true);
      const r = tf.exp(tf.sub(joint, logPx));
      // M-step
      const nk = tf.add(tf.sum(r, 0), 1e-10); // [K]
      const rT = tf.transpose(r); // [K, n]
      const mu = tf.div(tf.matMul(rT, x), tf.expandDims(nk, 1)); // [K, d]
      const diff = tf.sub(tf.expandDims(x, 0), tf.expandDims(mu, 1)); // [K, n, d]
      const weighted = tf.mul(diff, tf.expandDims(rT, 2));
      const cov = tf.add(
        tf.div(tf.matMul(weighted, diff, true, false), tf.reshape(nk, [this.k, 1, 1])),
        tf.mul(regularization, tf.eye(this.dim)),
      ); // [K, d, d]
      const symmetric = tf.mul(0.5, tf.add(cov, tf.transpose(cov, [0, 2, 1])));
      return [tf.div(nk, tf.sum(nk)), mu, symmetric, tf.mean(logPx)];
    });
    const logLikelihood = ll.dataSync()[0];
    ll.dispose();
    return {
      model: new GaussianMixture(
        weights as tf.Tensor1D,
        means as tf.Tensor2D,
        covariances as tf.Tensor3D,
      ),
      logLikelihood,
    };
  }

  /**
   * Fits K components to x [n, d] by EM from k-means++ initial means, the data covariance for every
   * component and equal weights; the best of `restarts` runs is kept. A kit loop: an interrupt
   * stops it after the iteration in progress, and the best model so far (the interrupted run's
   * included) is returned.
   */
  static async fit(
    x: tf.Tensor2D,
    k: number,
    options: GaussianMixtureFitOptions = {},
  ): Promise<GaussianMixtureFit> {
    checkData(x, 'GaussianMixture.fit');
    const who = 'GaussianMixture.fit';
    checkOptions(who, options, FIT_KEYS);
    checkInteger(who, 'k', k, 1, x.shape[0]);
    const iterations = options.iterations ?? 200;
    checkInteger(who, 'iterations', iterations);
    const restarts = options.restarts ?? 1;
    checkInteger(who, 'restarts', restarts);
    const tolerance = options.tolerance ?? 1e-6;
    checkNonNegative(who, 'tolerance', tolerance);
    const regularization = options.regularization ?? 1e-6;
    checkNonNegative(who, 'regularization', regularization);
    let best: GaussianMixtureFit | undefined;
    const interrupted = await runLoop('EM', async (loop) => {
      for (let run = 0; run < restarts; run++) {
        let model = GaussianMixture.initialize(x, k, regularization);
        const history: number[] = [];
        let converged = false;
        let stopped = false;
        for (let it = 0; it < iterations; it++) {
          if (await loop.shouldStop()) {
            loop.stop(
              `run ${run + 1}/${restarts}, iteration ${it}/${iterations}`,
              'the best model so far is kept',
            );
            stopped = true;
            break;
          }
          const step = model.emStep(x, regularization);
          model.dispose();
          model = step.model;
          history.push(step.logLikelihood);
          options.onIteration?.(it, step.logLikelihood);
          if (it > 0 && Math.abs(history[it] - history[it - 1]) < tolerance) {
            converged = true;
            break;
          }
        }
        history.push(model.logLikelihood(x));
        const fit = { model, logLikelihood: history, converged, interrupted: false };
        if (
          !best ||
          history[history.length - 1] > best.logLikelihood[best.logLikelihood.length - 1]
        ) {
          best?.model.dispose();
          best = fit;
        } else {
          model.dispose();
        }
        if (stopped) return true;
      }
      return false;
    });
    return { ...best!, interrupted };
  }

  /**
   * k-means++ means (each next mean drawn with probability proportional to the squared distance to
   * the nearest chosen one).
   */
  static initialize(x: tf.Tensor2D, k: number, regularization = 1e-6): GaussianMixture {
    const [n, d] = x.shape;
    const v = x.dataSync();
    const chosen: number[] = [Math.floor(random() * n)];
    const dist2 = new Float64Array(n).fill(Infinity);
    while (chosen.length < k) {
      const c = chosen[chosen.length - 1];
      let total = 0;
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += (v[i * d + j] - v[c * d + j]) ** 2;
        dist2[i] = Math.min(dist2[i], s);
        total += dist2[i];
      }
      let u = random() * total;
      let pick = 0;
      while (pick < n - 1 && (u -= dist2[pick]) > 0) pick++;
      chosen.push(pick);
    }
    const [weights, means, covs] = tf.tidy(() => {
      const mu = tf.gather(x, chosen);
      const centered = tf.sub(x, tf.mean(x, 0));
      const dataCov = tf.add(
        tf.div(tf.matMul(centered, centered, true, false), Math.max(1, n - 1)),
        tf.mul(regularization + 1e-3, tf.eye(d)),
      );
      return [tf.fill([k], 1 / k), mu, tf.tile(tf.expandDims(dataCov, 0), [k, 1, 1])];
    });
    return new GaussianMixture(weights as tf.Tensor1D, means as tf.Tensor2D, covs as tf.Tensor3D);
  }

  dispose(): void {
    tf.dispose([this.weights, this.means, this.covariances]);
  }
}

/**
 * Points of the ellipse {mu + c L u : |u| = 1} (c standard deviations) of a 2D Gaussian, for
 * plotting.
 */
export function covarianceEllipse(
  mean: ArrayLike<number>,
  covariance: ArrayLike<number>,
  stds = 2,
  points = 100,
): { x: number[]; y: number[] } {
  if (mean.length !== 2 || covariance.length !== 4)
    throw new Error(
      `covarianceEllipse: needs a 2D mean and a 2x2 covariance (4 numbers), got ${mean.length} ` +
        `and ${covariance.length}`,
    );
  const [a, b, , c] = Array.from(covariance);
  if (!(a > 0) || !(a * c - b * b > 0))
    throw new Error(
      `covarianceEllipse: covariance [${Array.from(covariance)}] is not positive definite`,
    );
  const l11 = Math.sqrt(a);
  const l21 = b / l11;
  const l22 = Math.sqrt(c - l21 * l21);
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i <= points; i++) {
    const t = (2 * Math.PI * i) / points;
    const u = Math.cos(t);
    const w = Math.sin(t);
    x.push(mean[0] + stds * l11 * u);
    y.push(mean[1] + stds * (l21 * u + l22 * w));
  }
  return { x, y };
}

/**
 * Free parameters of a K-component, d-dimensional full-covariance Gaussian mixture: (K - 1) + K d +
 * K d (d + 1) / 2.
 */
export function gaussianMixtureParameterCount(k: number, d: number): number {
  checkInteger('gaussianMixtureParameterCount', 'k', k);
  checkInteger('gaussianMixtureParameterCount', 'd', d);
  return k - 1 + k * d + (k * d * (d + 1)) / 2;
}

/**
 * Bayesian information criterion, BIC = -2 log p(X) + (parameters) log N, from the total
 * log-likelihood; lower is better.
 */
export function bic(totalLogLikelihood: number, parameters: number, n: number): number {
  checkInteger('bic', 'n (the number of data points)', n);
  checkFinite('bic', 'totalLogLikelihood', totalLogLikelihood);
  checkNonNegative('bic', 'parameters', parameters);
  return -2 * totalLogLikelihood + parameters * Math.log(n);
}
