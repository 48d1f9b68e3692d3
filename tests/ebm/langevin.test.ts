import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models, runtime, tf } from 'genlab';

const { langevin, energyGradient } = models.ebm;

/** Mean [2] and covariance [2][2] of the rows of x [n, 2]. */
function moments(x: tf.Tensor2D): { mean: number[]; cov: number[][] } {
  const v = x.arraySync();
  const n = v.length;
  const mean = [0, 1].map((j) => v.reduce((s, r) => s + r[j], 0) / n);
  const cov = [0, 1].map((i) =>
    [0, 1].map((j) => v.reduce((s, r) => s + (r[i] - mean[i]) * (r[j] - mean[j]), 0) / (n - 1)),
  );
  return { mean, cov };
}

/** The 2x2 inverse. */
const inverse = (m: number[][]) => {
  const det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
  return [
    [m[1][1] / det, -m[0][1] / det],
    [-m[1][0] / det, m[0][0] / det],
  ];
};

// Target N(μ, Σ): E(x) = ½ (x - μ)^T A (x - μ), A = Σ⁻¹.
const mu = [1, -0.5];
const sigma = [
  [1, 0.6],
  [0.6, 0.5],
];
const precision = inverse(sigma);
const gaussianEnergy = (x: tf.Tensor2D) =>
  tf.tidy(() => {
    const d = tf.sub(x, tf.tensor1d(mu));
    return tf.mul(tf.sum(tf.mul(tf.matMul(d, tf.tensor2d(precision)), d), 1), 0.5) as tf.Tensor1D;
  });

test(
  'Langevin on a 2-D Gaussian: mean and covariance of 4,000 chains match the target within ' +
    '0.05 (0.10 for the variance along the long axis); the noise scale s multiplies the ' +
    'covariance by s²',
  async () => {
    await runtime.init({ seed: 0, report: false });
    const x0 = tf.randomNormal([4000, 2]) as tf.Tensor2D;
    const tensors = tf.memory().numTensors;
    // ε = 0.02: the discretization inflates the stationary covariance to (A - εA²/4)⁻¹, at most
    // 4% here, below the tolerance; 600 steps contract the slowest direction by e^-4.4.
    const x = langevin(gaussianEnergy, x0, { steps: 600, stepSize: 0.02 });
    assert.equal(tf.memory().numTensors, tensors + 1, 'langevin leaks tensors');
    const { mean, cov } = moments(x);
    mean.forEach((m, i) => assert.ok(Math.abs(m - mu[i]) < 0.05, `mean ${mean} vs ${mu}`));
    assert.ok(Math.abs(cov[0][0] - sigma[0][0]) < 0.1, `cov ${JSON.stringify(cov)}`);
    assert.ok(Math.abs(cov[0][1] - sigma[0][1]) < 0.05, `cov ${JSON.stringify(cov)}`);
    assert.ok(Math.abs(cov[1][1] - sigma[1][1]) < 0.05, `cov ${JSON.stringify(cov)}`);
    // Half the noise: the chain x ← Mx + s√ε ξ is Gaussian with s² times the covariance.
    const half = langevin(gaussianEnergy, x0, { steps: 600, stepSize: 0.02, noiseScale: 0.5 });
    const scaled = moments(half).cov;
    [0, 1].forEach((i) =>
      [0, 1].forEach((j) =>
        assert.ok(
          Math.abs(scaled[i][j] - 0.25 * sigma[i][j]) < 0.03,
          `noise scale 0.5: cov ${JSON.stringify(scaled)} vs Σ/4`,
        ),
      ),
    );
    tf.dispose([x0, x, half]);
  },
);

test(
  'Langevin on a two-component mixture: the 10 x 10 histogram of 10,000 chains is within total ' +
    'variation 0.04 of the exact cell probabilities',
  async () => {
    await runtime.init({ seed: 1, report: false });
    // p(x) = 0.3 N((-1.2, 0), 0.7² I) + 0.7 N((1.2, 0.4), 0.8² I)
    const comps = [
      { w: 0.3, m: [-1.2, 0], s: 0.7 },
      { w: 0.7, m: [1.2, 0.4], s: 0.8 },
    ];
    const energy = (x: tf.Tensor2D) =>
      tf.tidy(() => {
        const logs = comps.map((c) =>
          tf.sub(
            tf.div(tf.sum(tf.square(tf.sub(x, tf.tensor1d(c.m))), 1), -2 * c.s * c.s),
            Math.log(2 * Math.PI * c.s * c.s) - Math.log(c.w),
          ),
        );
        return tf.neg(tf.logSumExp(tf.stack(logs, 1), 1)) as tf.Tensor1D;
      });
    const x0 = tf.mul(tf.randomNormal([10000, 2]), 2) as tf.Tensor2D;
    const x = langevin(energy, x0, { steps: 1000, stepSize: 0.025 });
    const points = x.arraySync();
    // Cells of width 0.8 over [-4, 4]²; exact cell masses from the normal CDF (the components are
    // isotropic, so each mass factorizes over the axes).
    const bins = 10;
    const lo = -4;
    const h = 0.8;
    const phi = (z: number) => 0.5 * (1 + erf(z / Math.SQRT2));
    let tv = 0;
    const counts = new Array(bins * bins).fill(0);
    for (const [a, b] of points) {
      const i = Math.floor((a - lo) / h);
      const j = Math.floor((b - lo) / h);
      if (i >= 0 && i < bins && j >= 0 && j < bins) counts[i * bins + j]++;
    }
    let outside = 1;
    for (let i = 0; i < bins; i++) {
      for (let j = 0; j < bins; j++) {
        const mass = comps.reduce((s, c) => {
          const px = phi((lo + (i + 1) * h - c.m[0]) / c.s) - phi((lo + i * h - c.m[0]) / c.s);
          const py = phi((lo + (j + 1) * h - c.m[1]) / c.s) - phi((lo + j * h - c.m[1]) / c.s);
          return s + c.w * px * py;
        }, 0);
        outside -= mass;
        tv += 0.5 * Math.abs(counts[i * bins + j] / points.length - mass);
      }
    }
    const seenOutside = 1 - counts.reduce((s, c) => s + c, 0) / points.length;
    tv += 0.5 * Math.abs(seenOutside - outside);
    assert.ok(tv < 0.04, `total variation ${tv}`);
    tf.dispose([x0, x]);
  },
);

/** erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y =
    1 -
    t *
      (0.254829592 +
        t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) *
      Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

test('Langevin: gradient clipping bounds the drift, bounds clip the points, same seed, same chain', async () => {
  await runtime.init({ seed: 2, report: false });
  const far = tf.tensor2d([
    [100, -100],
    [0.5, 0.5],
  ]);
  // Without noise one step moves by -(ε/2) clip(∇E): ∇E = A(x - μ) is huge at (100, -100).
  const step = langevin(gaussianEnergy, far, {
    steps: 1,
    stepSize: 0.1,
    noiseScale: 0,
    gradientClip: 2,
  }).arraySync();
  const grad = energyGradient(gaussianEnergy, far).arraySync();
  const clipped = grad.map((r) => r.map((g) => Math.max(-2, Math.min(2, g))));
  [0, 1].forEach((r) =>
    [0, 1].forEach((j) =>
      assert.ok(Math.abs(step[r][j] - (far.arraySync()[r][j] - 0.05 * clipped[r][j])) < 1e-4),
    ),
  );
  const boxed = langevin(gaussianEnergy, far, { steps: 5, stepSize: 0.1, bounds: [0, 1] });
  assert.ok(boxed.dataSync().every((v) => v >= 0 && v <= 1));
  const run = () => {
    runtime.seed(9);
    const x = langevin(gaussianEnergy, far, { steps: 20, stepSize: 0.05 });
    const values = Array.from(x.dataSync());
    x.dispose();
    return values;
  };
  assert.deepEqual(run(), run());
  tf.dispose([far, boxed]);
});

test('Langevin rejects bad options with clear messages', () => {
  const x = tf.zeros([3, 2]) as tf.Tensor2D;
  assert.throws(
    () => langevin(gaussianEnergy, x, { steps: 10, stepSize: -1 }),
    /stepSize must be a finite number > 0, got -1/,
  );
  assert.throws(
    () => langevin(gaussianEnergy, x, { steps: 1.5, stepSize: 1 }),
    /steps must be an integer >= 0/,
  );
  assert.throws(
    () => langevin(gaussianEnergy, x, { steps: 1, stepSize: 1, noiseScale: NaN }),
    /noiseScale must be a finite number >= 0, got NaN/,
  );
  assert.throws(
    () => langevin(gaussianEnergy, x, { steps: 1, stepSize: 1, gradientClip: 0 }),
    /gradientClip must be a number > 0/,
  );
  assert.throws(
    () => langevin(gaussianEnergy, x, { steps: 1, stepSize: 1, bounds: [1, 0] }),
    /bounds must be \[low, high\] with low < high/,
  );
  assert.throws(
    () => langevin(gaussianEnergy, x, { steps: 1, stepSize: 1, stepsize: 2 } as never),
    /unknown option 'stepsize' \(did you mean 'stepSize'\?\); the options are steps, stepSize/,
  );
  assert.throws(
    () => langevin(gaussianEnergy, tf.zeros([3]) as never, { steps: 1, stepSize: 1 }),
    /langevin\(x0\): expected points \[n, d\], got \[3\]/,
  );
  x.dispose();
});
