/**
 * Annealed importance sampling for the partition function of an RBM (Neal 2001; Salakhutdinov &
 * Murray 2008). Anneal from a base model A with independent visible units (biases a_A, no weights),
 * whose Z_A = 2^H prod_i (1 + e^{a_A,i}) is known, to the RBM B through the unnormalized marginals
 *   f_beta(v) = exp((1 - beta) a_A^T v + beta a_B^T v) prod_j (1 + exp(beta (b_j + (v^T W)_j))),
 * 0 = beta_0 < ... < beta_K = 1. Each run draws v ~ p_A, then alternates
 *   log w += log f_{beta_k}(v) - log f_{beta_{k-1}}(v),
 *   v ~ T_k(v) (one Gibbs step leaving p_{beta_k} invariant),
 * and E[w] = Z_B / Z_A, so log Z_B = log Z_A + log mean(w).
 *
 * The standard error of log mean(w) is only as good as the weights: with too few intermediate
 * distributions a few runs carry almost all the weight, the estimate falls below log Z (E[log w]
 * <= log E[w]) and the standard error, computed from the same few weights, is too small; worse, the
 * runs that would carry the weight may never be drawn, and then the weights drawn look tame. So
 * every result carries three diagnostics of the weights:
 *   - the effective sample size (sum w)^2 / sum w^2 of the weights drawn (Kish);
 *   - the variance s^2 of the log weights, which the missing runs hardly change. A log weight is a
 *     sum of K small increments, so nearly normal, and for log w ~ N(m, s^2) the relative
 *     variance of w is e^{s^2} - 1: the runs then count as runs * e^{-s^2} (lognormal ESS);
 *   - the shape k of a generalized Pareto distribution fitted to the weights' upper tail (PSIS,
 *     Vehtari et al. 2024): above min(1 - 1/log10(runs), 0.7) the tail is too heavy to trust.
 * Fewer than 10 effective runs by either count, or k above its threshold, gives a warning.
 */
import * as tf from '@tensorflow/tfjs';
import {
  checkArray,
  checkFunction,
  checkInteger,
  checkOptions,
  checkShape,
  OptionKeys,
} from '../../runtime/checks';
import { runLoop } from '../../runtime/loop';
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
  /** Print the diagnostics' warning when there is one (default true). */
  warn?: boolean;
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
  /**
   * Kish's effective sample size (sum w)^2 / sum w^2 of the weights: from 1 (one run carries all
   * the weight) to the number of runs (equal weights).
   */
  effectiveSampleSize: number;
  /**
   * Variance of the log weights (nats^2): runs * exp(-logWeightVariance) is the effective sample
   * size a lognormal spread of the weights implies, also when the heaviest runs were never drawn.
   */
  logWeightVariance: number;
  /**
   * Pareto k of the weights' upper tail (NaN with fewer than 25 runs): below 0.5 the weights have a
   * finite variance; above paretoThreshold(runs) the estimate is unreliable.
   */
  paretoK: number;
  /**
   * Why log Z and its error bars should not be trusted (low effective sample size, heavy tail), or
   * undefined when the diagnostics find nothing wrong.
   */
  warning?: string;
  /**
   * True when an interrupt stopped the annealing before beta = 1: then there is no estimate, and
   * logZ, its error and bounds and the diagnostics are NaN.
   */
  interrupted: boolean;
}

/**
 * The schedule of Salakhutdinov & Murray (2008) scaled to K steps: 500/14500 of the steps uniformly
 * in [0, 0.5], 4000/14500 in [0.5, 0.9], 10000/14500 in [0.9, 1] (the distributions change fastest
 * near beta = 1).
 */
export function aisSchedule(steps: number): number[] {
  checkInteger('aisSchedule', 'steps', steps, 3);
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
 * Kish's effective sample size of importance weights given as logs: (sum w)^2 / sum w^2, computed
 * around the largest weight.
 */
export function effectiveSampleSize(logWeights: ArrayLike<number>): number {
  let max = -Infinity;
  for (let r = 0; r < logWeights.length; r++) max = Math.max(max, logWeights[r]);
  let sum = 0;
  let sumSquares = 0;
  for (let r = 0; r < logWeights.length; r++) {
    const w = Math.exp(logWeights[r] - max);
    sum += w;
    sumSquares += w * w;
  }
  return (sum * sum) / sumSquares;
}

/**
 * Shape k of a generalized Pareto distribution fitted to positive exceedances `x` (ascending), by
 * the empirical Bayes estimate of Zhang & Stephens (2009) with the weak prior of Vehtari et al.
 * (2024, appendix): the profile likelihood of theta = -k / sigma averaged over a grid of m values.
 */
function generalizedParetoShape(x: number[]): number {
  const n = x.length;
  const m = 30 + Math.floor(Math.sqrt(n));
  const quartile = x[Math.floor(n / 4 + 0.5) - 1];
  const meanLog1p = (theta: number) => x.reduce((s, v) => s + Math.log1p(-theta * v), 0) / n;
  const thetas = Array.from(
    { length: m },
    (_, j) => 1 / x[n - 1] + (1 - Math.sqrt(m / (j + 0.5))) / (3 * quartile),
  );
  // Profile log-likelihood of each theta: n (log(-theta / k) - k - 1), k = mean log(1 - theta x).
  const logLik = thetas.map((theta) => {
    const k = meanLog1p(theta);
    return n * (Math.log(-theta / k) - k - 1);
  });
  const top = Math.max(...logLik);
  const weights = logLik.map((l) => Math.exp(l - top));
  const total = weights.reduce((a, b) => a + b, 0);
  const theta = thetas.reduce((s, t, j) => s + (t * weights[j]) / total, 0);
  // k for this theta, shrunk towards 0.5 as if from 10 more points (the prior of Vehtari et al.).
  return (n * meanLog1p(theta) + 10 * 0.5) / (n + 10);
}

/**
 * Pareto k of the upper tail of importance weights given as logs (PSIS, Vehtari, Simpson, Gelman,
 * Yao & Gabry 2024): the largest min(20%, 3 sqrt(S)) of S weights, minus the next one down, fitted
 * by a generalized Pareto distribution. k < 0.5: finite variance; k > min(1 - 1/log10(S), 0.7):
 * the importance-sampling estimate is unreliable. NaN with fewer than 25 weights (a tail of fewer
 * than 5), or when the tail is flat.
 */
export function paretoTailShape(logWeights: ArrayLike<number>): number {
  const sorted = Array.from(logWeights).sort((a, b) => a - b);
  const s = sorted.length;
  if (s < 25) return NaN;
  const tail = Math.ceil(Math.min(0.2 * s, 3 * Math.sqrt(s)));
  const max = sorted[s - 1];
  const cutoff = Math.exp(sorted[s - tail - 1] - max);
  // (Ties at the cutoff give zero exceedances; the fit needs positive ones.)
  const exceedances = sorted
    .slice(s - tail)
    .map((lw) => Math.exp(lw - max) - cutoff)
    .filter((v) => v > 0);
  return exceedances.length < 5 ? NaN : generalizedParetoShape(exceedances);
}

/** The Pareto k above which an importance-sampling estimate from `runs` weights is unreliable. */
export function paretoThreshold(runs: number): number {
  return Math.min(1 - 1 / Math.log10(runs), 0.7);
}

/** Fewer effective runs than this, by Kish's count or the lognormal one, gives a warning. */
export const MIN_EFFECTIVE_RUNS = 10;

/**
 * log Z and its standard error from log weights (computed stably around the largest weight), with
 * the diagnostics of the weights and a warning when they fail: fewer than MIN_EFFECTIVE_RUNS
 * effective runs (Kish, or lognormal from the variance of the log weights), or a Pareto k above
 * paretoThreshold(runs).
 */
export function summarizeLogWeights(
  logWeights: ArrayLike<number>,
  logZBase: number,
): Omit<AisResult, 'logWeights' | 'logZBase' | 'interrupted'> {
  const n = logWeights.length;
  if (n < 2) throw new Error(`summarizeLogWeights: need at least 2 runs, got ${n}`);
  checkArray('summarizeLogWeights', 'logWeights', Array.from(logWeights), isNumber, 'a number');
  let max = -Infinity;
  for (let r = 0; r < n; r++) max = Math.max(max, logWeights[r]);
  let mean = 0;
  for (let r = 0; r < n; r++) mean += Math.exp(logWeights[r] - max) / n;
  let variance = 0;
  for (let r = 0; r < n; r++) variance += (Math.exp(logWeights[r] - max) - mean) ** 2 / (n - 1);
  const se = Math.sqrt(variance / n);
  const logZ = logZBase + max + Math.log(mean);
  const ess = effectiveSampleSize(logWeights);
  let meanLog = 0;
  for (let r = 0; r < n; r++) meanLog += logWeights[r] / n;
  let logVariance = 0;
  for (let r = 0; r < n; r++) logVariance += (logWeights[r] - meanLog) ** 2 / (n - 1);
  const lognormalEss = n * Math.exp(-logVariance);
  const k = paretoTailShape(logWeights);
  const problems: string[] = [];
  if (ess < MIN_EFFECTIVE_RUNS) problems.push(`effective sample size ${ess.toFixed(1)} of ${n}`);
  if (lognormalEss < MIN_EFFECTIVE_RUNS)
    problems.push(
      `log weights of variance ${logVariance.toFixed(2)}, worth ${lognormalEss.toFixed(1)} ` +
        `runs of ${n} if lognormal`,
    );
  if (k > paretoThreshold(n))
    problems.push(
      `heavy-tailed weights (Pareto k ${k.toFixed(2)} > ${paretoThreshold(n).toFixed(2)})`,
    );
  return {
    logZ,
    logZStdError: se / mean,
    logZLower: mean - 3 * se > 0 ? logZBase + max + Math.log(mean - 3 * se) : -Infinity,
    logZUpper: logZBase + max + Math.log(mean + 3 * se),
    effectiveSampleSize: ess,
    logWeightVariance: logVariance,
    paretoK: k,
    warning:
      problems.length === 0
        ? undefined
        : `AIS: ${problems.join('; ')}: a few runs carry the estimate, so log Z is likely too ` +
          'low and its standard error too small. Use more intermediate distributions (betas) ' +
          'or more runs.',
  };
}

const isNumber = (v: unknown) => typeof v === 'number' && !Number.isNaN(v);

const AIS_KEYS: OptionKeys<AisOptions> = {
  runs: true,
  betas: true,
  baseVisibleBias: true,
  onProgress: true,
  warn: true,
};

/**
 * The runs, the schedule and a copy of the base model's visible biases from `options`, checked
 * (shared by the AIS of the RBM and of the DBM); the caller disposes `baseBias`.
 */
export function aisSettings(
  caller: string,
  options: AisOptions,
  visible: number,
): { runs: number; betas: number[]; baseBias: tf.Tensor1D } {
  checkOptions(caller, options, AIS_KEYS);
  const runs = options.runs ?? 100;
  checkInteger(caller, 'runs', runs, 2);
  if (options.onProgress !== undefined) checkFunction(caller, 'onProgress', options.onProgress);
  if (!Array.isArray(options.betas))
    checkInteger(
      caller,
      'betas (the number of intermediate distributions)',
      options.betas ?? 14500,
      3,
    );
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
  if (base) checkShape(caller, 'baseVisibleBias', base, [visible]);
  return { runs, betas, baseBias: base ? base.clone() : tf.zeros([visible]) };
}

/**
 * log Z of an RBM by annealed importance sampling, with its standard error and the diagnostics of
 * the weights (a warning is printed, and returned, when they say the error bars cannot be trusted).
 * A kit loop: an interrupt stops it at the next intermediate distribution, with no estimate (NaN,
 * `interrupted`).
 */
export async function annealedImportanceSampling(
  rbm: RBM,
  options: AisOptions = {},
): Promise<AisResult> {
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
    const steps = betas.length - 1;
    const interrupted = await runLoop('AIS', async (loop) => {
      for (let k = 1; k <= steps; k++) {
        if (await loop.shouldStop()) {
          loop.stop(
            `intermediate distribution ${k - 1}/${steps}`,
            'an annealing that does not reach beta = 1 gives no estimate of log Z',
          );
          return true;
        }
        const beta = betas[k];
        const next = tf.tidy(() => {
          const field = rbm.hiddenField(v);
          const w = tf.add(
            logW,
            tf.sub(logF(v, field, beta), logF(v, field, betas[k - 1])),
          ) as tf.Tensor1D;
          if (k === steps) return { v: v.clone(), w };
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
        options.onProgress?.(k, steps);
      }
      return false;
    });
    const logWeights = Float64Array.from(logW.dataSync());
    if (interrupted)
      return {
        logZ: NaN,
        logZStdError: NaN,
        logZLower: NaN,
        logZUpper: NaN,
        effectiveSampleSize: NaN,
        logWeightVariance: NaN,
        paretoK: NaN,
        logZBase,
        logWeights,
        interrupted,
      };
    const summary = summarizeLogWeights(logWeights, logZBase);
    if (summary.warning && (options.warn ?? true)) console.warn(summary.warning);
    return { ...summary, logZBase, logWeights, interrupted };
  } finally {
    tf.dispose([v, logW, baseBias]);
  }
}
