import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtime, samplers, tf } from 'genlab';
import { captureLines, interruptAfter } from '../runtime/loop-helpers';

// P(X = x, Y = y) = TUTORIAL_JOINT[x][y]: lecture 002's table, which has one row per value of Y
const TUTORIAL_JOINT = [
  [0.1, 0.3],
  [0.4, 0.2],
];

test('the tutorial table: conditionals are the column- and row-normalized joint', async () => {
  await runtime.init({ seed: 0, report: false });
  const c = samplers.tableConditionals(TUTORIAL_JOINT);
  // P(X = x | Y = y) stored [y][x]; P(Y = y | X = x) stored [x][y]
  // the lecture's values: P(X | Y = 0) = (1/5, 4/5), P(X | Y = 1) = (3/5, 2/5), P(Y | X = 0) =
  // (1/4, 3/4), P(Y | X = 1) = (2/3, 1/3)
  const expectXgivenY = [
    [1 / 5, 4 / 5],
    [3 / 5, 2 / 5],
  ];
  const expectYgivenX = [
    [1 / 4, 3 / 4],
    [2 / 3, 1 / 3],
  ];
  c.conditionalXgivenY
    .flat()
    .forEach((p, k) => assert.ok(Math.abs(p - expectXgivenY.flat()[k]) < 1e-12));
  c.conditionalYgivenX
    .flat()
    .forEach((p, k) => assert.ok(Math.abs(p - expectYgivenX.flat()[k]) < 1e-12));
});

test(
  'Gibbs on the 2x2 table: TV distance to the exact table < 0.01 after 10^5 sweeps of ' +
    'one chain',
  async () => {
    await runtime.init({ seed: 0, report: false });
    const sampler = new samplers.GibbsSampler(samplers.tableConditionals(TUTORIAL_JOINT));
    const init = tf.zeros([1, 2]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    const run = await sampler.run(init, { sweeps: 100000 });
    assert.equal(tf.memory().numTensors, before, 'run leaks tensors');
    const codes = samplers.tableStateCodes(run, 2);
    assert.equal(codes.length, 100000);
    const tv = samplers.totalVariation(samplers.frequencies(codes, 4), TUTORIAL_JOINT.flat());
    assert.ok(tv < 0.01, `TV ${tv}`);
    init.dispose();
  },
);

test('random scan also converges to the table, and the same seed gives the same chain', async () => {
  const draw = async () => {
    runtime.seed(7);
    const init = tf.zeros([50, 2]) as tf.Tensor2D;
    const run = await new samplers.GibbsSampler(
      samplers.tableConditionals(TUTORIAL_JOINT),
      'random',
    ).run(init, { sweeps: 400, burnIn: 20, thin: 2 });
    init.dispose();
    return run;
  };
  const a = await draw();
  const b = await draw();
  assert.deepEqual(a.values, b.values);
  assert.equal(a.sweeps, 200);
  // 10^4 draws: the expected TV is about 0.005 times the root autocorrelation time; 0.03 is > 5
  // standard errors.
  const tv = samplers.totalVariation(
    samplers.frequencies(samplers.tableStateCodes(a, 2), 4),
    TUTORIAL_JOINT.flat(),
  );
  assert.ok(tv < 0.03, `TV ${tv}`);
});

test(
  'bivariate Gaussian: moments match, and the lag-1 autocorrelation of x1 under systematic ' +
    'scan is rho^2',
  async () => {
    await runtime.init({ seed: 1, report: false });
    const rho = 0.8;
    const chains = 40;
    const init = tf.randomNormal([chains, 2]) as tf.Tensor2D;
    const run = await new samplers.GibbsSampler(samplers.bivariateGaussianConditionals(rho)).run(
      init,
      {
        sweeps: 500,
        burnIn: 50,
      },
    );
    init.dispose();
    let sxy = 0;
    let sxx = 0;
    let sx = 0;
    const n = run.sweeps * chains;
    for (let k = 0; k < n; k++) {
      const [x, y] = [run.values[2 * k], run.values[2 * k + 1]];
      sxy += x * y;
      sxx += x * x;
      sx += x;
    }
    // Effective sample size is about n (1 - rho^2) / (1 + rho^2) ~ 0.22 n; tolerances are ~5
    // standard errors.
    const se = 1 / Math.sqrt(0.22 * n);
    assert.ok(Math.abs(sx / n) < 5 * se, `mean ${sx / n}`);
    assert.ok(Math.abs(sxx / n - 1) < 5 * Math.SQRT2 * se, `variance ${sxx / n}`);
    assert.ok(Math.abs(sxy / n - rho) < 5 * se, `E[xy] ${sxy / n}`);
    // x1_{t+1} = rho^2 x1_t + noise under systematic scan, so the lag-1 autocorrelation is rho^2 =
    // 0.64.
    let lag1 = 0;
    for (let c = 0; c < chains; c++)
      lag1 += samplers.autocorrelation(run.trace(0, c), 1)[1] / chains;
    assert.ok(Math.abs(lag1 - rho * rho) < 0.04, `lag-1 autocorrelation ${lag1}`);
  },
);

test('Gibbs sampler rejects bad inputs with clear messages', async () => {
  assert.throws(
    () =>
      samplers.tableConditionals([
        [0.5, 0.6],
        [0, 0],
      ]),
    /must sum to 1/,
  );
  assert.throws(() => samplers.tableConditionals([[0.5, 0.5]]), /at least 2 rows/);
  assert.throws(
    () =>
      samplers.tableConditionals([
        [0.5, 0.5],
        [0, 0],
      ]),
    /positive probability/,
  );
  assert.throws(
    () =>
      samplers.tableConditionals([
        [-0.1, 0.6],
        [0.3, 0.2],
      ]),
    /probabilities >= 0/,
  );
  assert.throws(
    () => samplers.bivariateGaussianConditionals(1),
    /rho must be a correlation in \(-1, 1\), got 1/,
  );
  const s = new samplers.GibbsSampler(samplers.bivariateGaussianConditionals(0.5));
  assert.throws(
    () =>
      new samplers.GibbsSampler(
        samplers.bivariateGaussianConditionals(0.5),
        'blocked' as samplers.Scan,
      ),
    /scan must be one of 'systematic', 'random', got 'blocked'/,
  );
  const bad = tf.zeros([3, 3]) as tf.Tensor2D;
  assert.throws(() => s.sweep(bad), /state must have shape \[chains, 2\], got \[3, 3\]/);
  const ok = tf.zeros([3, 2]) as tf.Tensor2D;
  await assert.rejects(
    () => s.run(ok, { sweeps: 0 }),
    /GibbsSampler.run: sweeps must be a positive integer, got 0/,
  );
  await assert.rejects(() => s.run(ok, { sweeps: 5, thin: 0 }), /thin must be a positive integer/);
  await assert.rejects(
    () => s.run(ok, { sweeps: 5, burnIn: -1 }),
    /burnIn must be a non-negative integer/,
  );
  await assert.rejects(
    () => s.run(ok, { sweeps: 5, burnin: 2 } as never),
    /GibbsSampler.run: unknown option 'burnin' \(did you mean 'burnIn'\?\)/,
  );
  const run = await s.run(ok, { sweeps: 2 });
  assert.throws(() => run.trace(2), /dim must be an integer in \[0, 2\)/);
  assert.throws(() => run.trace(0, 3), /chain must be an integer in \[0, 3\)/);
  tf.dispose([bad, ok]);
  await assert.rejects(() => s.run([], { sweeps: 2 }), /init needs at least one chain/);
  await assert.rejects(
    () => s.run([[0, 1], [2]], { sweeps: 2 }),
    /chain 1 must be an array of 2 numbers/,
  );
  await assert.rejects(() => s.run([[0, NaN]], { sweeps: 2 }), /chain 0 has a non-finite value/);
});

test('a run started from arrays is the run started from the same tensor', async () => {
  const sampler = new samplers.GibbsSampler(samplers.bivariateGaussianConditionals(0.9));
  const start = [
    [-2, 2],
    [0.5, 0],
  ];
  runtime.seed(3);
  const fromArrays = await sampler.run(start, { sweeps: 50, burnIn: 5 });
  const init = tf.tensor2d(start);
  runtime.seed(3);
  const fromTensor = await sampler.run(init, { sweeps: 50, burnIn: 5 });
  init.dispose();
  assert.equal(fromArrays.chains, 2);
  assert.deepEqual(fromArrays.values, fromTensor.values);
});

test(
  'tableGibbsSweep: inverse-CDF sweep with uniform u draws x with P(X | y), then y with P(Y ' +
    '| new x)',
  () => {
    const c = samplers.tableConditionals(TUTORIAL_JOINT);
    // Over a fine grid of u1, the fraction giving x = 1 is P(X = 1 | Y = y).
    for (const y of [0, 1]) {
      let ones = 0;
      for (let k = 0; k < 1000; k++)
        ones += samplers.tableGibbsSweep(TUTORIAL_JOINT, [0, y], [(k + 0.5) / 1000, 0.5])[0];
      assert.ok(Math.abs(ones / 1000 - c.conditionalXgivenY[y][1]) < 2e-3);
    }
    // y is drawn given the new x: with u1 = 0.99 and y = 0, x = 1, and P(Y = 0 | X = 1) = 2/3.
    assert.deepEqual(samplers.tableGibbsSweep(TUTORIAL_JOINT, [0, 0], [0.99, 0.66]), [1, 0]);
    assert.deepEqual(samplers.tableGibbsSweep(TUTORIAL_JOINT, [0, 0], [0.99, 0.67]), [1, 1]);
    assert.throws(
      () => samplers.tableGibbsSweep(TUTORIAL_JOINT, [0, 2], [0.5, 0.5]),
      /y must be a column index in \[0, 2\), got 2/,
    );
    assert.equal(
      samplers.integratedAutocorrelationTime([1, 0.5, 0.25, 0.125]),
      -1 + 2 * (1.5 + 0.375),
    );
    assert.throws(() => samplers.integratedAutocorrelationTime([0.9, 0.5]), /rho_0 = 1/);
  },
);

test('an interrupted Gibbs run keeps the sweeps done, marked interrupted, and leaks nothing', async () => {
  await runtime.init({ seed: 5, report: false });
  const sampler = new samplers.GibbsSampler(samplers.tableConditionals(TUTORIAL_JOINT));
  const init = tf.zeros([3, 2]) as tf.Tensor2D;
  const tensors = tf.memory().numTensors;
  const stop = interruptAfter(6);
  const { value: run, lines } = await captureLines(() =>
    sampler.run(init, { sweeps: 1000, burnIn: 2, onSample: stop.hook }),
  );
  runtime.loopRegistry().reset();
  assert.equal(run.interrupted, true);
  assert.equal(run.sweeps, 6);
  assert.equal(run.values.length, 6 * 3 * 2);
  assert.equal(run.trace(1, 2).length, 6);
  assert.equal(tf.memory().numTensors, tensors);
  assert.deepEqual(lines, [
    'Gibbs sampling: stopped at sweep 8/1002 (interrupted); the run holds the 6 sweeps kept so far',
  ]);
  init.dispose();
});

test('tableSweepTransition: the exact law of tableGibbsSweep, and P is its stationary distribution', () => {
  const joint = [
    [0.05, 0.15, 0.1],
    [0.3, 0.25, 0.15],
  ];
  const transition = samplers.tableSweepTransition(joint);
  const cols = 3;
  // Against the sweep itself: on a 400 x 400 grid of uniforms (u0, u1), the share of grid points
  // that move each state to each other state is its probability, to the grid's resolution.
  const grid = 400;
  transition.forEach((row, from) => {
    const counts = new Array(row.length).fill(0);
    const state: [number, number] = [Math.floor(from / cols), from % cols];
    for (let i = 0; i < grid; i++)
      for (let j = 0; j < grid; j++) {
        const [x, y] = samplers.tableGibbsSweep(joint, state, [(i + 0.5) / grid, (j + 0.5) / grid]);
        counts[x * cols + y]++;
      }
    row.forEach((p, to) => assert.ok(Math.abs(counts[to] / grid ** 2 - p) < 2 / grid));
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-12, 'a row sums to 1');
  });
  // Invariance: one sweep applied to P returns P.
  const p = joint.flat();
  const after = p.map((_, to) => p.reduce((s, pFrom, from) => s + pFrom * transition[from][to], 0));
  after.forEach((v, k) => assert.ok(Math.abs(v - p[k]) < 1e-12, `state ${k}: ${v} vs ${p[k]}`));
  // A distribution that is not P moves: the check can fail.
  const uniform = p.map(() => 1 / p.length);
  const moved = p.map((_, to) => uniform.reduce((s, u, from) => s + u * transition[from][to], 0));
  assert.ok(moved.some((v, k) => Math.abs(v - uniform[k]) > 0.01));
  assert.throws(() => samplers.tableSweepTransition([[0.5, 0.6]]), /at least 2 rows/);
  assert.throws(
    () =>
      samplers.tableSweepTransition([
        [0.5, NaN],
        [0.2, 0.3],
      ]),
    /finite probabilities/,
  );
  assert.throws(
    () =>
      samplers.tableSweepTransition([
        [0.5, 0],
        [0.5, 0],
      ]),
    /every row and column needs positive probability/,
  );
});
