import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtime, samplers } from 'genlab';

function ar1(n: number, phi: number): Float64Array {
  const x = new Float64Array(n);
  x[0] = runtime.randn() / Math.sqrt(1 - phi * phi);
  for (let t = 1; t < n; t++) x[t] = phi * x[t - 1] + runtime.randn();
  return x;
}

test('autocorrelation of an AR(1) series is phi^k', () => {
  runtime.seed(3);
  const phi = 0.7;
  const rho = samplers.autocorrelation(ar1(40000, phi), 5);
  assert.equal(rho[0], 1);
  // The standard error of rho_k for n = 40000 with tau ~ 5.7 is about 0.012; allow 5 of them.
  for (let k = 1; k <= 5; k++)
    assert.ok(Math.abs(rho[k] - phi ** k) < 0.06, `lag ${k}: ${rho[k]} vs ${phi ** k}`);
});

test('effective sample size: about n for independent draws, n (1 - phi) / (1 + phi) for AR(1)', () => {
  runtime.seed(4);
  const n = 20000;
  const iid = Float64Array.from({ length: n }, () => runtime.randn());
  const essIid = samplers.effectiveSampleSize(iid);
  assert.ok(Math.abs(essIid / n - 1) < 0.15, `iid ESS ${essIid}`);
  const phi = 0.9;
  const expected = (n * (1 - phi)) / (1 + phi);
  const ess = samplers.effectiveSampleSize(ar1(n, phi));
  assert.ok(Math.abs(ess / expected - 1) < 0.3, `AR(1) ESS ${ess} vs ${expected}`);
});

test('total variation, frequencies, running frequencies, checkpoints', () => {
  assert.equal(samplers.totalVariation([0.5, 0.5], [0.5, 0.5]), 0);
  assert.equal(samplers.totalVariation([1, 0], [0, 1]), 1);
  assert.ok(
    Math.abs(samplers.totalVariation([0.1, 0.4, 0.3, 0.2], [0.25, 0.25, 0.25, 0.25]) - 0.2) < 1e-12,
  );
  assert.deepEqual(samplers.frequencies([0, 1, 1, 3], 4), [0.25, 0.5, 0, 0.25]);
  assert.deepEqual(samplers.runningFrequencies([0, 1, 1, 3], 4, [1, 2, 4]), [
    [1, 0, 0, 0],
    [0.5, 0.5, 0, 0],
    [0.25, 0.5, 0, 0.25],
  ]);
  assert.deepEqual(samplers.runningTotalVariation([0, 1], [0.5, 0.5], [1, 2]), [0.5, 0]);
  const cp = samplers.logCheckpoints(1, 1000, 4);
  assert.deepEqual(cp, [1, 10, 100, 1000]);
});

test('burn-in and thinning keep the right values', () => {
  assert.deepEqual(samplers.discardBurnIn([1, 2, 3, 4], 2), [3, 4]);
  assert.deepEqual(samplers.thin([1, 2, 3, 4, 5, 6, 7], 3), [3, 6]);
  // Thinning an AR(1) chain by m gives an AR(1) chain with coefficient phi^m.
  runtime.seed(5);
  const thinned = samplers.thin(ar1(60000, 0.8), 3);
  const rho1 = samplers.autocorrelation(thinned, 1)[1];
  assert.ok(Math.abs(rho1 - 0.8 ** 3) < 0.05, `thinned lag-1 autocorrelation ${rho1}`);
});

test('diagnostics reject bad inputs with clear messages', () => {
  assert.throws(
    () => samplers.totalVariation([1], [0.5, 0.5]),
    /same positive length, got 1 and 2/,
  );
  assert.throws(
    () => samplers.frequencies([0, 4], 4),
    /code 4 at position 1 is not a state in \[0, 4\)/,
  );
  assert.throws(
    () => samplers.runningFrequencies([0, 1], 2, [2, 1]),
    /checkpoints must be increasing/,
  );
  assert.throws(() => samplers.autocorrelation([1, 1, 1], 1), /constant/);
  assert.throws(
    () => samplers.autocorrelation([1, 2, 3], 3),
    /maxLag must be an integer in \[0, 2\], got 3/,
  );
  assert.throws(() => samplers.effectiveSampleSize([1, 2]), /at least 4 values/);
  assert.throws(
    () => samplers.discardBurnIn([1, 2], 2),
    /count must be an integer in \[0, 2\), got 2/,
  );
  assert.throws(() => samplers.thin([1, 2], 0), /every must be a positive integer, got 0/);
  assert.throws(() => samplers.logCheckpoints(0, 10, 3), /need 1 <= from <= to/);
});
