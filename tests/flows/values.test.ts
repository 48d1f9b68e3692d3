import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models, runtime, tf } from 'genlab';

const flows = models.flows;

/** x = e^s ⊙ z + b on a standard normal base: the Gaussian N(b, diag(e^{2s})). */
function gaussianFlow(logScale: number[], bias: number[]): models.flows.NormalizingFlow {
  const layer = new flows.ActNorm(2);
  layer.logScale.assign(tf.tensor1d(logScale));
  layer.bias.assign(tf.tensor1d(bias));
  return new flows.NormalizingFlow([layer]);
}

const normalDensity = (x: number, mean: number, sd: number) =>
  Math.exp(-0.5 * ((x - mean) / sd) ** 2) / (Math.sqrt(2 * Math.PI) * sd);

test('gridRows puts z2 in rows and z1 in columns', () => {
  const tensors = tf.memory().numTensors;
  const { x, z, cellArea } = flows.gridRows(
    (p) => tf.tidy(() => tf.add(tf.gather(p, 0, 1), tf.mul(10, tf.gather(p, 1, 1)))),
    1,
    4,
  );
  assert.deepEqual(x, [-0.75, -0.25, 0.25, 0.75]);
  assert.equal(cellArea, 0.25);
  z.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - (x[j] + 10 * x[i])) < 1e-5)));
  assert.equal(tf.memory().numTensors, tensors, 'gridRows must free its tensors');
});

test('densityGrid of a Gaussian flow is the closed-form density and integrates to 1', () => {
  const flow = gaussianFlow([Math.log(0.5), 0], [1, -0.5]);
  const tensors = tf.memory().numTensors;
  const grid = flows.densityGrid(flow, 5, 100);
  assert.equal(tf.memory().numTensors, tensors, 'densityGrid must free its tensors');
  for (const [i, j] of [
    [50, 60],
    [10, 70],
    [45, 45],
  ]) {
    const expected = normalDensity(grid.x[j], 1, 0.5) * normalDensity(grid.x[i], -0.5, 1);
    assert.ok(Math.abs(grid.z[i][j] - expected) < 1e-5 + 1e-4 * expected, `cell ${i}, ${j}`);
  }
  // the window [-5, 5]² holds all but ~1e-6 of the mass; the midpoint rule errs by ~1e-4
  assert.ok(Math.abs(grid.mass - 1) < 2e-3, `mass ${grid.mass}`);
  flow.dispose();
});

test('sampleRows: the flow moments by Monte Carlo; same seed, same numbers; no leaks', () => {
  const flow = gaussianFlow([Math.log(2), 0], [3, -1]);
  runtime.seed(5);
  const tensors = tf.memory().numTensors;
  const rows = flows.sampleRows(flow, 20000);
  assert.equal(tf.memory().numTensors, tensors, 'sampleRows must free its tensors');
  assert.equal(rows.length, 20000);
  assert.ok(rows.every((r) => r.length === 2));
  const mean = (k: number) => rows.reduce((s, r) => s + r[k], 0) / rows.length;
  const sd = (k: number) =>
    Math.sqrt(rows.reduce((s, r) => s + (r[k] - mean(k)) ** 2, 0) / rows.length);
  // standard errors: 2/√20000 = 0.014 and 1/√20000 = 0.007 for the means
  assert.ok(Math.abs(mean(0) - 3) < 0.06 && Math.abs(mean(1) + 1) < 0.03);
  assert.ok(Math.abs(sd(0) - 2) < 0.06 && Math.abs(sd(1) - 1) < 0.03);
  runtime.seed(5);
  assert.deepEqual(flows.sampleRows(flow, 20000), rows);
  flow.dispose();
});

test('toBase inverts the flow and gives log |det ∂f⁻¹/∂x| in closed form', () => {
  const flow = gaussianFlow([Math.log(2), Math.log(0.5)], [1, 2]);
  const tensors = tf.memory().numTensors;
  const { z, logDet } = flows.toBase(flow, [
    [1, 2],
    [5, 1],
  ]);
  assert.equal(tf.memory().numTensors, tensors, 'toBase must free its tensors');
  // z = (x - b) / e^s; log |det| = -Σ s = -(log 2 + log ½) = 0
  const expected = [
    [0, 0],
    [2, -2],
  ];
  z.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - expected[i][j]) < 1e-6)));
  logDet.forEach((v) => assert.ok(Math.abs(v) < 1e-6));
  flow.dispose();
});

test('branchMasses counts the points in each branch; the target is symmetric on U1', () => {
  // U1's first branch is the ring's right half (z1 ≈ 2), the second its left half
  const points = [
    [2, 0],
    [2.1, 0.3],
    [-2, 0],
    [0, 2], // top of the ring: both branches equally, counted in neither
  ];
  const tensors = tf.memory().numTensors;
  assert.deepEqual(flows.branchMasses('U1', points), [0.5, 0.25]);
  const [right, left] = flows.targetBranchMasses('U1', 300);
  assert.equal(tf.memory().numTensors, tensors, 'branch masses must free their tensors');
  // U1 is symmetric under z1 -> -z1; a thin band around z1 = 0 belongs to neither branch
  assert.ok(Math.abs(right - left) < 1e-4, `${right} vs ${left}`);
  assert.ok(right > 0.4 && right < 0.5, `right half ${right}`);
});

test('directionTimes gives two positive times', () => {
  const flow = gaussianFlow([0, 0], [0, 0]);
  const tensors = tf.memory().numTensors;
  const times = flows.directionTimes(flow, 100);
  assert.equal(tf.memory().numTensors, tensors, 'directionTimes must free its tensors');
  assert.ok(times.densityMs >= 0 && Number.isFinite(times.densityMs));
  assert.ok(times.samplingMs >= 0 && Number.isFinite(times.samplingMs));
  flow.dispose();
});

test('the value helpers reject bad input at once, naming the problem', () => {
  const flow = gaussianFlow([0, 0], [0, 0]);
  const tensors = tf.memory().numTensors;
  assert.throws(
    () => flows.gridRows('z' as unknown as (z: tf.Tensor2D) => tf.Tensor1D, 1, 4),
    /gridRows: f must be a function/,
  );
  assert.throws(() => flows.gridRows((z) => tf.sum(z, 1), -1, 4), /halfWidth must be > 0/);
  assert.throws(() => flows.densityGrid({} as models.flows.NormalizingFlow, 1, 4), /logProb/);
  assert.throws(() => flows.densityGrid(flow, 1, 0), /grid size must be a positive integer/);
  assert.throws(() => flows.sampleRows(flow, 1.5), /sample size n must be a positive integer/);
  assert.throws(() => flows.toBase(flow, [[1, 2, 3]]), /toBase: point 0 must be 2 finite numbers/);
  assert.throws(() => flows.toBase(flow, [[1, NaN]]), /point 0 must be 2 finite numbers/);
  assert.throws(() => flows.toBase(flow, []), /non-empty list of points/);
  assert.throws(() => flows.branchMasses('U2', [[0, 0]]), /two-branch energy 'U1', 'U3' or 'U4'/);
  assert.throws(() => flows.branchMasses('U5' as models.flows.EnergyName, [[0, 0]]), /got 'U5'/);
  assert.throws(() => flows.branchMasses('U1', [[0, Infinity]]), /point 0 must be 2 finite/);
  assert.throws(() => flows.targetBranchMasses('U2'), /two-branch energy/);
  assert.throws(() => flows.directionTimes(flow, 0), /the number of points n must be a positive/);
  assert.equal(tf.memory().numTensors, tensors, 'failed calls must not leak tensors');
  flow.dispose();
});
