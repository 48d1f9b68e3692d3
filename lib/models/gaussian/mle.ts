/**
 * Maximum likelihood for the Gaussian family (DSA5204 lecture 9): the closed forms, the same
 * optimum reached by gradient ascent on the log-likelihood, and the bias of the MLE variance.
 */
import * as tf from '@tensorflow/tfjs';
import { adam } from '../../training/adam';
import { LOG_2PI } from '../../distributions/util';
import { runLoop } from '../../runtime/loop';
import { randn } from '../../runtime/random';
import { checkOptions, OptionKeys } from '../../runtime/checks';

export interface GaussianFit {
  mu: number;
  sigma: number;
}

function checkData(x: ArrayLike<number>, what: string, min = 1): void {
  if (x.length < min)
    throw new Error(
      `${what}: needs at least ${min} data point${min === 1 ? '' : 's'}, got ${x.length}`,
    );
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]))
      throw new Error(`${what}: data point ${i} is ${x[i]}; remove or impute missing values first`);
  }
}

function checkSigma(sigma: number, what: string): void {
  if (!(sigma > 0) || !Number.isFinite(sigma))
    throw new Error(`${what}: sigma must be positive and finite, got ${sigma}`);
}

/** mu^ = (1/N) sum x_i, sigma^2 = (1/N) sum (x_i - mu^)^2: the maximizer of the log-likelihood. */
export function gaussianMle(x: ArrayLike<number>): GaussianFit {
  checkData(x, 'gaussianMle');
  let mu = 0;
  for (let i = 0; i < x.length; i++) mu += x[i];
  mu /= x.length;
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += (x[i] - mu) ** 2;
  return { mu, sigma: Math.sqrt(ss / x.length) };
}

/** sum_i log N(x_i; mu, sigma^2) = -N/2 log(2 pi sigma^2) - sum (x_i - mu)^2 / (2 sigma^2). */
export function gaussianLogLikelihood(x: ArrayLike<number>, mu: number, sigma: number): number {
  checkData(x, 'gaussianLogLikelihood');
  checkSigma(sigma, 'gaussianLogLikelihood');
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += (x[i] - mu) ** 2;
  return -0.5 * x.length * (LOG_2PI + 2 * Math.log(sigma)) - ss / (2 * sigma * sigma);
}

/**
 * The log-likelihood on a grid: z[i][j] at (mus[j], sigmas[i]), the layout plot.contour expects.
 */
export function logLikelihoodSurface(
  x: ArrayLike<number>,
  mus: number[],
  sigmas: number[],
): number[][] {
  return sigmas.map((s) => mus.map((m) => gaussianLogLikelihood(x, m, s)));
}

export interface AscentStep {
  step: number;
  mu: number;
  sigma: number;
  /** Average log-likelihood per data point, in nats. */
  logLikelihood: number;
}

export interface AscentOptions {
  steps?: number;
  learningRate?: number;
  /** Starting point (default mu = 0, sigma = 1). */
  init?: GaussianFit;
}

const ASCENT_KEYS: OptionKeys<AscentOptions> = { steps: true, learningRate: true, init: true };

/**
 * Maximizes the average log-likelihood over (mu, log sigma) with Adam; returns the fit and its
 * path. Optimizing log sigma keeps sigma > 0 without constraints.
 */
export async function fitGaussianByGradientAscent(
  x: ArrayLike<number>,
  options: AscentOptions = {},
): Promise<{ fit: GaussianFit; trajectory: AscentStep[]; interrupted: boolean }> {
  checkData(x, 'fitGaussianByGradientAscent');
  checkOptions('fitGaussianByGradientAscent', options, ASCENT_KEYS);
  const steps = options.steps ?? 2000;
  const init = options.init ?? { mu: 0, sigma: 1 };
  checkSigma(init.sigma, 'fitGaussianByGradientAscent init');
  const data = tf.tensor1d(Float32Array.from(x));
  const mu = tf.tidy(() => tf.variable(tf.scalar(init.mu)));
  const logSigma = tf.tidy(() => tf.variable(tf.scalar(Math.log(init.sigma))));
  const optimizer = adam(options.learningRate ?? 0.05);
  const trajectory: AscentStep[] = [];
  try {
    const interrupted = await runLoop('gradient ascent', async (loop) => {
      for (let step = 0; step <= steps; step++) {
        if (await loop.shouldStop()) {
          loop.stop(`step ${step}/${steps}`, 'the fit is the last completed step');
          return true;
        }
        const loss = optimizer.minimize(
          () =>
            tf.tidy(() => {
              // -(1/N) sum log N(x_i; mu, sigma^2), dropping nothing: the value is the average NLL
              // in nats
              const z = tf.div(tf.sub(data, mu), tf.exp(logSigma));
              return tf.add(
                tf.add(tf.mul(0.5, tf.mean(tf.square(z))), logSigma),
                0.5 * LOG_2PI,
              ) as tf.Scalar;
            }),
          true,
          [mu, logSigma],
        ) as tf.Scalar;
        trajectory.push({
          step,
          mu: mu.dataSync()[0],
          sigma: Math.exp(logSigma.dataSync()[0]),
          logLikelihood: -loss.dataSync()[0],
        });
        loss.dispose();
      }
      return false;
    });
    const fit = trajectory.length
      ? { mu: trajectory[trajectory.length - 1].mu, sigma: trajectory[trajectory.length - 1].sigma }
      : init;
    return { fit, trajectory, interrupted };
  } finally {
    tf.dispose([data, mu, logSigma]);
    optimizer.dispose();
  }
}

export interface MvnFit {
  mean: number[];
  covariance: number[][];
}

/** mu^ = (1/N) sum x_i, Sigma^ = (1/N) sum (x_i - mu^)(x_i - mu^)^T, for rows x_i of `x`. */
export function mvnMle(x: number[][]): MvnFit {
  if (x.length < 1) throw new Error('mvnMle: needs at least one data point');
  const d = x[0].length;
  x.forEach((row, i) => {
    if (row.length !== d)
      throw new Error(`mvnMle: row ${i} has ${row.length} values, row 0 has ${d}`);
    checkData(row, `mvnMle (row ${i})`);
  });
  const mean = new Array(d).fill(0);
  for (const row of x) row.forEach((v, j) => (mean[j] += v / x.length));
  const covariance = Array.from({ length: d }, () => new Array(d).fill(0));
  for (const row of x) {
    for (let a = 0; a < d; a++)
      for (let b = 0; b < d; b++)
        covariance[a][b] += ((row[a] - mean[a]) * (row[b] - mean[b])) / x.length;
  }
  return { mean, covariance };
}

export interface VarianceBiasRow {
  n: number;
  /** Average over repetitions of the MLE variance (1/N), relative to the true variance. */
  mle: number;
  /** Same for the unbiased estimator (1/(N-1)). */
  unbiased: number;
  /** What theory says the MLE averages to: (N-1)/N. */
  expectedMle: number;
}

/**
 * The average of a variance estimator over `repetitions` data sets of each size N drawn from
 * N(0, 1) (true variance 1), one row per size: how a student checks their own estimator for bias.
 * A kit loop: an interrupt stops it, and the rows of the sizes completed are returned.
 */
export async function averageVarianceEstimate(
  estimator: (x: number[]) => number,
  sizes: number[],
  repetitions: number,
): Promise<{ rows: Array<{ n: number; average: number }>; interrupted: boolean }> {
  if (typeof estimator !== 'function')
    throw new Error(
      'averageVarianceEstimate: estimator must be a function (x: number[]) => number',
    );
  if (!Number.isInteger(repetitions) || repetitions < 1)
    throw new Error(
      `averageVarianceEstimate: repetitions must be a positive integer, got ${repetitions}`,
    );
  for (const n of sizes)
    if (!Number.isInteger(n) || n < 2)
      throw new Error(`averageVarianceEstimate: every size must be an integer >= 2, got ${n}`);
  const rows: Array<{ n: number; average: number }> = [];
  const interrupted = await runLoop('variance experiment', async (loop) => {
    for (const n of sizes) {
      let average = 0;
      for (let r = 0; r < repetitions; r++) {
        if (await loop.shouldStop()) {
          loop.stop(
            `N = ${n}, repetition ${r}/${repetitions}`,
            'the rows of the sizes done are kept',
          );
          return true;
        }
        const estimate = estimator(Array.from({ length: n }, randn));
        if (typeof estimate !== 'number' || !Number.isFinite(estimate))
          throw new Error(
            `averageVarianceEstimate: the estimator returned ${estimate} for a data set of ${n} ` +
              'values; it must return a finite number',
          );
        average += estimate / repetitions;
      }
      rows.push({ n, average });
    }
    return false;
  });
  return { rows, interrupted };
}

/**
 * Draws `repetitions` data sets of each size N from N(0, 1) and averages both variance estimators:
 * E[sigma^2_MLE] = (N-1)/N sigma^2, biased low for small N, while the 1/(N-1) version is unbiased.
 * A kit loop: an interrupt stops it, and the rows of the sizes completed are returned.
 */
export async function varianceEstimatorBias(
  sizes: number[],
  repetitions: number,
): Promise<{ rows: VarianceBiasRow[]; interrupted: boolean }> {
  const { rows, interrupted } = await averageVarianceEstimate(
    (x) => gaussianMle(x).sigma ** 2,
    sizes,
    repetitions,
  );
  return {
    rows: rows.map(({ n, average }) => ({
      n,
      mle: average,
      unbiased: (average * n) / (n - 1),
      expectedMle: (n - 1) / n,
    })),
    interrupted,
  };
}

/**
 * The same multivariate MLE for large data as tensors: mu^ = mean of the rows of x [N, d], Sigma^ =
 * (x - mu^)^T (x - mu^) / N, computed with one matrix product (MNIST: 60,000 x 784 in about a
 * second).
 */
export function mvnMleTensor(x: tf.Tensor2D): { mean: tf.Tensor1D; covariance: tf.Tensor2D } {
  if (x.rank !== 2 || x.shape[0] < 1)
    throw new Error(`mvnMleTensor: x must be [N, d] with N >= 1, got [${x.shape.join(', ')}]`);
  return tf.tidy(() => {
    const mean = tf.mean(x, 0) as tf.Tensor1D;
    const centered = tf.sub(x, mean);
    const covariance = tf.div(
      tf.matMul(tf.transpose(centered), centered),
      x.shape[0],
    ) as tf.Tensor2D;
    return { mean, covariance };
  });
}
