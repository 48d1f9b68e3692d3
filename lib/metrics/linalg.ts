/**
 * Small dense symmetric linear algebra in float64 for the Fréchet distance: the symmetric
 * eigendecomposition (Householder + implicit QL, robust for the near-singular covariances of
 * network features) and the square root of a positive semi-definite matrix built from it. Matrices
 * are row-major Float64Array of n x n.
 */

export interface SymmetricEigen {
  /** Eigenvalues λ_k (unsorted). */
  values: Float64Array;
  /** Row-major n x n; column k is the unit eigenvector of λ_k. */
  vectors: Float64Array;
}

function checkSquare(what: string, a: Float64Array, n: number): void {
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${what}: n must be a positive integer, got ${n}`);
  if (a.length !== n * n)
    throw new Error(`${what}: expected ${n}x${n} = ${n * n} values, got ${a.length}`);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const x = a[i * n + j];
      const y = a[j * n + i];
      if (!Number.isFinite(x) || Math.abs(x - y) > 1e-8 * (1 + Math.abs(x) + Math.abs(y))) {
        throw new Error(
          `${what}: the matrix must be symmetric and finite, but entry (${i}, ${j}) = ${x} and ` +
            `(${j}, ${i}) = ${y}`,
        );
      }
    }
  }
}

/**
 * A = V diag(λ) Vᵀ for symmetric A: Householder reduction to tridiagonal form, then the implicit QL
 * algorithm (tred2 + tql2, as in EISPACK and JAMA), O(n³) with a small constant.
 */
export function symmetricEigen(matrix: Float64Array, n: number): SymmetricEigen {
  checkSquare('symmetricEigen', matrix, n);
  const v = Float64Array.from(matrix);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const V = (i: number, j: number): number => v[i * n + j];
  // Householder tridiagonalization (tred2).
  for (let j = 0; j < n; j++) d[j] = V(n - 1, j);
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = V(i - 1, j);
        v[i * n + j] = 0;
        v[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        v[j * n + i] = f;
        g = e[j] + V(j, j) * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V(k, j) * d[k];
          e[k] += V(k, j) * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) v[k * n + j] -= f * e[k] + g * d[k];
        d[j] = V(i - 1, j);
        v[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    v[(n - 1) * n + i] = V(i, i);
    v[i * n + i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V(k, i + 1) / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V(k, i + 1) * V(k, j);
        for (let k = 0; k <= i; k++) v[k * n + j] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) v[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V(n - 1, j);
    v[(n - 1) * n + j] = 0;
  }
  v[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
  // Implicit QL iterations on the tridiagonal matrix (tql2).
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > eps * tst1) m++;
    if (m > l) {
      let iterations = 0;
      do {
        if (++iterations > 100)
          throw new Error(
            `symmetricEigen: the QL iteration did not converge for eigenvalue ${l} (is the ` +
              `matrix finite?)`,
          );
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          for (let k = 0; k < n; k++) {
            const vk = k * n;
            h = v[vk + i + 1];
            v[vk + i + 1] = s * v[vk + i] + c * h;
            v[vk + i] = c * v[vk + i] - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  return { values: d, vectors: v };
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
 * The symmetric PSD square root S = V diag(√λ) Vᵀ with S S = A. Eigenvalues that are negative only
 * by rounding (above -1e-9 of the largest) are taken as 0; a clearly negative one is an error.
 */
export function sqrtPsd(matrix: Float64Array, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(matrix, n);
  const scale = Math.max(1e-300, ...Array.from(values, Math.abs));
  const roots = Array.from(values, (l, k) => {
    if (l < -1e-9 * scale)
      throw new Error(
        `sqrtPsd: the matrix is not positive semi-definite (eigenvalue ${k} is ${l})`,
      );
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
