import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models, runtime, tf } from 'genlab';

const { target, rezendeEnergy, secondBranchShare, ENERGY_NAMES, WINDOW, WALL_WIDTH } = models.flows;

test('log Z of U2 equals its closed form: (2W + 2·wall·√(π/2)) · 0.4√(2π)', async () => {
  await runtime.init({ seed: 0, report: false });
  // ∫ exp(-½((z2 - w1(z1))/0.4)²) dz2 = 0.4√(2π) for every z1; along z1 the window contributes 2W
  // and each wall wall·√(π/2).
  const exact = Math.log(
    (2 * WINDOW + 2 * WALL_WIDTH * Math.sqrt(Math.PI / 2)) * 0.4 * Math.sqrt(2 * Math.PI),
  );
  const grid = target('U2').logZ;
  assert.ok(Math.abs(grid - exact) < 1e-4, `grid log Z ${grid}, exact ${exact}`);
});

test(
  'grid log Z of U1-U4 is converged (600 vs 900 points per axis) and agrees with importance ' +
    'sampling',
  async () => {
    await runtime.init({ seed: 1, report: false });
    const n = 200000;
    for (const name of ENERGY_NAMES) {
      const coarse = target(name).logZ;
      const fine = target(name, { gridSize: 900 });
      assert.ok(Math.abs(coarse - fine.logZ) < 1e-4, `${name}: ${coarse} vs ${fine.logZ}`);
      // Z = area · E_uniform[exp(-U)] over [-5, 5]², estimated from n uniform draws.
      const weights = tf.tidy(() =>
        tf.exp(
          tf.neg(fine.energy(tf.randomUniform([n, 2], -(WINDOW + 1), WINDOW + 1) as tf.Tensor2D)),
        ),
      );
      const w = weights.dataSync();
      weights.dispose();
      const area = (2 * (WINDOW + 1)) ** 2;
      let mean = 0;
      for (const v of w) mean += v / n;
      let variance = 0;
      for (const v of w) variance += (v - mean) ** 2 / (n - 1);
      const z = area * mean;
      const se = area * Math.sqrt(variance / n);
      assert.ok(
        Math.abs(z - Math.exp(fine.logZ)) < 5 * se,
        `${name}: Monte Carlo Z ${z} ± ${se}, grid ${Math.exp(fine.logZ)}`,
      );
    }
  },
);

test('the energies match the formulas of Rezende & Mohamed (2015) at hand-computed points', async () => {
  await runtime.init({ seed: 0, report: false });
  const z = tf.tensor2d([
    [2, 0],
    [0, 1],
    [1, 1],
  ]);
  const u = (name: models.flows.EnergyName) => Array.from(rezendeEnergy(name, z).dataSync());
  const g = (x: number, s: number) => Math.exp(-0.5 * (x / s) ** 2);
  const w1 = (z1: number) => Math.sin((2 * Math.PI * z1) / 4);
  const expectU1 = ([a, b]: number[]) =>
    0.5 * ((Math.hypot(a, b) - 2) / 0.4) ** 2 - Math.log(g(a - 2, 0.6) + g(a + 2, 0.6));
  const expectU3 = ([a, b]: number[]) =>
    -Math.log(g(b - w1(a), 0.35) + g(b - w1(a) + 3 * g(a - 1, 0.6), 0.35));
  const expectU4 = ([a, b]: number[]) =>
    -Math.log(g(b - w1(a), 0.4) + g(b - w1(a) + 3 / (1 + Math.exp(-(a - 1) / 0.3)), 0.35));
  const points = z.arraySync();
  points.forEach((p, i) => {
    assert.ok(Math.abs(u('U1')[i] - expectU1(p)) < 1e-4);
    assert.ok(Math.abs(u('U2')[i] - 0.5 * ((p[1] - w1(p[0])) / 0.4) ** 2) < 1e-4);
    assert.ok(Math.abs(u('U3')[i] - expectU3(p)) < 1e-4);
    assert.ok(Math.abs(u('U4')[i] - expectU4(p)) < 1e-4);
  });
  // The window's wall is zero inside [-W, W]² and grows outside it.
  const t = target('U2', { gridSize: 100 });
  const inside = tf.tensor2d([[3.9, 0.5]]);
  const outside = tf.tensor2d([[4.5, 0.5]]);
  assert.ok(
    Math.abs(t.energy(inside).dataSync()[0] - rezendeEnergy('U2', inside).dataSync()[0]) < 1e-6,
  );
  assert.ok(t.energy(outside).dataSync()[0] - rezendeEnergy('U2', outside).dataSync()[0] > 10);
  tf.dispose([z, inside, outside]);
});

test(
  'secondBranchShare is the second term of the mixture at hand-computed points, and U1 puts ' +
    'half its mass on each half of the ring',
  async () => {
    await runtime.init({ seed: 0, report: false });
    const g = (x: number, s: number) => Math.exp(-0.5 * (x / s) ** 2);
    const w1 = (z1: number) => Math.sin((2 * Math.PI * z1) / 4);
    const points = [
      [2, 0],
      [1, -1.5],
      [-0.5, 0.3],
    ];
    const z = tf.tensor2d(points);
    const expected = {
      U1: ([a]: number[]) => g(a + 2, 0.6) / (g(a - 2, 0.6) + g(a + 2, 0.6)),
      U3: ([a, b]: number[]) => {
        const second = g(b - w1(a) + 3 * g(a - 1, 0.6), 0.35);
        return second / (g(b - w1(a), 0.35) + second);
      },
      U4: ([a, b]: number[]) => {
        const second = g(b - w1(a) + 3 / (1 + Math.exp(-(a - 1) / 0.3)), 0.35);
        return second / (g(b - w1(a), 0.4) + second);
      },
    };
    for (const [name, f] of Object.entries(expected)) {
      const share = secondBranchShare(name as models.flows.EnergyName, z).dataSync();
      points.forEach((p, i) => assert.ok(Math.abs(share[i] - f(p)) < 1e-5, `${name} at ${p}`));
    }
    // E_p[share] on the grid: U1 is symmetric under z1 -> -z1
    const u1 = target('U1', { gridSize: 200 });
    const mass = models.flows.gridValues(
      (x) => tf.mul(tf.exp(u1.logProb(x)), secondBranchShare('U1', x)) as tf.Tensor1D,
      WINDOW + 1,
      200,
    );
    const share = mass.values.reduce((s, v) => s + v, 0) * mass.cellArea;
    assert.ok(Math.abs(share - 0.5) < 1e-3, `U1's left half holds ${share} of the mass`);
    assert.throws(() => secondBranchShare('U2', z), /U2 has one branch; use U1, U3 or U4/);
    z.dispose();
  },
);

test('energies reject bad inputs with messages that name the parameter', async () => {
  await runtime.init({ seed: 0, report: false });
  assert.throws(
    () => target('U5' as models.flows.EnergyName),
    /unknown energy 'U5': use one of U1, U2, U3, U4/,
  );
  const bad = tf.zeros([3, 3]) as tf.Tensor2D;
  assert.throws(
    () => rezendeEnergy('U1', bad),
    /energy U1: expected points of shape \[batch, 2\], got \[3, 3\]/,
  );
  assert.throws(() => target('U1', { gridSize: 0 }), /grid size must be a positive integer, got 0/);
  assert.throws(
    () => models.flows.gridValues((z) => tf.sum(z, 1) as tf.Tensor1D, -1, 10),
    /grid halfWidth must be > 0, got -1/,
  );
  bad.dispose();
});
