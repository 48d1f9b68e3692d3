/**
 * The small dense linear algebra the Gaussians need and TensorFlow.js lacks: a batched,
 * differentiable Cholesky factorization and triangular solves, written with tfjs ops one column
 * (row) at a time. The cost is d ops of size d^2 each, right for the low-dimensional Gaussians of
 * the course (d up to a few dozen).
 */
import * as tf from '@tensorflow/tfjs';

function checkSquare(a: tf.Tensor, name: string, what: string): number {
  const d = a.shape[a.rank - 1];
  if (a.rank < 2 || a.shape[a.rank - 2] !== d) {
    throw new Error(
      `${what}: ${name} must be a square matrix or a batch of them, shape [..., d, d], got ` +
        `[${a.shape}]`,
    );
  }
  return d;
}

/** Column j of a [..., d, d] matrix as [..., d]. */
function column(a: tf.Tensor, j: number): tf.Tensor {
  const d = a.shape[a.rank - 1];
  const begin = new Array(a.rank).fill(0);
  begin[a.rank - 1] = j;
  const size = [...a.shape];
  size[a.rank - 1] = 1;
  return tf.reshape(tf.slice(a, begin, size), [...a.shape.slice(0, -2), d]);
}

/** Element i of the last axis of a [..., d] tensor as [...]. */
function entry(v: tf.Tensor, i: number): tf.Tensor {
  const begin = new Array(v.rank).fill(0);
  begin[v.rank - 1] = i;
  const size = [...v.shape];
  size[v.rank - 1] = 1;
  return tf.reshape(tf.slice(v, begin, size), v.shape.slice(0, -1));
}

/**
 * The lower-triangular L with L L^T = A for symmetric positive definite A, shape [..., d, d].
 * Throws, naming the matrix, when A is not positive definite (a pivot <= 0 or not finite).
 */
export function cholesky(a: tf.Tensor, name = 'covariance', what = 'cholesky'): tf.Tensor {
  const d = checkSquare(a, name, what);
  const { factor, pivots } = tf.tidy(() => {
    const columns: tf.Tensor[] = [];
    const pivotList: tf.Tensor[] = [];
    for (let j = 0; j < d; j++) {
      // L[:, j] = (A[:, j] - sum_{k<j} L[:, k] L[j, k]) / sqrt(pivot_j), restricted to rows i >= j
      let c = column(a, j);
      for (let k = 0; k < j; k++)
        c = tf.sub(c, tf.mul(columns[k], tf.expandDims(entry(columns[k], j), -1)));
      const pivot = entry(c, j);
      pivotList.push(pivot);
      const mask = tf.tensor1d(Array.from({ length: d }, (_, i) => (i >= j ? 1 : 0)));
      columns.push(tf.mul(tf.div(c, tf.expandDims(tf.sqrt(tf.relu(pivot)), -1)), mask));
    }
    return { factor: tf.stack(columns, -1), pivots: tf.stack(pivotList, -1) };
  });
  const p = pivots.dataSync();
  pivots.dispose();
  for (let i = 0; i < p.length; i++) {
    if (!(p[i] > 0) || !Number.isFinite(p[i])) {
      factor.dispose();
      const matrix = Math.floor(i / d);
      throw new Error(
        `${what}: ${name} is not positive definite (pivot ${i % d} of matrix ${matrix} is ` +
          `${p[i]}). ` +
          `A covariance must be symmetric with positive eigenvalues; add a small multiple of the ` +
          `identity (e.g. 1e-6 I) if it is only semi-definite.`,
      );
    }
  }
  return factor;
}

/**
 * Solves L X = B for lower-triangular L [..., d, d] and B [..., d, m] (or a vector b [..., d] when
 * `vector`), by forward substitution: X[i] = (B[i] - sum_{k<i} L[i, k] X[k]) / L[i, i].
 */
export function solveLowerTriangular(l: tf.Tensor, b: tf.Tensor, vector = false): tf.Tensor {
  const d = checkSquare(l, 'L', 'solveLowerTriangular');
  const rhs = vector ? tf.expandDims(b, -1) : b;
  if (rhs.shape[rhs.rank - 2] !== d) {
    throw new Error(
      `solveLowerTriangular: the right-hand side has ${rhs.shape[rhs.rank - 2]} rows, but L is ` +
        `${d}x${d}`,
    );
  }
  return tf.tidy(() => {
    const rows: tf.Tensor[] = [];
    for (let i = 0; i < d; i++) {
      const lRow = rowOf(l, i); // [..., d]
      let r = rowOf(rhs, i); // [..., m]
      for (let k = 0; k < i; k++) r = tf.sub(r, tf.mul(tf.expandDims(entry(lRow, k), -1), rows[k]));
      rows.push(tf.div(r, tf.expandDims(entry(lRow, i), -1)));
    }
    const x = tf.stack(rows, -2);
    return vector ? tf.squeeze(x, [-1]) : x;
  });
}

/** Row i of a [..., d, m] tensor as [..., m]. */
function rowOf(a: tf.Tensor, i: number): tf.Tensor {
  const begin = new Array(a.rank).fill(0);
  begin[a.rank - 2] = i;
  const size = [...a.shape];
  size[a.rank - 2] = 1;
  return tf.reshape(tf.slice(a, begin, size), [...a.shape.slice(0, -2), a.shape[a.rank - 1]]);
}

/** The diagonal of [..., d, d] as [..., d]. */
export function diagonal(a: tf.Tensor): tf.Tensor {
  const d = a.shape[a.rank - 1];
  return tf.sum(tf.mul(a, tf.eye(d)), -1);
}

/** log det(L L^T) = 2 sum_i log L[i, i]. */
export function logDetFromCholesky(l: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(2, tf.sum(tf.log(diagonal(l)), -1)));
}

/** L v for L [..., d, d] and v [..., d] (broadcast), as a sum over the last axis. */
export function matVec(l: tf.Tensor, v: tf.Tensor): tf.Tensor {
  return tf.sum(tf.mul(l, tf.expandDims(v, -2)), -1);
}

/** A A^T for [..., d, k]. */
export function outerSelf(a: tf.Tensor): tf.Tensor {
  return tf.matMul(a, a, false, true);
}

/**
 * The lower triangle (diagonal included) of [..., d, d], zero above; differentiable, unlike
 * tf.linalg.bandPart in tfjs 4.22.
 */
export function lowerTriangular(a: tf.Tensor): tf.Tensor {
  const d = checkSquare(a, 'a', 'lowerTriangular');
  return tf.tidy(() =>
    tf.mul(
      a,
      tf.tensor2d(
        Array.from({ length: d * d }, (_, i) => (i % d <= Math.floor(i / d) ? 1 : 0)),
        [d, d],
      ),
    ),
  );
}
