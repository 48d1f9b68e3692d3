/**
 * The Fréchet (2-Wasserstein) distance between two Gaussians, the quantity behind FID:
 *   d² = ‖μ₁ - μ₂‖² + tr(Σ₁ + Σ₂ - 2 (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}).
 * (tr (Σ₁Σ₂)^{1/2} equals tr (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}, whose argument is symmetric PSD.)
 */
import * as tf from '@tensorflow/tfjs';
import { matMul, sqrtPsd, symmetricEigen } from './linalg';

/** Mean and covariance of a Gaussian in d dimensions, float64, covariance row-major d x d. */
export interface GaussianStats {
  mean: Float64Array;
  cov: Float64Array;
  dim: number;
}

/** Sample mean and (n - 1)-normalized covariance of feature rows [n, d]. */
export function gaussianStats(
  features: tf.Tensor2D | { values: Float32Array | Float64Array; rows: number; cols: number },
): GaussianStats {
  let x: ArrayLike<number>;
  let n: number;
  let d: number;
  if (features instanceof tf.Tensor) {
    if (features.rank !== 2)
      throw new Error(
        `gaussianStats: expected features [n, d], got [${features.shape.join(', ')}]`,
      );
    [n, d] = features.shape;
    x = features.dataSync();
  } else {
    ({ values: x, rows: n, cols: d } = features);
    if (x.length !== n * d)
      throw new Error(`gaussianStats: ${x.length} values are not ${n} rows of ${d}`);
  }
  if (n < 2)
    throw new Error(`gaussianStats: need at least 2 samples to estimate a covariance, got ${n}`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = x[i * d + j] - mean[j];
    for (let j = 0; j < d; j++) {
      const rj = row[j];
      if (rj === 0) continue;
      for (let k = j; k < d; k++) cov[j * d + k] += rj * row[k];
    }
  }
  for (let j = 0; j < d; j++) {
    for (let k = j; k < d; k++) {
      cov[j * d + k] /= n - 1;
      cov[k * d + j] = cov[j * d + k];
    }
  }
  for (let i = 0; i < mean.length; i++) {
    if (!Number.isFinite(mean[i]))
      throw new Error(`gaussianStats: feature ${i} has a non-finite mean (NaN or infinite inputs)`);
  }
  return { mean, cov, dim: d };
}

/** tr (Σ₁Σ₂)^{1/2} for PSD Σ₁, Σ₂, as Σ_k √λ_k(Σ₁^{1/2} Σ₂ Σ₁^{1/2}). */
export function traceSqrtProduct(cov1: Float64Array, cov2: Float64Array, n: number): number {
  const r = sqrtPsd(cov1, n);
  const m = matMul(matMul(r, cov2, n), r, n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < i; j++) m[i * n + j] = m[j * n + i] = 0.5 * (m[i * n + j] + m[j * n + i]);
  return symmetricEigen(m, n).values.reduce((sum, l) => sum + Math.sqrt(Math.max(0, l)), 0);
}

/** The squared Fréchet distance d² between N(μ₁, Σ₁) and N(μ₂, Σ₂) (what FID reports). */
export function frechetDistance(a: GaussianStats, b: GaussianStats): number {
  if (a.dim !== b.dim)
    throw new Error(
      `frechetDistance: the Gaussians have different dimensions (${a.dim} and ${b.dim})`,
    );
  const d = a.dim;
  let meanTerm = 0;
  let traces = 0;
  for (let i = 0; i < d; i++) {
    meanTerm += (a.mean[i] - b.mean[i]) ** 2;
    traces += a.cov[i * d + i] + b.cov[i * d + i];
  }
  // d² = ‖μ₁ - μ₂‖² + tr Σ₁ + tr Σ₂ - 2 tr (Σ₁Σ₂)^{1/2}
  return Math.max(0, meanTerm + traces - 2 * traceSqrtProduct(a.cov, b.cov, d));
}
