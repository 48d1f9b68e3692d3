/**
 * The kit's acceleration is one switch that the runtime turns on for wasm: other backends keep
 * tfjs's own gradients and optimizers, GENLAB_KERNELS=stock turns it off, and another TensorFlow.js
 * version falls back to tfjs's kernels with one warning line. Each case runs in a fresh process
 * (kernels are chosen once per process).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import { runtime } from 'genlab';

function node(code: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['-e', code], {
    env: { ...process.env, GENLAB_BACKEND: '', GENLAB_KERNELS: '', ...env },
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What a process reports about its wasm kernels after runtime.init on wasm. */
const REPORT_WASM = `
const { runtime, tf } = require('genlab');
runtime.init({ backend: 'wasm' }).then(() => {
  const kernels = ['GenlabDense', 'GenlabAdam', 'BatchMatMul'].map((k) => tf.getKernel(k, 'wasm'));
  console.log(JSON.stringify({ info: runtime.kernelsInfo(), registered: kernels.map(Boolean) }));
}).catch((e) => { console.error(e.message); process.exit(3); });`;

function lastJson(stdout: string) {
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

test('another TensorFlow.js version gets tfjs stock kernels and one warning line', () => {
  const r = node(`require('@tensorflow/tfjs').version.tfjs = '4.99.0';${REPORT_WASM}`);
  assert.equal(r.status, 0, r.stderr);
  const { info, registered } = lastJson(r.stdout);
  assert.equal(info.active, false);
  assert.deepEqual(registered, [false, false, true], 'no kit kernel is registered');
  const warnings = r.stderr.trim().split('\n');
  assert.equal(warnings.length, 1, r.stderr);
  assert.match(warnings[0], /written for TensorFlow.js 4\.22\.0 and this is 4\.99\.0/);
  assert.match(
    r.stdout,
    /^genlab: backend wasm \(1 thread; requested; stock tfjs kernels \(another/,
  );
});

test('GENLAB_KERNELS=stock keeps tfjs kernels without a warning; a wrong value is named', () => {
  const r = node(REPORT_WASM, { GENLAB_KERNELS: 'stock' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  const { info, registered } = lastJson(r.stdout);
  assert.equal(info.active, false);
  assert.deepEqual(registered, [false, false, true]);
  const bad = node(REPORT_WASM, { GENLAB_KERNELS: 'fast' });
  assert.equal(bad.status, 3);
  assert.match(bad.stderr, /GENLAB_KERNELS='fast' must be one of kit, stock/);
});

test('the kit kernels, once on wasm, leave the cpu backend exactly as tfjs makes it', () => {
  // Gradients of Sum, Mean and products, and Adam steps by both optimizers, on cpu: in a process
  // that never loaded the kit's kernels, and in one that installed them on wasm first.
  const compute = (before: string) => `
const { runtime, tf, training } = require('genlab');
const applyGradients = tf.AdamOptimizer.prototype.applyGradients;
(async () => {
  ${before}
  await runtime.init({ backend: 'cpu', report: false, seed: 3 });
  const x = tf.randomNormal([5, 7]);
  const w = tf.randomNormal([7, 3]);
  const f = (a, b) =>
    tf.add(tf.sum(tf.matMul(a, b)), tf.mean(tf.square(tf.matMul(a, b)), 0).sum());
  const grads = tf.grads(f)([x, w]).map((g) => Array.from(g.dataSync()));
  const steps = [tf.train.adam(0.1), training.adam(0.1)].map((optimizer) => {
    const v = tf.variable(tf.ones([4]));
    const loss = () => tf.sum(tf.square(tf.mul(v, [1, 2, 3, 4])));
    for (let i = 0; i < 3; i++) optimizer.minimize(loss, false, [v]);
    return Array.from(v.dataSync());
  });
  const untouched = tf.AdamOptimizer.prototype.applyGradients === applyGradients;
  console.log(JSON.stringify({ grads, steps, untouched }));
})().catch((e) => { console.error(e.message); process.exit(3); });`;
  const plain = node(compute(''));
  const afterWasm = node(
    compute("await runtime.init({ backend: 'wasm', report: false }); runtime.kernelsInfo();"),
  );
  assert.equal(plain.status, 0, plain.stderr);
  assert.equal(afterWasm.status, 0, afterWasm.stderr);
  const a = lastJson(plain.stdout);
  const b = lastJson(afterWasm.stdout);
  assert.equal(b.untouched, true, 'tf.AdamOptimizer.prototype is not replaced');
  assert.deepEqual(b.grads, a.grads, 'cpu gradients are bit-identical');
  assert.deepEqual(b.steps, a.steps, 'cpu Adam steps are bit-identical');
  assert.deepEqual(a.steps[1], a.steps[0], 'training.adam equals tf.train.adam on cpu');
});

test('an addon built from older sources is named with what it lacks; a current build lacks nothing', (t) => {
  const old = { sgemm() {}, adam() {} };
  const missing = runtime.missingNativeFunctions(old);
  assert.ok(missing.includes('conv2dBackpropFilter') && !missing.includes('sgemm'), `${missing}`);
  if (!fs.existsSync(runtime.NATIVE_ADDON_PATH)) {
    t.skip('the native addon is not built here');
    return;
  }
  assert.deepEqual(runtime.missingNativeFunctions(require(runtime.NATIVE_ADDON_PATH)), []);
});

test("tfjs's own wasm kernels run a convolution, and refuse its gradient with what to do", () => {
  const r = node(
    `
const { runtime, nn, tf } = require('genlab');
runtime.init({ backend: 'wasm', report: false }).then(() => {
  const conv = new nn.Conv2d(1, 2, 3, { padding: 'same' });
  const x = tf.ones([1, 4, 4, 1]);
  console.log(JSON.stringify(conv.apply(x).shape));
  try {
    tf.variableGrads(() => conv.apply(x).sum());
    console.log('gradient computed');
  } catch (e) {
    console.log(e.message);
  }
});`,
    { GENLAB_KERNELS: 'stock' },
  );
  assert.equal(r.status, 0, r.stderr);
  const [shape, gradient] = r.stdout.trim().split('\n');
  assert.equal(shape, '[1,4,4,2]');
  assert.match(gradient, /^conv2d: cannot train a convolution on the wasm backend with TensorFlow/);
  assert.match(gradient, /without GENLAB_KERNELS=stock/);
});
