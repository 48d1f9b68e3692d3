/**
 * Independent checks of log-determinants: the Jacobian of a map R^d -> R^d by automatic
 * differentiation, and log |det J| by LU decomposition in float64 — the O(d³) computation a flow's
 * structure avoids (lecture 001).
 */
import * as tf from '@tensorflow/tfjs';
import { checkPoints } from './checks';
import { checkOptionNames } from '../../runtime/checks';
import { Flow, FlowResult } from './flow';

/**
 * Per-point Jacobians J[n][i][j] = ∂f_i/∂z_j of a map applied row-wise to z [n, d]: d reverse-mode
 * passes, one per output coordinate (rows of z do not interact, so the gradient of Σ_n f_i(z_n)
 * gives row i for every n).
 */
export function jacobian(f: (z: tf.Tensor2D) => tf.Tensor2D, z: tf.Tensor2D): number[][][] {
  if (z.rank !== 2)
    throw new Error(`jacobian: expected points of shape [n, d], got [${z.shape.join(', ')}]`);
  const [n, d] = z.shape;
  const rows: Float32Array[] = [];
  for (let i = 0; i < d; i++) {
    const g = tf.tidy(() =>
      tf.grad((x: tf.Tensor) => {
        const y = f(x as tf.Tensor2D);
        checkPoints('jacobian: f(z)', y, d);
        return tf.sum(tf.slice(y, [0, i], [n, 1]));
      })(z),
    );
    rows.push(g.dataSync() as Float32Array);
    g.dispose();
  }
  return Array.from({ length: n }, (_, p) =>
    Array.from({ length: d }, (_, i) => Array.from(rows[i].subarray(p * d, (p + 1) * d))),
  );
}

/**
 * The LU decomposition with partial pivoting in float64: P A = L U with L unit lower triangular, U
 * upper triangular and row i of P A equal to row `rows[i]` of A. A zero column below the diagonal
 * (a singular A) leaves a zero on U's diagonal.
 */
export function luDecompose(a: number[][]): {
  rows: number[];
  lower: number[][];
  upper: number[][];
} {
  const d = a.length;
  if (d === 0 || a.some((row) => row.length !== d))
    throw new Error(
      `the LU decomposition needs a non-empty square matrix, got ${d} rows of lengths ` +
        `[${a.map((r) => r.length).join(', ')}]`,
    );
  if (a.some((row) => row.some((v) => !Number.isFinite(v))))
    throw new Error('the LU decomposition needs a matrix of finite numbers');
  const upper = a.map((row) => row.slice());
  const lower = a.map((_, i) => a.map((_, j): number => (i === j ? 1 : 0)));
  const rows = a.map((_, i) => i);
  for (let k = 0; k < d; k++) {
    let p = k;
    for (let i = k + 1; i < d; i++) if (Math.abs(upper[i][k]) > Math.abs(upper[p][k])) p = i;
    [upper[k], upper[p]] = [upper[p], upper[k]];
    [rows[k], rows[p]] = [rows[p], rows[k]];
    for (let j = 0; j < k; j++) [lower[k][j], lower[p][j]] = [lower[p][j], lower[k][j]];
    if (upper[k][k] === 0) continue;
    for (let i = k + 1; i < d; i++) {
      const factor = upper[i][k] / upper[k][k];
      lower[i][k] = factor;
      for (let j = k; j < d; j++) upper[i][j] -= factor * upper[k][j];
    }
  }
  return { rows, lower, upper };
}

/**
 * log |det A| of a square matrix by LU with partial pivoting, in float64. -Infinity for a singular
 * matrix.
 */
export function logAbsDet(a: number[][]): number {
  const { upper } = luDecompose(a);
  return upper.reduce((sum, row, k) => sum + Math.log(Math.abs(row[k])), 0);
}

/**
 * The check every layer of the kit passes: max over the points of z of |det_formula / det_autodiff
 * - 1|, comparing the layer's own log-determinant with log |det J| of its autodiff Jacobian, for
 * forward at z and (when the layer has one, unless `inverse` is false) inverse at forward(z). Also
 * returns the largest |log |det|| seen, so a caller can tell a volume-preserving layer from a
 * vacuous check. An inverse found by search (the planar layer's bisection) has no autodiff
 * Jacobian: check its forward map only.
 */
export function logDetErrors(
  layer: Flow,
  z: tf.Tensor2D,
  options: { inverse?: boolean } = {},
): { forward: number; inverse?: number; largest: number } {
  checkOptionNames('logDetErrors', options, ['inverse']);
  checkPoints(`logDetErrors (${layer.name})`, z, layer.dim);
  const worst = (f: (x: tf.Tensor2D) => FlowResult, at: tf.Tensor2D) => {
    const ld = tf.tidy(() => f(at).logDet.arraySync());
    const jac = jacobian((x) => f(x).y, at);
    return {
      error: Math.max(...jac.map((j, i) => Math.abs(Math.expm1(ld[i] - logAbsDet(j))))),
      largest: Math.max(...ld.map(Math.abs)),
    };
  };
  const forward = worst((x) => layer.forward(x), z);
  if (!layer.inverse || options.inverse === false)
    return { forward: forward.error, largest: forward.largest };
  const y = tf.tidy(() => layer.forward(z).y);
  const inverse = worst((x) => layer.inverse!(x), y);
  y.dispose();
  return { forward: forward.error, inverse: inverse.error, largest: forward.largest };
}
