/**
 * Small dense symmetric linear algebra in float64 for the Fréchet distance: the symmetric eigendecomposition
 * (cyclic Jacobi rotations, robust for the near-singular covariances of network features) and the square
 * root of a positive semi-definite matrix built from it. Matrices are row-major Float64Array of n x n.
 */

export interface SymmetricEigen {
  /** Eigenvalues λ_k (unsorted). */
  values: Float64Array;
  /** Row-major n x n; column k is the unit eigenvector of λ_k. */
  vectors: Float64Array;
}

function checkSquare(what: string, a: Float64Array, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what}: n must be a positive integer, got ${n}`);
  if (a.length !== n * n) throw new Error(`${what}: expected ${n}x${n} = ${n * n} values, got ${a.length}`);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const x = a[i * n + j];
      const y = a[j * n + i];
      if (!Number.isFinite(x) || Math.abs(x - y) > 1e-8 * (1 + Math.abs(x) + Math.abs(y))) {
        throw new Error(`${what}: the matrix must be symmetric and finite, but entry (${i}, ${j}) = ${x} and (${j}, ${i}) = ${y}`);
      }
    }
  }
}

/** A = V diag(λ) Vᵀ for symmetric A, by cyclic Jacobi rotations until the off-diagonal mass is negligible. */
export function symmetricEigen(matrix: Float64Array, n: number, maxSweeps = 50): SymmetricEigen {
  checkSquare('symmetricEigen', matrix, n);
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += a[i] * a[i];
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        // Rotation zeroing a_pq: θ = (a_qq - a_pp) / 2a_pq, t = sgn θ / (|θ| + √(θ² + 1)).
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i];
  return { values, vectors: v };
}

/** Row-major product of two n x n matrices. */
export function matMul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
    }
  }
  return c;
}

/**
 * The symmetric PSD square root S = V diag(√λ) Vᵀ with S S = A. Eigenvalues that are negative only by
 * rounding (above -1e-9 of the largest) are taken as 0; a clearly negative one is an error.
 */
export function sqrtPsd(matrix: Float64Array, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(matrix, n);
  const scale = Math.max(1e-300, ...Array.from(values, Math.abs));
  const roots = Array.from(values, (l, k) => {
    if (l < -1e-9 * scale) throw new Error(`sqrtPsd: the matrix is not positive semi-definite (eigenvalue ${k} is ${l})`);
    return Math.sqrt(Math.max(0, l));
  });
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += vectors[i * n + k] * roots[k] * vectors[j * n + k];
      s[i * n + j] = sum;
      s[j * n + i] = sum;
    }
  }
  return s;
}
