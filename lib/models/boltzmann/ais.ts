/**
 * Annealed importance sampling for the partition function of an RBM (Neal 2001; Salakhutdinov &
 * Murray 2008). Anneal from a base model A with independent visible units (biases a_A, no weights),
 * whose Z_A = 2^H prod_i (1 + e^{a_A,i}) is known, to the RBM B through the unnormalized marginals
 *   f_beta(v) = exp((1 - beta) a_A^T v + beta a_B^T v) prod_j (1 + exp(beta (b_j + (v^T W)_j))),
 * 0 = beta_0 < ... < beta_K = 1. Each run draws v ~ p_A, then alternates
 *   log w += log f_{beta_k}(v) - log f_{beta_{k-1}}(v),
 *   v ~ T_k(v) (one Gibbs step leaving p_{beta_k} invariant),
 * and E[w] = Z_B / Z_A, so log Z_B = log Z_A + log mean(w).
 */
import * as tf from '@tensorflow/tfjs';
import { bernoulli } from './binary';
import { RBM } from './rbm';

export interface AisOptions {
  /** Independent annealing runs (default 100). */
  runs?: number;
  /**
   * Intermediate distributions K, or the full increasing schedule beta_0 = 0 ... beta_K = 1
   * (default 14,500).
   */
  betas?: number | number[];
  /**
   * Visible biases of the base model, e.g. pixelLogits of the training data (default 0: uniform).
   */
  baseVisibleBias?: tf.Tensor1D;
  /** Called every `every` intermediate distributions with the index k (for progress bars). */
  onProgress?: (k: number, total: number) => void;
}

export interface AisResult {
  /** log Z estimate: log Z_A + log mean(w). */
  logZ: number;
  /** Standard error of log Z by the delta method: std(w) / (sqrt(runs) mean(w)). */
  logZStdError: number;
  /**
   * log(Zhat - 3 sigma) and log(Zhat + 3 sigma) with sigma the standard error of Zhat (lower may be
   * -Infinity).
   */
  logZLower: number;
  logZUpper: number;
  /** log Z_A of the base model. */
  logZBase: number;
  /** log importance weight of each run. */
  logWeights: Float64Array;
}

/**
 * The schedule of Salakhutdinov & Murray (2008) scaled to K steps: 500/14500 of the steps uniformly
 * in [0, 0.5], 4000/14500 in [0.5, 0.9], 10000/14500 in [0.9, 1] (the distributions change fastest
 * near beta = 1).
 */
export function aisSchedule(steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 3)
    throw new Error(`aisSchedule: steps must be an integer >= 3, got ${steps}`);
  const n1 = Math.max(1, Math.round((steps * 500) / 14500));
  const n2 = Math.max(1, Math.round((steps * 4000) / 14500));
  const n3 = steps - n1 - n2;
  const betas = [0];
  for (let k = 1; k <= n1; k++) betas.push((0.5 * k) / n1);
  for (let k = 1; k <= n2; k++) betas.push(0.5 + (0.4 * k) / n2);
  for (let k = 1; k <= n3; k++) betas.push(0.9 + (0.1 * k) / n3);
  return betas;
}

/**
 * Mean and standard deviation of log Z from log weights (computed stably around the largest
 * weight).
 */
export function summarizeLogWeights(
  logWeights: ArrayLike<number>,
  logZBase: number,
): Omit<AisResult, 'logWeights' | 'logZBase'> {
  const n = logWeights.length;
  if (n < 2) throw new Error(`summarizeLogWeights: need at least 2 runs, got ${n}`);
  let max = -Infinity;
  for (let r = 0; r < n; r++) max = Math.max(max, logWeights[r]);
  let mean = 0;
  for (let r = 0; r < n; r++) mean += Math.exp(logWeights[r] - max) / n;
  let variance = 0;
  for (let r = 0; r < n; r++) variance += (Math.exp(logWeights[r] - max) - mean) ** 2 / (n - 1);
  const se = Math.sqrt(variance / n);
  const logZ = logZBase + max + Math.log(mean);
  return {
    logZ,
    logZStdError: se / mean,
    logZLower: mean - 3 * se > 0 ? logZBase + max + Math.log(mean - 3 * se) : -Infinity,
    logZUpper: logZBase + max + Math.log(mean + 3 * se),
  };
}

/**
 * The runs, the schedule and a copy of the base model's visible biases from `options`, checked
 * (shared by the AIS of the RBM and of the DBM); the caller disposes `baseBias`.
 */
export function aisSettings(
  caller: string,
  options: AisOptions,
  visible: number,
): { runs: number; betas: number[]; baseBias: tf.Tensor1D } {
  const runs = options.runs ?? 100;
  if (!Number.isInteger(runs) || runs < 2)
    throw new Error(`${caller}: runs must be an integer >= 2, got ${runs}`);
  const betas = Array.isArray(options.betas) ? options.betas : aisSchedule(options.betas ?? 14500);
  if (
    betas.length < 2 ||
    betas[0] !== 0 ||
    betas[betas.length - 1] !== 1 ||
    betas.some((b, k) => k > 0 && !(b > betas[k - 1]))
  ) {
    throw new Error(`${caller}: betas must increase strictly from 0 to 1 (see aisSchedule)`);
  }
  const base = options.baseVisibleBias;
  if (base && (base.rank !== 1 || base.shape[0] !== visible))
    throw new Error(
      `${caller}: baseVisibleBias must have shape [${visible}], got [${base.shape.join(', ')}]`,
    );
  return { runs, betas, baseBias: base ? base.clone() : tf.zeros([visible]) };
}

/** log Z of an RBM by annealed importance sampling, with its uncertainty. */
export function annealedImportanceSampling(rbm: RBM, options: AisOptions = {}): AisResult {
  const { runs, betas, baseBias } = aisSettings('annealedImportanceSampling', options, rbm.visible);
  const logZBase =
    tf.tidy(() => tf.sum(tf.softplus(baseBias)).dataSync()[0]) + rbm.hidden * Math.LN2;

  // log f_beta(v) = (1 - beta) a_A^T v + beta a_B^T v + sum_j softplus(beta field_j),
  // field = b + v^T W
  const logF = (v: tf.Tensor2D, field: tf.Tensor2D, beta: number) =>
    tf.add(
      tf.sum(tf.mul(v, tf.add(tf.mul(baseBias, 1 - beta), tf.mul(rbm.visibleBias, beta))), 1),
      tf.sum(tf.softplus(tf.mul(field, beta)), 1),
    );

  let v = tf.tidy(() =>
    bernoulli(tf.tile(tf.sigmoid(baseBias).reshape([1, -1]), [runs, 1])),
  ) as tf.Tensor2D;
  let logW = tf.zeros([runs]) as tf.Tensor1D;
  try {
    for (let k = 1; k < betas.length; k++) {
      const beta = betas[k];
      const next = tf.tidy(() => {
        const field = rbm.hiddenField(v);
        const w = tf.add(
          logW,
          tf.sub(logF(v, field, beta), logF(v, field, betas[k - 1])),
        ) as tf.Tensor1D;
        if (k === betas.length - 1) return { v: v.clone(), w };
        // T_k: h ~ p_beta(h | v) = sigmoid(beta field),
        //      v ~ p_beta(v | h) = sigmoid((1 - beta) a_A + beta (a_B + W h))
        const h = bernoulli(tf.sigmoid(tf.mul(field, beta)));
        const visibleField = tf.add(
          tf.mul(baseBias, 1 - beta),
          tf.mul(tf.add(tf.matMul(h, rbm.weights, false, true), rbm.visibleBias), beta),
        );
        return { v: bernoulli(tf.sigmoid(visibleField)) as tf.Tensor2D, w };
      });
      tf.dispose([v, logW]);
      v = next.v;
      logW = next.w;
      options.onProgress?.(k, betas.length - 1);
    }
    const logWeights = Float64Array.from(logW.dataSync());
    return { ...summarizeLogWeights(logWeights, logZBase), logZBase, logWeights };
  } finally {
    tf.dispose([v, logW, baseBias]);
  }
}
