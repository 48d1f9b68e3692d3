/**
 * The pure-wasm convolution path (no native addon: GENLAB_NATIVE=0): Conv2DBackpropFilter and
 * Conv2DBackpropInput by im2col / col2im around wasm's matrix product, Conv2D by XNNPACK, the conv
 * layers and batch norm as tfjs ops. Same checks and tolerances as kernels.test.ts.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runtime, tf } from 'genlab';
import {
  checkConvCase,
  checkConvFiniteDifferences,
  checkReproducibleTraining,
  CONV_CASES,
} from './checks';

before(async () => {
  process.env[runtime.NATIVE_ENV] = '0';
  await runtime.init({ seed: 0, report: false, backend: 'wasm' });
});

test('without the addon the pure-wasm kernels are installed', () => {
  assert.equal(runtime.kernelsInfo()?.native, false);
});

for (const c of CONV_CASES) {
  test(`fallback conv2d, conv2dTranspose and their gradients equal cpu's: ${c.what}`, async () => {
    await checkConvCase(c);
  });
}

test('fallback gradients of the conv layers agree with central differences', async () => {
  await tf.setBackend('wasm');
  checkConvFiniteDifferences();
});

test('fallback training of conv layers leaks no tensor and is reproducible from the seed', async () => {
  await tf.setBackend('wasm');
  checkReproducibleTraining();
});
