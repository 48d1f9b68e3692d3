import { test } from 'node:test';
import assert from 'node:assert/strict';
import { data } from 'genlab';

test('two moons without noise lie exactly on their two half circles, half the points each', () => {
  const m = data.moons(1001, { noise: 0, seed: 3 });
  assert.equal(m.size, 1001);
  assert.equal(m.labels.filter((l) => l === 0).length, 501);
  for (let i = 0; i < m.size; i++) {
    const [x, y] = [m.points[2 * i], m.points[2 * i + 1]];
    const r = m.labels[i] === 0 ? Math.hypot(x, y) : Math.hypot(x - 1, y - 0.5);
    assert.ok(Math.abs(r - 1) < 1e-6, `point ${i} is off its circle: radius ${r}`);
    assert.ok(m.labels[i] === 0 ? y >= -1e-7 : y <= 0.5 + 1e-7, `point ${i} is on the wrong half`);
  }
});

test(
  'with noise, the mean is (1/2, 1/4) within 5 standard errors derived from the exact ' +
    'variances',
  () => {
    const n = 20000;
    const noise = 0.2;
    const m = data.moons(n, { noise, seed: 7 });
    let mx = 0;
    let my = 0;
    for (let i = 0; i < n; i++) {
      mx += m.points[2 * i] / n;
      my += m.points[2 * i + 1] / n;
    }
    // t ~ U[0, π]: E[cos t] = 0, E[cos²t] = E[sin²t] = ½, E[sin t] = 2/π. Half the points on each
    // moon: x = cos t or 1 - cos t: E[x] = ½, E[x²] = ½·½ + ½·(1 + ½) = 1, Var = ¾ (+ noise²) y =
    // sin t or ½ - sin t: E[y] = ¼, E[y²] = ½·½ + ½·(¼ - 2/π + ½)
    const varX = 0.75 + noise ** 2;
    const eSin = 2 / Math.PI;
    const eY2 = 0.5 * 0.5 + 0.5 * (0.25 - eSin + 0.5);
    const varY = eY2 - 0.25 ** 2 + noise ** 2;
    assert.ok(Math.abs(mx - 0.5) < 5 * Math.sqrt(varX / n), `mean x ${mx}`);
    assert.ok(Math.abs(my - 0.25) < 5 * Math.sqrt(varY / n), `mean y ${my}`);
  },
);

test('same seed gives the same points; another seed gives others', () => {
  const a = data.moons(50, { seed: 11 });
  const b = data.moons(50, { seed: 11 });
  const c = data.moons(50, { seed: 12 });
  assert.deepEqual(a.points, b.points);
  assert.notDeepEqual(a.points, c.points);
  const t = a.tensor();
  assert.deepEqual(t.shape, [50, 2]);
  assert.deepEqual(Array.from(t.dataSync()), Array.from(a.points));
  t.dispose();
});

test('moons rejects bad inputs with messages that name the parameter', () => {
  assert.throws(() => data.moons(0), /moons: n must be a positive integer, got 0/);
  assert.throws(
    () => data.moons(10, { noise: -0.1 }),
    /moons: noise must be a finite number >= 0, got -0.1/,
  );
  assert.throws(
    () => data.moons(10, { seed: 1.5 }),
    /moons: seed must be a non-negative integer, got 1.5/,
  );
});
