import { test } from 'node:test';
import assert from 'node:assert/strict';
import { data, tf } from 'genlab';

test('pixelLogits: logit of the smoothed per-pixel means, by hand on three 3-pixel images', () => {
  const images = Float32Array.from([0, 1, 0.5, 0, 1, 1, 0, 1, 0.75]);
  const s = 0.05;
  const logit = (p: number) => Math.log(p / (1 - p));
  const expected = [0, 1, 0.75].map((m) => logit((m + s) / (1 + 2 * s)));
  const got = data.pixelLogits(images, 3, s);
  assert.deepEqual(got.shape, [3]);
  Array.from(got.dataSync()).forEach((v, i) =>
    assert.ok(Math.abs(v - expected[i]) < 1e-5, `pixel ${i}: ${v} vs ${expected[i]}`),
  );
  got.dispose();
});

test(
  'pixelLogits with little smoothing is the maximum-likelihood independent-Bernoulli fit: ' +
    'sigmoid(logit) = pixel mean',
  () => {
    const set = data.loadMnist('test', { limit: 500 });
    const logits = data.pixelLogits(set.images, set.pixels, 1e-6);
    const fitted = tf.tidy(() => tf.sigmoid(logits).dataSync());
    const means = tf.tidy(() => tf.mean(set.imagesTensor(), 0).dataSync());
    let worst = 0;
    for (let i = 0; i < set.pixels; i++) worst = Math.max(worst, Math.abs(fitted[i] - means[i]));
    assert.ok(worst < 1e-4, `largest |sigmoid(logit) - mean| is ${worst}`);
    // Never-inked border pixels stay finite: logit ~ log(smoothing).
    assert.ok(Math.abs(logits.dataSync()[0] - Math.log(1e-6)) < 0.01);
    logits.dispose();
  },
);

test(
  'pixelLogits rejects partial images, a bad width, a bad smoothing and raw 0-255 bytes, ' +
    'naming the problem',
  () => {
    assert.throws(
      () => data.pixelLogits(new Float32Array(7), 3),
      /7 values are not whole images of 3 pixels/,
    );
    assert.throws(() => data.pixelLogits(new Float32Array(0), 3), /0 values are not whole images/);
    assert.throws(
      () => data.pixelLogits(new Float32Array(6), 0),
      /width must be a positive integer/,
    );
    assert.throws(
      () => data.pixelLogits(new Float32Array(6), 3, 0),
      /smoothing must be a positive number/,
    );
    assert.throws(
      () => data.pixelLogits(Float32Array.from([0, 255, 0]), 3),
      /image 0, pixel 1 is 255; pixel values must lie in \[0, 1\] \(divide raw bytes by 255\)/,
    );
    assert.throws(() => data.pixelLogits(Float32Array.from([0, NaN, 0]), 3), /pixel 1 is NaN/);
  },
);
