import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtime, tf } from 'genlab';

test('the same seed gives the same numbers, from the kit and from unseeded tfjs ops', async () => {
  await runtime.init({ seed: 7, report: false });
  const a = [runtime.random(), runtime.randn(), ...runtime.permutation(10)];
  const ta = tf.randomNormal([5]).arraySync();
  runtime.seed(7);
  const b = [runtime.random(), runtime.randn(), ...runtime.permutation(10)];
  const tb = tf.randomNormal([5]).arraySync();
  assert.deepEqual(a, b);
  assert.deepEqual(ta, tb);
  runtime.seed(8);
  assert.notDeepEqual(tf.randomNormal([5]).arraySync(), ta);
});

test('uniform draws have mean 1/2 and variance 1/12 within 5 standard errors', () => {
  runtime.seed(1);
  const n = 200000;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const u = runtime.random();
    assert.ok(u >= 0 && u < 1);
    s += u;
    s2 += u * u;
  }
  const mean = s / n;
  const variance = s2 / n - mean * mean;
  assert.ok(Math.abs(mean - 0.5) < 5 * Math.sqrt(1 / 12 / n), `mean ${mean}`);
  // Var of u^2 is 1/5 - 1/9, so the sample variance has standard error about sqrt(4/45/n).
  assert.ok(Math.abs(variance - 1 / 12) < 5 * Math.sqrt(4 / 45 / n), `variance ${variance}`);
});

test('randn has mean 0 and variance 1 within 5 standard errors', () => {
  runtime.seed(2);
  const n = 100000;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const z = runtime.randn();
    s += z;
    s2 += z * z;
  }
  assert.ok(Math.abs(s / n) < 5 / Math.sqrt(n));
  assert.ok(Math.abs(s2 / n - 1) < 5 * Math.sqrt(2 / n));
});

test('permutation is a permutation and each position is uniform', () => {
  runtime.seed(3);
  const counts = Array.from({ length: 4 }, () => new Array(4).fill(0));
  const trials = 20000;
  for (let t = 0; t < trials; t++) {
    const p = runtime.permutation(4);
    assert.deepEqual([...p].sort(), [0, 1, 2, 3]);
    p.forEach((v, i) => counts[i][v]++);
  }
  const expected = trials / 4;
  const se = Math.sqrt(trials * 0.25 * 0.75);
  for (const row of counts)
    for (const c of row) assert.ok(Math.abs(c - expected) < 5 * se, `count ${c}`);
});

test('seed rejects negative and fractional values', () => {
  assert.throws(() => runtime.seed(-1), /seed must be a non-negative integer, got -1/);
  assert.throws(() => runtime.seed(1.5), /seed must be a non-negative integer, got 1.5/);
});

test('fillUniform draws the same numbers as repeated random() calls', () => {
  runtime.seed(11);
  const one = Array.from({ length: 1000 }, () => runtime.random());
  runtime.seed(11);
  assert.deepEqual(Array.from(runtime.fillUniform(new Float64Array(1000))), one);
  assert.notDeepEqual(
    Array.from(runtime.fillUniform(new Float64Array(1000))),
    one,
    'the state moves on',
  );
});
