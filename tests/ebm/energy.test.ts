import { test } from 'node:test';
import assert from 'node:assert/strict';
import { data, models, runtime, tf } from 'genlab';

const {
  EnergyNetwork,
  ENERGY_ACTIVATIONS,
  energyGradient,
  denoisingScoreMatchingLoss,
  normalizeOnGrid,
  gridKl,
  massAwayFrom,
} = models.ebm;

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

test('EnergyNetwork: the explicit input gradient equals autodiff of the energy, every activation', async () => {
  await runtime.init({ seed: 0, report: false });
  for (const activation of ENERGY_ACTIVATIONS) {
    const net = new EnergyNetwork(3, [16, 8], { activation });
    const x = tf.mul(tf.randomNormal([12, 3]), 2) as tf.Tensor2D;
    const tensors = tf.memory().numTensors;
    const explicit = net.gradient(x);
    const energy = net.energy(x);
    assert.equal(tf.memory().numTensors, tensors + 2, 'energy and gradient leak tensors');
    const autodiff = energyGradient((y) => net.energy(y), x);
    assert.deepEqual(energy.shape, [12]);
    assert.ok(maxAbsDiff(explicit, autodiff) < 1e-5, `${activation}: gradient`);
    tf.dispose([x, explicit, energy, autodiff]);
    net.dispose();
  }
});

test(
  'denoising score matching: the parameter gradient of the loss (through ∇_x E) equals central ' +
    'finite differences, every activation',
  async () => {
    await runtime.init({ seed: 1, report: false });
    for (const activation of ENERGY_ACTIVATIONS) {
      const net = new EnergyNetwork(2, [8, 8], { activation });
      const x = tf.randomNormal([16, 2]) as tf.Tensor2D;
      // the same noise draw at every evaluation
      const loss = () => {
        runtime.seed(5);
        return denoisingScoreMatchingLoss(net, x, 0.5);
      };
      const { value, grads } = tf.variableGrads(loss, net.variables());
      value.dispose();
      // The output bias shifts E by a constant: ∇_x E, and so the loss, does not depend on it.
      const outputBias = net.layers[net.layers.length - 1].b;
      assert.deepEqual(
        net.variables().filter((v) => !(v.name in grads)),
        [outputBias],
      );
      for (const v of net.variables().filter((w) => w !== outputBias)) {
        const g = grads[v.name].dataSync();
        const original = v.dataSync().slice();
        for (const i of [0, Math.floor(original.length / 2)]) {
          const at = (delta: number) => {
            const p = original.slice();
            p[i] += delta;
            v.assign(tf.tensor(p, v.shape));
            const l = loss();
            const out = l.dataSync()[0];
            l.dispose();
            return out;
          };
          const h = 1e-2;
          const numeric = (at(h) - at(-h)) / (2 * h);
          v.assign(tf.tensor(original, v.shape));
          assert.ok(
            Math.abs(g[i] - numeric) < 2e-3 + 0.02 * Math.abs(numeric),
            `${activation}, ${v.name}[${i}]: autodiff ${g[i]}, finite differences ${numeric}`,
          );
        }
      }
      tf.dispose([x, ...Object.values(grads)]);
      net.dispose();
    }
  },
);

test(
  'denoising score matching loss of a quadratic energy on Gaussian data equals its closed form ' +
    '(Monte Carlo, within 4 standard errors)',
  async () => {
    await runtime.init({ seed: 2, report: false });
    // Data N(μ, Σ), energy E = ½ (x - m)^T A (x - m): with x̃ = x + σε the residual is
    // -A(x - m) + (I/σ - σA) ε, so J = ½ [tr(AΣA) + |A(μ - m)|² + |I/σ - σA|_F²].
    const mu = [0.5, -1];
    const L = [
      [1, 0],
      [0.5, 0.6],
    ]; // Σ = L L^T
    const S = [
      [1, 0.5],
      [0.5, 0.61],
    ];
    const A = [
      [2, 0.3],
      [0.3, 1],
    ];
    const m = [0, 0.2];
    const sigma = 0.3;
    const quadratic = {
      energy: (x: tf.Tensor2D) =>
        tf.tidy(() => {
          const d = tf.sub(x, tf.tensor1d(m));
          return tf.mul(tf.sum(tf.mul(tf.matMul(d, tf.tensor2d(A)), d), 1), 0.5) as tf.Tensor1D;
        }),
      gradient: (x: tf.Tensor2D) =>
        tf.tidy(() => tf.matMul(tf.sub(x, tf.tensor1d(m)), tf.tensor2d(A)) as tf.Tensor2D),
    };
    const mat = (P: number[][], Q: number[][]) =>
      P.map((r) => Q[0].map((_, j) => r.reduce((s, x, k) => s + x * Q[k][j], 0)));
    const ASA = mat(mat(A, S), A);
    const Amu = [0, 1].map((i) => A[i][0] * (mu[0] - m[0]) + A[i][1] * (mu[1] - m[1]));
    const R = [0, 1].map((i) => [0, 1].map((j) => (i === j ? 1 / sigma : 0) - sigma * A[i][j]));
    const exact =
      0.5 *
      (ASA[0][0] + ASA[1][1] + Amu[0] ** 2 + Amu[1] ** 2 + R.flat().reduce((s, r) => s + r * r, 0));
    const batches = 100;
    const values: number[] = [];
    for (let b = 0; b < batches; b++) {
      const value = tf.tidy(() => {
        const x = tf.add(tf.matMul(tf.randomNormal([2000, 2]), tf.tensor2d(L), false, true), mu);
        return denoisingScoreMatchingLoss(quadratic, x as tf.Tensor2D, sigma).dataSync()[0];
      });
      values.push(value);
    }
    const mean = values.reduce((s, v) => s + v, 0) / batches;
    const se = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (batches - 1) / batches);
    assert.ok(Math.abs(mean - exact) < 4 * se, `Monte Carlo ${mean} ± ${se} vs exact ${exact}`);
    // ... and the autodiff path (plain function) gives the same number as the model's gradient.
    const x = tf.randomNormal([50, 2]) as tf.Tensor2D;
    runtime.seed(3);
    const viaModel = denoisingScoreMatchingLoss(quadratic, x, sigma).dataSync()[0];
    runtime.seed(3);
    const viaAutodiff = denoisingScoreMatchingLoss(quadratic.energy, x, sigma).dataSync()[0];
    assert.ok(Math.abs(viaModel - viaAutodiff) < 1e-4 * Math.abs(viaModel));
    x.dispose();
  },
);

test('grid normalization: log Z and KL of Gaussians against their closed forms', async () => {
  await runtime.init({ seed: 3, report: false });
  // E = |x - c|² / 2s²: Z = 2π s², and KL(N(c1, s1² I) || N(c2, s2² I)) in 2-D
  // = 2 log(s2/s1) + (2 s1² + |c1 - c2|²) / (2 s2²) - 1.
  const gaussian = (c: number[], s: number) => (x: tf.Tensor2D) =>
    tf.tidy(
      () => tf.div(tf.sum(tf.square(tf.sub(x, tf.tensor1d(c))), 1), -2 * s * s) as tf.Tensor1D,
    );
  const p = normalizeOnGrid(gaussian([0.3, -0.2], 0.5), 4, 200);
  const q = normalizeOnGrid(gaussian([-0.4, 0.1], 0.8), 4, 200);
  assert.ok(Math.abs(p.logZ - Math.log(2 * Math.PI * 0.25)) < 1e-4, `log Z ${p.logZ}`);
  const d2 = 0.7 ** 2 + 0.3 ** 2;
  const exact = 2 * Math.log(0.8 / 0.5) + (2 * 0.25 + d2) / (2 * 0.64) - 1;
  assert.ok(Math.abs(gridKl(p, q) - exact) < 1e-3, `KL ${gridKl(p, q)} vs ${exact}`);
  assert.ok(Math.abs(gridKl(p, p)) < 1e-12);
  // Where N(c1, 0.5²) is below 1% of its peak, |x - c1|² > 2 · 0.25 · log 100: the mass of
  // N(c1, 0.5²) there is exp(-log 100) = 0.01 (the squared radius is exponential in 2-D).
  assert.ok(Math.abs(massAwayFrom(p, p) - 0.01) < 2e-3, `${massAwayFrom(p, p)}`);
  assert.ok(massAwayFrom(q, p) > 0.1, 'the wider, shifted Gaussian spends more');
  const coarse = normalizeOnGrid(gaussian([0, 0], 1), 4, 50);
  assert.throws(() => gridKl(p, coarse), /different grids \(200 vs 50 cells per axis\)/);
  assert.throws(() => massAwayFrom(coarse, p), /massAwayFrom: .*different grids/);
  for (const fraction of [0, 1, NaN])
    assert.throws(() => massAwayFrom(q, p, fraction), /fraction must be in \(0, 1\)/);
  assert.throws(
    () => normalizeOnGrid(() => tf.fill([40000], NaN) as tf.Tensor1D, 4, 200),
    /log-density is NaN/,
  );
});

test('the ring and two-moons densities integrate to 1 and match histograms of their samples', async () => {
  await runtime.init({ seed: 4, report: false });
  const ring = normalizeOnGrid((x) => data.ringLogDensity(x, { std: 0.2 }), 3.5, 140);
  assert.ok(Math.abs(ring.logZ) < 1e-3, `ring: log mass on the window ${ring.logZ}`);
  const moons = normalizeOnGrid((x) => data.moonsLogDensity(x, 0.1), 3, 120);
  assert.ok(Math.abs(moons.logZ) < 1e-3, `moons: log mass on the window ${moons.logZ}`);
  // Histogram of 200,000 moons points on 20 x 20 cells of [-3, 3]² against the density's mass.
  const n = 200000;
  const points = data.moons(n, { noise: 0.1, seed: 11 }).points;
  const bins = 20;
  const counts = new Array(bins * bins).fill(0);
  for (let k = 0; k < n; k++) {
    const j = Math.floor((points[2 * k] + 3) / 0.3);
    const i = Math.floor((points[2 * k + 1] + 3) / 0.3);
    if (i >= 0 && i < bins && j >= 0 && j < bins) counts[i * bins + j]++;
  }
  const mass = new Array(bins * bins).fill(0);
  moons.logDensity.forEach((lp, c) => {
    const [i, j] = [Math.floor(c / 120), c % 120];
    mass[Math.floor(i / 6) * bins + Math.floor(j / 6)] += Math.exp(lp) * moons.cellArea;
  });
  const tv = 0.5 * mass.reduce((s, p, c) => s + Math.abs(p - counts[c] / n), 0);
  assert.ok(tv < 0.01, `moons: total variation ${tv}`);
  assert.throws(
    () => data.moonsLogDensity(tf.zeros([2, 2]) as tf.Tensor2D, 0),
    /noise must be a finite number > 0/,
  );
  assert.throws(
    () => data.ringLogDensity(tf.zeros([2, 3]) as tf.Tensor2D),
    /expected points \[n, 2\], got \[2, 3\]/,
  );
});

test('EnergyNetwork rejects bad inputs with clear messages', () => {
  assert.throws(() => new EnergyNetwork(0, [4]), /dim must be a positive integer, got 0/);
  assert.throws(
    () => new EnergyNetwork(2, [4, -1]),
    /hidden must list positive integer layer sizes/,
  );
  assert.throws(
    () => new EnergyNetwork(2, [4], { activation: 'relu' as never }),
    /unknown activation 'relu': use one of swish, softplus, tanh/,
  );
  const net = new EnergyNetwork(2, [4]);
  assert.throws(
    () => net.energy(tf.zeros([3, 5]) as tf.Tensor2D),
    /expected points \[n, 2\], got \[3, 5\]/,
  );
  assert.throws(
    () => denoisingScoreMatchingLoss(net, tf.zeros([3, 2]) as tf.Tensor2D, -1),
    /sigma \(the noise scale\) must be a number > 0, got -1/,
  );
  net.dispose();
});

test('the pieces of the exercises: one Langevin update, the score matching objective, the CD loss', () => {
  const { langevinUpdate, scoreMatchingObjective, contrastiveDivergenceLoss } = models.ebm;
  const x = tf.tensor2d([[1, 2]]);
  const grad = tf.tensor2d([[4, -2]]);
  const noise = tf.tensor2d([[0.5, -1]]);
  // x - (ε/2) ∇E + s √ε ξ with ε = 0.25, s = 2: (1 - 0.5 + 0.5, 2 + 0.25 - 1)
  assert.deepEqual(langevinUpdate(x, grad, noise, 0.25, 2).arraySync(), [[1, 1.25]]);
  // ½ mean ||ξ/σ - ∇E||², σ = 0.5: ½ ((1 - 4)² + (-2 + 2)²) = 4.5
  assert.equal(scoreMatchingObjective(grad, noise, 0.5).dataSync()[0], 4.5);
  // mean(E+) - mean(E-) + α (mean E+² + mean E-²) = 1 - 3 + 0.1 (1.25 + 9) = -0.975
  const loss = contrastiveDivergenceLoss(tf.tensor1d([0.5, 1.5]), tf.tensor1d([3]), 0.1);
  assert.ok(Math.abs(loss.dataSync()[0] + 0.975) < 1e-6);
  tf.dispose([x, grad, noise, loss]);
});

test('sampleTotalVariation: the empirical cell frequencies against a grid density', async () => {
  await runtime.init({ seed: 5, report: false });
  const { sampleTotalVariation } = models.ebm;
  const uniform = normalizeOnGrid((x) => tf.zeros([x.shape[0]]) as tf.Tensor1D, 1, 4);
  // every point in one of the 16 equal cells: TV = 1 - 1/16; every point outside: TV = 1
  const one = tf.fill([10, 2], 0.1) as tf.Tensor2D;
  assert.ok(Math.abs(sampleTotalVariation(one, uniform) - 15 / 16) < 1e-9);
  const away = tf.fill([10, 2], 5) as tf.Tensor2D;
  assert.ok(Math.abs(sampleTotalVariation(away, uniform) - 1) < 1e-9);
  const spread = tf.randomUniform([40000, 2], -1, 1) as tf.Tensor2D;
  assert.ok(sampleTotalVariation(spread, uniform) < 0.02);
  tf.dispose([one, away, spread]);
});

test('sampleFromGrid draws from the grid density; randomBatch draws rows of the data', async () => {
  await runtime.init({ seed: 6, report: false });
  const { sampleFromGrid, sampleTotalVariation, randomBatch } = models.ebm;
  const density = normalizeOnGrid(
    (x) => tf.tidy(() => tf.mul(tf.sum(tf.square(x), 1), -2) as tf.Tensor1D),
    2,
    20,
  );
  const draws = sampleFromGrid(density, 200000);
  assert.ok(sampleTotalVariation(draws, density) < 0.02, 'draws follow the cell masses');
  const data = tf.tensor2d([
    [1, 2],
    [3, 4],
  ]);
  const batch = randomBatch(data, 100).arraySync();
  assert.ok(batch.every((r) => (r[0] === 1 && r[1] === 2) || (r[0] === 3 && r[1] === 4)));
  assert.ok(batch.some((r) => r[0] === 1) && batch.some((r) => r[0] === 3));
  assert.throws(() => sampleFromGrid(density, 0), /n must be a positive integer, got 0/);
  tf.dispose([draws, data]);
});

test('pathsOverDensity draws the density and each path with its start and end marked', async () => {
  await runtime.init({ seed: 7, report: false });
  const density = normalizeOnGrid((x) => tf.zeros([x.shape[0]]) as tf.Tensor1D, 1, 4);
  const paths = [
    [
      [0, 0],
      [0.5, 0.1],
      [0.6, -0.2],
    ],
    [
      [-1, 1],
      [-0.8, 0.7],
    ],
  ];
  const fig = models.ebm.pathsOverDensity(density, paths, { title: 't' });
  assert.equal(fig.data.length, 1 + 2 * paths.length);
  assert.equal(fig.data[0].type, 'heatmap');
  assert.deepEqual(fig.data[1].x, [0, 0.5, 0.6]);
  assert.deepEqual(fig.data[2].x, [0, 0.6], 'markers at the start and the end');
  assert.deepEqual(fig.data[4].y, [1, 0.7]);
  const layout = fig.layout as {
    xaxis: { title: { text: string } };
    yaxis: { scaleanchor: string };
    legend: { orientation: string; y: number };
  };
  assert.equal(layout.xaxis.title.text, 'x₁');
  assert.equal(layout.yaxis.scaleanchor, 'x');
  assert.ok(layout.legend.orientation === 'h' && layout.legend.y < 0, 'legend under the plot');
});
