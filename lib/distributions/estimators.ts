/**
 * Monte Carlo estimation (lecture note 004): an expectation E_q[f(z)] as a sample mean with its
 * standard error, and the two estimators of its gradient with respect to q's parameters theta:
 *   score function (REINFORCE):  grad E_q[f(z)] = E_q[f(z) grad log q(z)]
 *   reparameterization:          grad E_q[f(z)] = E_eps[grad f(g(theta, eps))],  z = g(theta, eps)
 * Per-sample gradients come from giving every draw its own copy of the parameters (tiled along a
 * new leading axis), so one backward pass yields n independent single-sample estimates.
 */
import * as tf from '@tensorflow/tfjs';
import { Distribution, stopGradient } from './distribution';
import { checkInteger } from '../runtime/checks';

export interface Estimate {
  /** The sample mean. */
  mean: tf.Tensor;
  /** Its standard error, sample std / sqrt(n). */
  standardError: tf.Tensor;
  samples: number;
}

function summarize(values: tf.Tensor, n: number): Estimate {
  const [mean, standardError] = tf.tidy(() => {
    const m = tf.moments(values, 0);
    return [m.mean, tf.sqrt(tf.div(tf.mul(m.variance, n / (n - 1)), n))];
  });
  return { mean, standardError, samples: n };
}

/**
 * E_q[f(z)] ~ (1/n) sum_i f(z_i), z_i ~ q, with its standard error; f maps [n, ...event] draws to
 * [n, ...].
 */
export function monteCarlo(
  q: Distribution,
  f: (z: tf.Tensor) => tf.Tensor,
  samples: number,
): Estimate {
  checkInteger('monteCarlo', 'samples', samples, 2);
  const values = tf.tidy(() => f(q.sample(samples)));
  if (values.shape[0] !== samples) {
    values.dispose();
    throw new Error(
      `monteCarlo: f must return one value per draw (leading axis ${samples}), got shape ` +
        `[${values.shape}]`,
    );
  }
  const out = summarize(values, samples);
  values.dispose();
  return out;
}

/**
 * 'score' and 'reparameterization' are unbiased; 'fixed-draws' is the "dead end" of note 003: draw
 * z, hold it fixed and differentiate f_theta(z), which misses the dependence of the draws on theta.
 */
export type GradientEstimator = 'score' | 'reparameterization' | 'fixed-draws';

const ESTIMATORS: GradientEstimator[] = ['score', 'reparameterization', 'fixed-draws'];

export interface GradientOptions {
  /**
   * Score function only: subtract a baseline b from f, which leaves the mean unchanged (E_q[grad
   * log q] = 0) and lowers the variance. 'none' (default) or 'leave-one-out': for each draw, the
   * mean of f over the other draws, so that b is independent of the draw it multiplies.
   */
  baseline?: 'none' | 'leave-one-out';
}

export interface GradientEstimate {
  /**
   * The gradient estimate for each parameter (averaged over the draws), shapes of the parameters.
   */
  mean: tf.Tensor[];
  /** Per-parameter standard errors of the estimate. */
  standardError: tf.Tensor[];
  /**
   * Single-draw estimates, [n, ...parameter shape] per parameter (their spread is the estimator's
   * variance).
   */
  perSample: tf.Tensor[];
  samples: number;
}

function checkGradientOptions(estimator: string, options: GradientOptions): void {
  if (!ESTIMATORS.includes(estimator as GradientEstimator)) {
    throw new Error(
      `gradientEstimate: estimator must be ${ESTIMATORS.map((e) => `'${e}'`).join(', ')}, got ` +
        `'${estimator}'`,
    );
  }
  const unknown = Object.keys(options).filter((k) => k !== 'baseline');
  if (unknown.length > 0)
    throw new Error(`gradientEstimate: unknown option(s) ${unknown.join(', ')}; use baseline`);
  const { baseline = 'none' } = options;
  if (baseline !== 'none' && baseline !== 'leave-one-out')
    throw new Error(
      `gradientEstimate: baseline must be 'none' or 'leave-one-out', got '${baseline}'`,
    );
  if (baseline !== 'none' && estimator !== 'score')
    throw new Error(`gradientEstimate: a baseline applies to the 'score' estimator only`);
}

/**
 * Estimates grad_theta E_{q_theta}[f_theta(z)] with n draws. `build(params)` makes q from parameter
 * tensors that carry an extra leading axis of size n (one copy per draw), so it must produce a
 * batch of n distributions, e.g. `([mu, logVar]) => new Independent(Normal.fromLogVariance(mu,
 * logVar), 1)`; f maps the draws [n, ...event] (and the same parameter copies, when the integrand
 * depends on them, as the ELBO's log p(x, z) - log q(z) does) to [n]. Per draw:
 *   score:              (f(z) - b) grad log q(z) + grad f_theta(z)|z fixed
 *   reparameterization: grad f_theta(g(theta, eps))
 *   fixed-draws:        grad f_theta(z)|z fixed
 */
export function gradientEstimate(
  estimator: GradientEstimator,
  build: (params: tf.Tensor[]) => Distribution,
  params: tf.Tensor[],
  f: (z: tf.Tensor, params: tf.Tensor[]) => tf.Tensor,
  samples: number,
  options: GradientOptions = {},
): GradientEstimate {
  checkInteger('gradientEstimate', 'samples', samples, 2);
  checkGradientOptions(estimator, options);
  const perSample = tf.tidy(() => {
    const tiled = params.map((p) =>
      tf.tile(tf.expandDims(p, 0), [samples, ...p.shape.map(() => 1)]),
    );
    const surrogate = (...copies: tf.Tensor[]): tf.Scalar => {
      const q = build(copies);
      if (q.batchShape[0] !== samples) {
        throw new Error(
          `gradientEstimate: build(params) must return a batch of ${samples} distributions (one ` +
            `per draw), got batch shape [${q.batchShape}]`,
        );
      }
      if (estimator === 'reparameterization') return tf.sum(f(q.rsample(), copies)) as tf.Scalar;
      const z = q.sample();
      const fz = f(z, copies);
      if (estimator === 'fixed-draws') return tf.sum(fz) as tf.Scalar;
      // (f(z) - b) grad log q(z): the surrogate (f(z) - b) log q(z) with f(z) - b held constant
      const held = stopGradient(fz);
      const centred =
        options.baseline === 'leave-one-out'
          ? tf.sub(held, tf.div(tf.sub(tf.sum(held), held), samples - 1))
          : held;
      return tf.sum(tf.add(tf.mul(centred, q.logProb(z)), fz)) as tf.Scalar;
    };
    return tf.grads(surrogate)(tiled);
  });
  const stats = perSample.map((g) => summarize(g, samples));
  return {
    mean: stats.map((s) => s.mean),
    standardError: stats.map((s) => s.standardError),
    perSample,
    samples,
  };
}

/** A gradient estimate as plain numbers, each parameter's values flattened. */
export interface GradientSummary {
  mean: number[][];
  standardError: number[][];
  /** The variance of a single-draw estimate (standard error squared times n). */
  perDrawVariance: number[][];
  samples: number;
}

/** `gradientEstimate` with the same arguments, read into plain numbers, its tensors freed. */
export function gradientSummary(...args: Parameters<typeof gradientEstimate>): GradientSummary {
  const g = gradientEstimate(...args);
  const samples = g.samples;
  const read = (ts: tf.Tensor[]) => ts.map((t) => Array.from(t.dataSync()));
  const standardError = read(g.standardError);
  const summary = {
    mean: read(g.mean),
    standardError,
    perDrawVariance: standardError.map((se) => se.map((v) => v * v * samples)),
    samples,
  };
  tf.dispose([...g.mean, ...g.standardError, ...g.perSample]);
  return summary;
}

/** A Monte Carlo estimate as plain numbers. */
export interface NumericEstimate {
  estimate: number;
  standardError: number;
}

/**
 * The values of a tensor, or of the tensor `f()` computes in a tidy scope (then freed); a tensor
 * passed in is left to its owner. Needs 2 or more finite values.
 */
function sampleValues(source: tf.Tensor | (() => tf.Tensor), what: string): Float32Array {
  let values: Float32Array;
  if (typeof source === 'function') {
    const t = tf.tidy(source);
    values = t.dataSync() as Float32Array;
    t.dispose();
  } else if (source instanceof tf.Tensor) values = source.dataSync() as Float32Array;
  else throw new Error(`${what}: expected a tensor of draws or a function returning one`);
  if (values.length < 2) throw new Error(`${what}: needs at least 2 draws, got ${values.length}`);
  const bad = values.findIndex((v) => Number.isNaN(v));
  if (bad >= 0) throw new Error(`${what}: draw ${bad} is NaN`);
  return values;
}

/** The sample mean of the draws and its standard error, sd / sqrt(n). */
export function meanWithError(values: tf.Tensor | (() => tf.Tensor)): NumericEstimate {
  const v = sampleValues(values, 'meanWithError');
  const n = v.length;
  let mean = 0;
  for (const x of v) mean += x / n;
  let ss = 0;
  for (const x of v) ss += (x - mean) ** 2;
  return { estimate: mean, standardError: Math.sqrt(ss / (n - 1) / n) };
}

/**
 * log((1/n) sum_i exp(l_i)): a Monte Carlo estimate of log E[w] from log-weights l_i = log w_i
 * (log p(x) by importance sampling), computed stably, with the delta-method standard error
 * sd(w) / (sqrt(n) mean(w)).
 */
export function logMeanExp(logValues: tf.Tensor | (() => tf.Tensor)): NumericEstimate {
  const l = sampleValues(logValues, 'logMeanExp');
  let max = -Infinity;
  for (const x of l) max = Math.max(max, x);
  if (max === -Infinity) throw new Error('logMeanExp: every weight is zero (all log-weights -∞)');
  const w = Array.from(l, (x) => Math.exp(x - max));
  const n = w.length;
  const mean = w.reduce((s, x) => s + x, 0) / n;
  const variance = w.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  return { estimate: max + Math.log(mean), standardError: Math.sqrt(variance / n) / mean };
}
