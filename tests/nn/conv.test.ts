/**
 * The conv layers and batch norm of lib/nn: shape rules against PyTorch's formulas, bad inputs,
 * batch norm's training and evaluation modes and running statistics, and saving with a model.
 * (Their kernels are checked against tfjs's cpu kernels in tests/conv.)
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { nn, runtime, tf, training } from 'genlab';
import { assertClose, on } from './checks';

before(async () => {
  await runtime.init({ seed: 0, report: false, backend: 'wasm' });
});

test('Conv2d output sizes follow floor((in + 2p - k) / s) + 1 (PyTorch nn.Conv2d)', () => {
  // [in, kernel, stride, padding, out]; the outputs are those of torch.nn.Conv2d on such inputs.
  const cases: [number, number, number, nn.Padding, number][] = [
    [28, 4, 2, 1, 14],
    [14, 4, 2, 1, 7],
    [7, 7, 1, 0, 1],
    [9, 3, 2, 0, 4],
    [10, 3, 3, 2, 4],
    [5, 3, 2, 'same', 3],
    [6, 5, 1, 'valid', 2],
  ];
  for (const [size, k, s, p, out] of cases) {
    const layer = new nn.Conv2d(2, 3, k, { stride: s, padding: p });
    const y = layer.apply(tf.zeros([1, size, size + 1, 2]) as tf.Tensor4D);
    const outW = nn.convOutputSize(size + 1, k, s, p);
    assert.deepEqual(y.shape, [1, out, outW, 3], `in ${size}, k ${k}, s ${s}, p ${p}`);
    assert.deepEqual(layer.outputSize(size, size + 1), [out, outW]);
    y.dispose();
    layer.dispose();
  }
});

test('ConvTranspose2d output sizes follow (in - 1) s - 2p + k + outputPadding (PyTorch)', () => {
  const cases: [number, number, number, nn.Padding, number, number][] = [
    [1, 7, 1, 0, 0, 7],
    [7, 4, 2, 1, 0, 14],
    [14, 4, 2, 1, 0, 28],
    [7, 3, 2, 1, 1, 14],
    [4, 3, 3, 0, 2, 14],
    [5, 3, 2, 'same', 0, 10],
    [5, 3, 2, 'valid', 0, 11],
  ];
  for (const [size, k, s, p, op, out] of cases) {
    const layer = new nn.ConvTranspose2d(3, 2, k, { stride: s, padding: p, outputPadding: op });
    const y = layer.apply(tf.zeros([2, size, size, 3]) as tf.Tensor4D);
    assert.deepEqual(y.shape, [2, out, out, 2], `in ${size}, k ${k}, s ${s}, p ${p}, op ${op}`);
    y.dispose();
    layer.dispose();
  }
});

test('ConvTranspose2d is the adjoint of Conv2d: <conv(x), y> = <x, conv^T(y)>', () => {
  runtime.seed(5);
  const conv = new nn.Conv2d(3, 4, 4, { stride: 2, padding: 1, bias: false });
  const up = new nn.ConvTranspose2d(4, 3, 4, { stride: 2, padding: 1, bias: false });
  up.w.assign(conv.w);
  const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
  const y = tf.randomNormal([2, 4, 4, 4]) as tf.Tensor4D;
  const [left, right] = tf.tidy(() => [
    tf.sum(tf.mul(conv.apply(x), y)).dataSync()[0],
    tf.sum(tf.mul(x, up.apply(y))).dataSync()[0],
  ]);
  assert.ok(Math.abs(left - right) < 1e-4 * Math.abs(left), `${left} vs ${right}`);
  tf.dispose([x, y]);
  conv.dispose();
  up.dispose();
});

test('conv layers start as PyTorch: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in k k (out k k transposed)', () => {
  runtime.seed(6);
  const conv = new nn.Conv2d(16, 32, 3);
  const up = new nn.ConvTranspose2d(32, 8, 4);
  for (const [w, fanIn] of [
    [conv.w, 16 * 9],
    [up.w, 8 * 16],
  ] as const) {
    const v = w.dataSync() as Float32Array;
    const bound = 1 / Math.sqrt(fanIn);
    const max = v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    assert.ok(max <= bound && max > 0.95 * bound, `max |w| ${max}, bound ${bound}`);
    // The variance of U(-a, a) is a^2 / 3; the mean of n draws of x^2 is within 5 sd of it.
    const meanSquare = v.reduce((s, x) => s + x * x, 0) / v.length;
    const sd = Math.sqrt(((4 / 45) * bound ** 4) / v.length);
    assert.ok(Math.abs(meanSquare - bound ** 2 / 3) < 5 * sd, `mean w^2 ${meanSquare}`);
  }
  assert.deepEqual(up.w.shape, [4, 4, 8, 32], 'tfjs layout [kh, kw, out, in]');
  conv.dispose();
  up.dispose();
});

test('conv layers reject bad inputs and options with a message naming the layer and the shapes', () => {
  const conv = new nn.Conv2d(1, 4, 7, { name: 'D.2' });
  assert.throws(
    () => conv.apply(tf.zeros([2, 784]) as unknown as tf.Tensor4D),
    /Conv2d 'D.2': expected images \[batch, height, width, 1\] \(NHWC\), got \[2, 784\]: reshape/,
  );
  assert.throws(
    () => conv.apply(tf.zeros([2, 28, 28, 3]) as tf.Tensor4D),
    /Conv2d 'D.2': expected images \[batch, height, width, 1\] \(NHWC\), got \[2, 28, 28, 3\]/,
  );
  assert.throws(
    () => conv.apply(tf.zeros([2, 5, 9, 1]) as tf.Tensor4D),
    /Conv2d 'D.2': the 7x7 kernel is larger than the padded input 5x9 \(input 5x9, padding 0\)/,
  );
  conv.dispose();
  assert.throws(
    () => new nn.Conv2d(1, 4, 3, { stride: 1.5 }),
    /Conv2d 'conv': stride must be a positive integer.*got 1.5/,
  );
  assert.throws(
    () => new nn.Conv2d(1, 4, 3, { stride: [2, 0] }),
    /stride must be a positive integer.*got \[2,0\]/,
  );
  assert.throws(() => new nn.Conv2d(1, 4, NaN), /kernelSize must be a positive integer.*got null/);
  assert.throws(() => new nn.Conv2d(0, 4, 3), /inChannels must be a positive integer, got 0/);
  assert.throws(
    () => new nn.Conv2d(1, 4, 3, { padding: -1 }),
    /padding must be a non-negative integer, 'same' or 'valid', got -1/,
  );
  assert.throws(
    () => new nn.Conv2d(1, 4, 3, { padding: 'full' as nn.Padding }),
    /padding must be a non-negative integer, 'same' or 'valid', got "full"/,
  );
  assert.throws(
    () => new nn.Conv2d(1, 4, 3, { activation: 'lrelu' as nn.Activation }),
    /Conv2d 'conv': unknown activation 'lrelu'/,
  );
  assert.throws(
    () => new nn.ConvTranspose2d(4, 1, 4, { stride: 2, outputPadding: 2 }),
    /ConvTranspose2d 'convT': outputPadding 2 must be less than the stride 2/,
  );
  const up = new nn.ConvTranspose2d(4, 1, 3, { padding: 3, name: 'G.2' });
  assert.throws(
    () => up.apply(tf.zeros([1, 2, 2, 4]) as tf.Tensor4D),
    /ConvTranspose2d 'G.2': input 2x2 gives an empty output -2x-2 \(padding 3 is too large\)/,
  );
  assert.throws(
    () => up.apply(tf.zeros([1, 8, 8, 3]) as tf.Tensor4D),
    /ConvTranspose2d 'G.2': expected images \[batch, height, width, 4\]/,
  );
  up.dispose();
});

test('BatchNorm in training mode gives each channel mean beta and standard deviation gamma', () => {
  runtime.seed(8);
  const bn = new nn.BatchNorm(3);
  bn.gamma.assign(tf.tensor1d([2, 0.5, 1]));
  bn.beta.assign(tf.tensor1d([1, -1, 0]));
  const x = tf.tidy(() => tf.add(tf.mul(tf.randomNormal([16, 5, 5, 3]), 4), 7));
  const stats = tf.tidy(() => {
    const { mean, variance } = tf.moments(bn.apply(x, { training: true }), [0, 1, 2]);
    return [mean.dataSync(), variance.dataSync()];
  });
  // Normalized with the biased variance plus eps = 1e-5 against a variance of ~16.
  [1, -1, 0].forEach((m, c) => assert.ok(Math.abs(stats[0][c] - m) < 1e-5, `mean ${stats[0][c]}`));
  [4, 0.25, 1].forEach((v, c) =>
    assert.ok(Math.abs(stats[1][c] / v - 1) < 1e-5, `variance ${stats[1][c]}, expected ${v}`),
  );
  x.dispose();
  bn.dispose();
});

test('BatchNorm running statistics: after n updates on one batch, (1 - (1 - m)^n) of the way to its mean and unbiased variance', () => {
  runtime.seed(9);
  const m = 0.2;
  const bn = new nn.BatchNorm(2, { momentum: m });
  const x = tf.tidy(() => tf.add(tf.mul(tf.randomNormal([10, 2]), [3, 0.5]), [5, -2]));
  const n = 7;
  for (let i = 0; i < n; i++) tf.dispose(bn.apply(x, { training: true }));
  const { mean, variance } = tf.moments(x, 0);
  const batchMean = mean.dataSync();
  const unbiased = variance.dataSync().map((v) => (v * 10) / 9);
  const reached = 1 - (1 - m) ** n;
  const runningMean = bn.runningMean.dataSync();
  const runningVariance = bn.runningVariance.dataSync();
  for (let c = 0; c < 2; c++) {
    const expectedMean = reached * batchMean[c];
    const expectedVariance = (1 - reached) * 1 + reached * unbiased[c];
    assert.ok(Math.abs(runningMean[c] - expectedMean) < 1e-5 * (1 + Math.abs(expectedMean)));
    assert.ok(Math.abs(runningVariance[c] - expectedVariance) < 1e-5 * expectedVariance);
  }
  // Evaluation mode uses them: y = gamma (x - running mean) / sqrt(running var + eps) + beta.
  const y = bn.apply(x);
  const expected = tf.tidy(() =>
    tf.div(tf.sub(x, bn.runningMean), tf.sqrt(tf.add(bn.runningVariance, 1e-5))),
  );
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(y, expected))).dataSync()[0]);
  assert.ok(diff < 1e-5, `evaluation mode differs by ${diff}`);
  assert.deepEqual(bn.runningMean.dataSync(), runningMean, 'evaluation must not update statistics');
  tf.dispose([x, mean, variance, y, expected]);
  bn.dispose();
});

test('BatchNorm variables: gamma and beta train, the running statistics do not but are saved', async () => {
  runtime.seed(10);
  const bn = new nn.BatchNorm(2, { name: 'G.bn0', activation: 'relu' });
  const x = tf.randomNormal([6, 2]);
  const optimizer = tf.train.adam(0.1);
  optimizer.minimize(
    () => tf.sum(bn.apply(x, { training: true })) as tf.Scalar,
    false,
    Object.values(bn.namedVariables()),
  );
  assert.deepEqual(Object.keys(bn.namedVariables()), [
    'G.bn0.gamma',
    'G.bn0.beta',
    'G.bn0.runningMean',
    'G.bn0.runningVariance',
  ]);
  assert.equal(bn.runningMean.trainable, false);
  assert.notDeepEqual(bn.beta.dataSync(), new Float32Array([0, 0]), 'beta did not train');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-bn-'));
  training.saveCheckpoint(dir, { kind: 'bn' }, bn.namedVariables());
  const copy = new nn.BatchNorm(2, { name: 'G.bn0' });
  const { tensors } = training.loadCheckpoint(dir, (raw) => raw);
  training.assignVariables(copy.namedVariables(), tensors);
  for (const [name, v] of Object.entries(bn.namedVariables()))
    assert.deepEqual(copy.namedVariables()[name].dataSync(), v.dataSync(), name);
  tf.dispose([x, ...Object.values(tensors)]);
  optimizer.dispose();
  bn.dispose();
  copy.dispose();
  fs.rmSync(dir, { recursive: true });
});

test('BatchNorm rejects bad inputs and options with a message naming the layer', () => {
  const bn = new nn.BatchNorm(4, { name: 'D.bn1' });
  assert.throws(
    () => bn.apply(tf.zeros([2, 3, 3, 5])),
    /BatchNorm 'D.bn1': expected \[batch, \.\.\., 4\] \(channels last\), got \[2, 3, 3, 5\]/,
  );
  assert.throws(() => bn.apply(tf.zeros([4])), /expected \[batch, \.\.\., 4\]/);
  assert.throws(
    () => bn.apply(tf.zeros([1, 4]), { training: true }),
    /BatchNorm 'D.bn1': training mode needs more than one value per channel, got input \[1, 4\]/,
  );
  bn.dispose();
  assert.throws(() => new nn.BatchNorm(0), /channels must be a positive integer, got 0/);
  assert.throws(
    () => new nn.BatchNorm(2, { momentum: 1.5 }),
    /momentum must be in \[0, 1\], got 1.5/,
  );
  assert.throws(
    () => new nn.BatchNorm(2, { epsilon: NaN }),
    /epsilon must be a positive number, got NaN/,
  );
  assert.throws(
    () => new nn.BatchNorm(2, { activation: 'gelu' as nn.Activation }),
    /BatchNorm 'bn': unknown activation 'gelu'/,
  );
});

test('conv layers and batch norm run on the cpu backend with the same numbers as on wasm', async () => {
  const run = (): tf.Tensor[] => {
    runtime.seed(12);
    const conv = new nn.Conv2d(1, 3, 3, { stride: 2, padding: 1, bias: false });
    const bn = new nn.BatchNorm(3, { activation: 'leakyRelu' });
    const up = new nn.ConvTranspose2d(3, 1, 4, { stride: 2, padding: 1, activation: 'tanh' });
    const x = tf.randomUniform([2, 6, 6, 1], -1, 1) as tf.Tensor4D;
    const { value, grads } = tf.variableGrads(
      () =>
        tf.sum(up.apply(bn.apply(conv.apply(x), { training: true }) as tf.Tensor4D)) as tf.Scalar,
      [conv.w, up.w],
    );
    [conv, bn, up].forEach((l) => l.dispose());
    return [value, grads[conv.w.name], grads[up.w.name]];
  };
  const cpu = await on('cpu', run);
  const wasm = await on('wasm', run);
  cpu.forEach((c, i) => assertClose(wasm[i], c, 1e-5, 1e-4, `value and gradients, tensor ${i}`));
});

test("conv layers off the kit's kernels use 'same' or 'valid' padding (tfjs-node)", async () => {
  // tfjs-node's TensorFlow conv kernels reject numeric and explicit padding: record what the cpu
  // kernels are asked for while conv layers with padding 1 (and an output padding) train.
  const pads: unknown[] = [];
  const kernels = [tf.Conv2D, tf.Conv2DBackpropInput, tf.Conv2DBackpropFilter].map((name) =>
    tf.getKernel(name, 'cpu'),
  );
  const originals = kernels.map((k) => k!.kernelFunc);
  kernels.forEach((k, i) => {
    k!.kernelFunc = (args) => {
      pads.push(args.attrs?.pad);
      return originals[i](args);
    };
  });
  const run = (): tf.Tensor[] => {
    runtime.seed(13);
    const conv = new nn.Conv2d(2, 3, 4, { stride: 2, padding: 1 });
    const up = new nn.ConvTranspose2d(3, 2, 3, { stride: 2, padding: 1, outputPadding: 1 });
    const x = tf.randomUniform([2, 8, 8, 2], -1, 1) as tf.Tensor4D;
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.square(up.apply(conv.apply(x)))) as tf.Scalar,
      [conv.w, up.w],
    );
    const y = up.apply(conv.apply(x));
    [conv, up].forEach((l) => l.dispose());
    return [y, value, grads[conv.w.name], grads[up.w.name]];
  };
  try {
    const cpu = await on('cpu', run);
    assert.ok(pads.length >= 5, `only ${pads.length} conv kernels ran`);
    pads.forEach((p) => assert.ok(p === 'same' || p === 'valid', `pad ${JSON.stringify(p)}`));
    const wasm = await on('wasm', run);
    cpu.forEach((c, i) => assertClose(wasm[i], c, 1e-5, 1e-4, `tensor ${i}`));
  } finally {
    kernels.forEach((k, i) => (k!.kernelFunc = originals[i]));
  }
});
