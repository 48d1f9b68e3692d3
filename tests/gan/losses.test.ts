import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models, runtime, tf } from 'genlab';

const { discriminatorLoss, minimaxGeneratorLoss, nonSaturatingGeneratorLoss, generatorLoss } =
  models.gan;

const sigmoid = (l: number): number => 1 / (1 + Math.exp(-l));
const col = (values: number[]): tf.Tensor2D => tf.tensor2d(values, [values.length, 1]);
const value = (t: tf.Scalar): number => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

test('setup', async () => {
  await runtime.init({ seed: 0, report: false });
});

test('at D = 1/2 everywhere the losses are 2 log 2, -log 2 and log 2', () => {
  const zero = col([0, 0, 0]);
  assert.ok(Math.abs(value(discriminatorLoss(zero, zero)) - 2 * Math.log(2)) < 1e-6);
  assert.ok(Math.abs(value(minimaxGeneratorLoss(zero)) + Math.log(2)) < 1e-6);
  assert.ok(Math.abs(value(nonSaturatingGeneratorLoss(zero)) - Math.log(2)) < 1e-6);
  zero.dispose();
});

test('the losses match the lecture formulas evaluated on probabilities', () => {
  const realLogits = [0.5, 2, -1.5, 3];
  const fakeLogits = [-2, 0.3, 1.2, -4];
  const dx = realLogits.map(sigmoid);
  const dgz = fakeLogits.map(sigmoid);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  // L_D = -(1/n) Σ [log D(x) + log(1 - D(G(z)))]
  const expectedD = -(mean(dx.map(Math.log)) + mean(dgz.map((d) => Math.log(1 - d))));
  // minimax: (1/n) Σ log(1 - D(G(z)));  non-saturating: -(1/n) Σ log D(G(z))
  const expectedMinimax = mean(dgz.map((d) => Math.log(1 - d)));
  const expectedNs = -mean(dgz.map(Math.log));
  const r = col(realLogits);
  const f = col(fakeLogits);
  assert.ok(Math.abs(value(discriminatorLoss(r, f)) - expectedD) < 1e-5);
  assert.ok(Math.abs(value(minimaxGeneratorLoss(f)) - expectedMinimax) < 1e-5);
  assert.ok(Math.abs(value(nonSaturatingGeneratorLoss(f)) - expectedNs) < 1e-5);
  assert.equal(generatorLoss('minimax'), minimaxGeneratorLoss);
  tf.dispose([r, f]);
});

test('minimax gradient vanishes where D rejects fakes, the non-saturating one does not', () => {
  // d/dl log(1 - σ(l)) = -σ(l);  d/dl [-log σ(l)] = -(1 - σ(l))  (per sample, divided by n)
  const logits = [-10, -3, 0, 2];
  const l = col(logits);
  const gMinimax = tf
    .grad((x: tf.Tensor) => minimaxGeneratorLoss(x))(l)
    .dataSync();
  const gNs = tf
    .grad((x: tf.Tensor) => nonSaturatingGeneratorLoss(x))(l)
    .dataSync();
  logits.forEach((li, i) => {
    assert.ok(
      Math.abs(gMinimax[i] + sigmoid(li) / logits.length) < 1e-6,
      `minimax gradient at logit ${li}`,
    );
    assert.ok(
      Math.abs(gNs[i] + (1 - sigmoid(li)) / logits.length) < 1e-6,
      `non-saturating gradient at logit ${li}`,
    );
  });
  assert.ok(Math.abs(gMinimax[0]) < 2e-5 && Math.abs(gNs[0]) > 0.24);
  l.dispose();
});

test('losses stay finite when D saturates', () => {
  const big = col([100, 100]);
  const small = col([-100, -100]);
  const ld = value(discriminatorLoss(big, small));
  assert.ok(Number.isFinite(ld) && ld < 1e-6);
  const worst = value(discriminatorLoss(small, big));
  assert.ok(Math.abs(worst - 200) < 1e-3);
  assert.ok(Math.abs(value(nonSaturatingGeneratorLoss(small)) - 100) < 1e-3);
  assert.ok(Math.abs(value(minimaxGeneratorLoss(small))) < 1e-6);
  tf.dispose([big, small]);
});

test('bad inputs are clear errors', () => {
  const flat = tf.zeros([4]);
  const wide = tf.zeros([4, 2]);
  const ok = tf.zeros([4, 1]);
  assert.throws(
    () => discriminatorLoss(flat, ok),
    /discriminatorLoss\(realLogits\).*\[batch, 1\].*\[4\]/,
  );
  assert.throws(() => discriminatorLoss(ok, wide), /discriminatorLoss\(fakeLogits\).*\[4, 2\]/);
  assert.throws(() => minimaxGeneratorLoss(wide), /minimaxGeneratorLoss/);
  assert.throws(() => nonSaturatingGeneratorLoss(flat), /nonSaturatingGeneratorLoss/);
  assert.throws(
    () => generatorLoss('wasserstein' as never),
    /unknown generator loss 'wasserstein'/,
  );
  tf.dispose([flat, wide, ok]);
});
