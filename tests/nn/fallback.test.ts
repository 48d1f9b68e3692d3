/**
 * The pure-wasm fallback (no native addon: GENLAB_NATIVE=0): explicit Transpose + the plain wasm
 * product, wasm's fused matMul for dense, stock Adam. Same checks and tolerances as dense.test.ts.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runtime, tf } from 'genlab';
import { ACTIVATIONS, checkDenseGradients, checkMatMul, trainMlp } from './checks';
const { kernelsInfo, NATIVE_ENV } = runtime;

before(async () => {
  process.env[NATIVE_ENV] = '0';
  await runtime.init({ seed: 0, report: false, backend: 'wasm' });
});

test('without the addon the kernels report the pure-wasm fallback', () => {
  assert.deepEqual(kernelsInfo(), {
    active: true,
    native: false,
    threads: 1,
    reason: `pure-wasm kernels (native kernels disabled by ${NATIVE_ENV}=0)`,
  });
});

for (const activation of ACTIVATIONS) {
  test(`fallback dense(${activation}) and its gradients equal the stock ops`, async () => {
    await checkDenseGradients(activation);
  });
}

test('fallback matMul with transposes equals the stock cpu kernel', async () => {
  await checkMatMul();
});

test('fallback training leaks no tensor and is reproducible', () => {
  trainMlp(0, 2);
  const before = tf.memory().numTensors;
  const first = trainMlp(9, 5);
  assert.equal(tf.memory().numTensors, before);
  const second = trainMlp(9, 5);
  first.forEach((p, i) => assert.deepEqual(second[i], p, `parameter ${i}`));
});
