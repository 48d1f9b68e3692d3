import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distributions, models, runtime } from 'genlab';

const { codeStatistics, distanceToCodes } = models.vae;

test('codeStatistics: the fit of Gaussian codes and its KL from N(0, I) in closed form', async () => {
  await runtime.init({ seed: 0, report: false });
  const [m, s] = [
    [0.5, -2],
    [3, 0.4],
  ];
  const codes = Array.from({ length: 20000 }, () => m.map((mj, j) => mj + s[j] * runtime.randn()));
  const stats = codeStatistics(codes);
  stats.mean.forEach((x, j) => assert.ok(Math.abs(x - m[j]) < 4 * (s[j] / Math.sqrt(20000))));
  stats.std.forEach((x, j) => assert.ok(Math.abs(x / s[j] - 1) < 0.02, `std ${x} vs ${s[j]}`));
  // The same KL from the library's closed form for two univariate Gaussians, summed over j.
  const expected = stats.mean.reduce(
    (t, mj, j) =>
      t +
      runtime.toNumber(
        distributions.kl(
          new distributions.Normal(mj, stats.std[j]),
          new distributions.Normal(0, 1),
        ),
      ),
    0,
  );
  assert.ok(Math.abs(stats.klFromPrior - expected) < 1e-4 * expected, `${stats.klFromPrior}`);
  assert.deepEqual(
    codeStatistics([
      [0, 0],
      [0, 0],
    ]).klFromPrior,
    Infinity,
    'codes on one point: infinitely far from the prior',
  );
});

test('distanceToCodes: distances in units of the codes’ spacing on a lattice', () => {
  const lattice = Array.from({ length: 100 }, (_, k) => [k % 10, Math.floor(k / 10)]);
  const d = distanceToCodes(lattice, [
    [4, 4],
    [4.5, 4.5],
    [20, 4],
  ]);
  assert.deepEqual(
    d.map((x) => Number(x.toFixed(6))),
    [0, Number(Math.SQRT1_2.toFixed(6)), 11],
  );
  const scaled = distanceToCodes(
    lattice.map(([x, y]) => [3 * x, 3 * y]),
    [[60, 12]],
  );
  assert.equal(scaled[0], 11, 'the unit is the spacing, not the coordinates');
});

test('codeStatistics and distanceToCodes name bad inputs', () => {
  assert.throws(() => codeStatistics([]), /codes must be a non-empty list of rows/);
  assert.throws(() => codeStatistics([[1, 2], [3]]), /codes\[1\] must be a row of 2 numbers/);
  assert.throws(
    () =>
      codeStatistics([
        [1, NaN],
        [0, 0],
      ]),
    /codes\[0\]\[1\] is NaN/,
  );
  assert.throws(() => codeStatistics([[1, 2]]), /needs two codes or more/);
  const codes = [
    [0, 0],
    [1, 1],
  ];
  assert.throws(() => distanceToCodes(codes, [[1, 2, 3]]), /points\[0\] must be a row of 2/);
  assert.throws(() => distanceToCodes(codes, [[Infinity, 0]]), /points\[0\]\[0\] is Infinity/);
  assert.throws(
    () =>
      distanceToCodes(
        [
          [0, 0],
          [0, 0],
          [0, 0],
        ],
        [[1, 1]],
      ),
    /more than half of the codes coincide/,
  );
});
