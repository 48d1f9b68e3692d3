import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metrics, runtime, tf } from 'genlab';

const {
  symmetricEigen,
  sqrtPsd,
  matMul,
  frechetDistance,
  gaussianStats,
  traceSqrtProduct,
  histogramEntropy,
} = metrics;

/**
 * A random n x n matrix B B^T / n + shift I with a seeded generator (PSD; singular when rank < n).
 */
function randomPsd(n: number, rank = n, shift = 0): Float64Array {
  const b = Float64Array.from({ length: n * rank }, () => runtime.randn());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < rank; k++) s += b[i * rank + k] * b[j * rank + k];
      a[i * n + j] = s / n + (i === j ? shift : 0);
    }
  return a;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number =>
  Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i])));

test('setup', async () => {
  await runtime.init({ seed: 0, report: false });
});

test('symmetric eigendecomposition: A = V diag(λ) Vᵀ with V orthogonal', () => {
  runtime.seed(11);
  const n = 12;
  const a = randomPsd(n, n, -0.5); // indefinite
  const { values, vectors } = symmetricEigen(a, n);
  const vt = new Float64Array(n * n);
  const vl = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      vt[i * n + j] = vectors[j * n + i];
      vl[i * n + j] = vectors[i * n + j] * values[j];
    }
  assert.ok(maxAbsDiff(matMul(vl, vt, n), a) < 1e-10);
  const identity = Float64Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 0));
  assert.ok(maxAbsDiff(matMul(vt, vectors, n), identity) < 1e-10);
  assert.ok(
    values.some((l) => l < 0),
    'the test matrix is indefinite',
  );
});

test('sqrtPsd(A)² = A, also for a singular A', () => {
  runtime.seed(12);
  for (const rank of [20, 5]) {
    const a = randomPsd(20, rank);
    const s = sqrtPsd(a, 20);
    assert.ok(maxAbsDiff(matMul(s, s, 20), a) < 1e-9, `rank ${rank}`);
  }
});

test('Fréchet distance of two 1D Gaussians is (μ₁ - μ₂)² + (σ₁ - σ₂)²', () => {
  const d = frechetDistance(
    { mean: Float64Array.of(1), cov: Float64Array.of(4), dim: 1 },
    { mean: Float64Array.of(-2), cov: Float64Array.of(0.25), dim: 1 },
  );
  assert.ok(Math.abs(d - (9 + 1.5 ** 2)) < 1e-12);
});

test('Fréchet distance of diagonal Gaussians is ‖μ₁ - μ₂‖² + Σ(√a_i - √b_i)²', () => {
  const a = [1, 2, 0.5, 3, 0];
  const b = [4, 2, 0.1, 1, 2];
  const diag = (v: number[]): Float64Array =>
    Float64Array.from({ length: 25 }, (_, k) => (k % 6 === 0 ? v[k / 6] : 0));
  const mean1 = Float64Array.of(0, 1, 2, 3, 4);
  const mean2 = Float64Array.of(1, 1, 2, 3, 2);
  const expected = 1 + 4 + a.reduce((s, ai, i) => s + (Math.sqrt(ai) - Math.sqrt(b[i])) ** 2, 0);
  const d = frechetDistance(
    { mean: mean1, cov: diag(a), dim: 5 },
    { mean: mean2, cov: diag(b), dim: 5 },
  );
  assert.ok(Math.abs(d - expected) < 1e-10);
});

test('for non-commuting 2x2 covariances tr (Σ₁Σ₂)^{1/2} = √(tr Σ₁Σ₂ + 2√(det Σ₁ det Σ₂))', () => {
  // The eigenvalues λ₁, λ₂ of Σ₁Σ₂ are positive, so (√λ₁ + √λ₂)² = tr + 2√det.
  runtime.seed(13);
  for (let trial = 0; trial < 10; trial++) {
    const s1 = randomPsd(2, 2, 0.1);
    const s2 = randomPsd(2, 2, 0.1);
    const p = matMul(s1, s2, 2);
    const det = (m: Float64Array): number => m[0] * m[3] - m[1] * m[2];
    const expected = Math.sqrt(p[0] + p[3] + 2 * Math.sqrt(det(s1) * det(s2)));
    assert.ok(Math.abs(traceSqrtProduct(s1, s2, 2) - expected) < 1e-10);
    const m1 = Float64Array.of(runtime.randn(), runtime.randn());
    const m2 = Float64Array.of(runtime.randn(), runtime.randn());
    const d = frechetDistance({ mean: m1, cov: s1, dim: 2 }, { mean: m2, cov: s2, dim: 2 });
    const closed =
      (m1[0] - m2[0]) ** 2 + (m1[1] - m2[1]) ** 2 + s1[0] + s1[3] + s2[0] + s2[3] - 2 * expected;
    assert.ok(Math.abs(d - closed) < 1e-9);
  }
});

test('a Gaussian is at distance 0 from itself, also in 64 dimensions with a singular covariance', () => {
  runtime.seed(14);
  const stats = {
    mean: Float64Array.from({ length: 64 }, () => runtime.randn()),
    cov: randomPsd(64, 10),
    dim: 64,
  };
  assert.ok(frechetDistance(stats, stats) < 1e-6);
});

test('gaussianStats gives the sample mean and the (n-1)-normalized covariance', () => {
  const x = tf.tensor2d([
    [1, 2],
    [3, 0],
    [5, 4],
  ]);
  const s = gaussianStats(x);
  assert.deepEqual(Array.from(s.mean), [3, 2]);
  // deviations (-2, 0), (0, -2), (2, 2): Σ = [[8, 4], [4, 8]] / 2
  assert.deepEqual(Array.from(s.cov), [4, 2, 2, 4]);
  x.dispose();
});

test('entropy of class histograms', () => {
  assert.ok(Math.abs(histogramEntropy(new Array(10).fill(7)) - Math.log(10)) < 1e-12);
  assert.equal(histogramEntropy([0, 0, 5, 0]), 0);
  assert.ok(
    Math.abs(histogramEntropy([1, 3]) - -(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75))) < 1e-12,
  );
});

test('bad inputs are clear errors', () => {
  assert.throws(
    () => symmetricEigen(Float64Array.of(1, 2, 3), 2),
    /expected 2x2 = 4 values, got 3/,
  );
  assert.throws(
    () => symmetricEigen(Float64Array.of(1, 2, 3, 4), 2),
    /must be symmetric.*\(1, 0\) = 3 and \(0, 1\) = 2/,
  );
  assert.throws(
    () => sqrtPsd(Float64Array.of(1, 0, 0, -1), 2),
    /not positive semi-definite \(eigenvalue 1 is -1\)/,
  );
  const one = { mean: Float64Array.of(0), cov: Float64Array.of(1), dim: 1 };
  const two = { mean: Float64Array.of(0, 0), cov: Float64Array.of(1, 0, 0, 1), dim: 2 };
  assert.throws(() => frechetDistance(one, two), /different dimensions \(1 and 2\)/);
  const single = tf.zeros([1, 3]) as tf.Tensor2D;
  assert.throws(() => gaussianStats(single), /at least 2 samples.*got 1/);
  single.dispose();
  assert.throws(() => histogramEntropy([0, 0]), /positive sum/);
  assert.throws(() => histogramEntropy([1, -1, 2]), /non-negative/);
});
