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

function checkCount(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 2)
    throw new Error(`${what}: samples must be an integer >= 2, got ${n}`);
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
  checkCount(samples, 'monteCarlo');
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

export type GradientEstimator = 'score' | 'reparameterization';

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

/**
 * Estimates grad_theta E_{q_theta}[f(z)] with n draws. `build(params)` makes q from parameter
 * tensors that carry an extra leading axis of size n (one copy per draw), so it must produce a
 * batch of n distributions, e.g. `([mu, logVar]) => new Independent(Normal.fromLogVariance(mu,
 * logVar), 1)`; f maps the draws [n, ...event] to [n].
 */
export function gradientEstimate(
  estimator: GradientEstimator,
  build: (params: tf.Tensor[]) => Distribution,
  params: tf.Tensor[],
  f: (z: tf.Tensor) => tf.Tensor,
  samples: number,
): GradientEstimate {
  checkCount(samples, 'gradientEstimate');
  if (estimator !== 'score' && estimator !== 'reparameterization') {
    throw new Error(
      `gradientEstimate: estimator must be 'score' or 'reparameterization', got '${estimator}'`,
    );
  }
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
      if (estimator === 'reparameterization') return tf.sum(f(q.rsample())) as tf.Scalar;
      // f(z) grad log q(z): the surrogate f(z) log q(z) with f(z) held constant
      const z = q.sample();
      return tf.sum(tf.mul(stopGradient(f(z)), q.logProb(z))) as tf.Scalar;
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
