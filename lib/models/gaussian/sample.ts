/**
 * Sampling a high-dimensional Gaussian fitted by maximum likelihood, e.g. to all 784 pixels of
 * MNIST: x' = mu + L eps with L L^T = Sigma + jitter I and eps ~ N(0, I). The Cholesky factor is
 * computed once in double precision on the CPU (d^3/3 flops: a fraction of a second for d = 784).
 */
import * as tf from '@tensorflow/tfjs';
import { nextSeed } from '../../runtime/random';

/** Lower-triangular L with L L^T = a (row-major d x d, symmetric positive definite), in float64. */
export function choleskyFactor(a: ArrayLike<number>, d: number): Float64Array {
  if (a.length !== d * d)
    throw new Error(
      `choleskyFactor: expected ${d * d} entries for a ${d} x ${d} matrix, got ${a.length}`,
    );
  const l = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    let pivot = a[j * d + j];
    for (let k = 0; k < j; k++) pivot -= l[j * d + k] ** 2;
    if (!(pivot > 0) || !Number.isFinite(pivot)) {
      throw new Error(
        `choleskyFactor: the matrix is not positive definite (pivot ${j} is ${pivot}); add a ` +
          `small multiple of the identity (jitter)`,
      );
    }
    const ljj = Math.sqrt(pivot);
    l[j * d + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      let s = a[i * d + j];
      for (let k = 0; k < j; k++) s -= l[i * d + k] * l[j * d + k];
      l[i * d + j] = s / ljj;
    }
  }
  return l;
}

/** n draws from N(mean, covariance + jitter I), shape [n, d]. */
export function sampleGaussian(
  mean: tf.Tensor1D,
  covariance: tf.Tensor2D,
  n: number,
  options: { jitter?: number } = {},
): tf.Tensor2D {
  const d = mean.shape[0];
  if (covariance.rank !== 2 || covariance.shape[0] !== d || covariance.shape[1] !== d) {
    throw new Error(
      `sampleGaussian: covariance must be [${d}, ${d}] to match the mean, got ` +
        `[${covariance.shape.join(', ')}]`,
    );
  }
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`sampleGaussian: n must be a positive integer, got ${n}`);
  const jitter = options.jitter ?? 0;
  if (!(jitter >= 0)) throw new Error(`sampleGaussian: jitter must be >= 0, got ${jitter}`);
  const a = Float64Array.from(covariance.dataSync());
  for (let i = 0; i < d; i++) a[i * d + i] += jitter;
  const l = Float32Array.from(choleskyFactor(a, d));
  return tf.tidy(() => {
    const eps = tf.randomNormal([n, d], 0, 1, 'float32', nextSeed());
    // rows x' = mu + L eps  <=>  X' = mu + E L^T
    return tf.add(mean, tf.matMul(eps, tf.transpose(tf.tensor2d(l, [d, d])))) as tf.Tensor2D;
  });
}
