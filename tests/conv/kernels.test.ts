/**
 * The convolution and batch-norm kernels on wasm with the native addon (lib/runtime/conv-kernels,
 * native/genlab_conv.c) against TensorFlow.js's cpu reference kernels, gradients against central
 * differences, leaks and reproducibility. Tolerances: see checks.ts (convolutions) and below.
 */
import { before, test, TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { nn, runtime, tf } from 'genlab';
import { assertClose, on, values } from '../nn/checks';
import {
  checkConvCase,
  checkConvFiniteDifferences,
  checkFiniteDifferences,
  checkReproducibleTraining,
  CONV_CASES,
  CONV_TOL,
} from './checks';

before(async () => {
  await runtime.init({ seed: 0, report: false, backend: 'wasm' });
});

/** Skips a test of the native kernels themselves when the addon is not built. */
function withoutAddon(t: TestContext): boolean {
  if (runtime.kernelsInfo()?.native === true) return false;
  t.skip('the native addon is not built (npm run build:kernels)');
  return true;
}

for (const c of CONV_CASES) {
  test(`conv2d, conv2dTranspose and their gradients equal the cpu kernels: ${c.what}`, async () => {
    await checkConvCase(c);
  });
}

test('tf.fused.conv2d with bias and activations equals the cpu kernel', async () => {
  const xv = values(2 * 9 * 8 * 3, 51);
  const wv = values(3 * 3 * 3 * 4, 52);
  const bv = values(4, 53);
  for (const activation of ['linear', 'relu', 'sigmoid', 'leakyrelu', 'elu'] as const) {
    const compute = (): tf.Tensor[] => [
      tf.fused.conv2d({
        x: tf.tensor4d(xv, [2, 9, 8, 3]),
        filter: tf.tensor4d(wv, [3, 3, 3, 4]),
        strides: 2,
        pad: 'same',
        bias: tf.tensor1d(bv),
        activation,
        leakyreluAlpha: 0.1,
      }),
    ];
    const [expected] = await on('cpu', compute);
    const [actual] = await on('wasm', compute);
    assertClose(actual, expected, CONV_TOL.rtol, CONV_TOL.atol, `fused conv2d ${activation}`);
  }
});

const ACTIVATIONS: nn.Activation[] = ['linear', 'relu', 'sigmoid', 'tanh', 'leakyRelu', 'softplus'];

test('nn.conv2d and nn.conv2dTranspose (one fused kernel each) equal the cpu ops, values and gradients', async () => {
  const xv = values(2 * 7 * 6 * 3, 61);
  const wv = values(4 * 4 * 3 * 5, 62);
  const bv = values(5, 63);
  const b3 = values(3, 64);
  for (const activation of ACTIVATIONS) {
    for (const bias of [true, false]) {
      const compute = (): tf.Tensor[] => {
        const x = tf.tensor4d(xv, [2, 7, 6, 3]);
        const w = tf.tensor4d(wv, [4, 4, 3, 5]);
        const b = tf.tensor1d(bv);
        const options = { stride: 2, padding: 1, activation };
        const conv = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
          nn.conv2d(
            xx as tf.Tensor4D,
            ww as tf.Tensor4D,
            bias ? (bb as tf.Tensor1D) : undefined,
            options,
          );
        const y = conv(x, w, b);
        const r = tf.tensor(values(y.size, 65), y.shape);
        // Without a bias, b is not an input: differentiate with respect to x and W only.
        const grads = tf.grads((...args: tf.Tensor[]) =>
          tf.sum(tf.mul(conv(args[0], args[1], args[2]), r)),
        )(bias ? [x, w, b] : [x, w]);
        // The transposed layer maps y's shape [2, 3, 3, 5] back to x's: W read as out 3, in 5.
        const bT = tf.tensor1d(b3);
        const up = (yy: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
          nn.conv2dTranspose(
            yy as tf.Tensor4D,
            ww as tf.Tensor4D,
            bias ? (bb as tf.Tensor1D) : undefined,
            [2, 7, 6, 3],
            options,
          );
        const s = tf.tensor(values(x.size, 66), x.shape);
        const gradsT = tf.grads((...args: tf.Tensor[]) =>
          tf.sum(tf.mul(up(args[0], args[1], args[2]), s)),
        )(bias ? [y, w, bT] : [y, w]);
        return [y, ...grads, up(y, w, bT), ...gradsT];
      };
      const expected = await on('cpu', compute);
      const actual = await on('wasm', compute);
      const names = bias
        ? ['y', 'd/dx', 'd/dW', 'd/db', 'yT', 'T d/dx', 'T d/dW', 'T d/db']
        : ['y', 'd/dx', 'd/dW', 'yT', 'T d/dx', 'T d/dW'];
      names.forEach((name, i) =>
        assertClose(
          actual[i],
          expected[i],
          CONV_TOL.rtol,
          CONV_TOL.atol,
          `${activation}${bias ? '' : ' no bias'} ${name}`,
        ),
      );
    }
  }
});

test('a gradient penalty through nn.conv2d (second order) equals the cpu ops', async () => {
  const xv = values(2 * 6 * 6 * 2, 71);
  const wv = values(3 * 3 * 2 * 3, 72);
  const compute = (): tf.Tensor[] => {
    const x = tf.tensor4d(xv, [2, 6, 6, 2]);
    const b = tf.tensor1d([0.1, -0.2, 0.3]);
    const penalty = (w: tf.Tensor) => {
      const dx = tf.grad((xx: tf.Tensor) =>
        tf.sum(
          nn.conv2d(xx as tf.Tensor4D, w as tf.Tensor4D, b, { padding: 1, activation: 'relu' }),
        ),
      )(x);
      return tf.sum(tf.square(dx));
    };
    return [tf.grad(penalty)(tf.tensor4d(wv, [3, 3, 2, 3]))];
  };
  const [expected] = await on('cpu', compute);
  const [actual] = await on('wasm', compute);
  assertClose(actual, expected, CONV_TOL.rtol, CONV_TOL.atol, 'd/dW of the gradient penalty');
});

/**
 * Batch norm in training mode: y, the running statistics and the gradients with respect to x,
 * gamma and beta. Sums over up to 150 rows in float32 (the kernel sums in double): 1e-5 relative,
 * 1e-5 absolute (the outputs are O(1)).
 */
test('nn.BatchNorm in training mode (one kernel) equals the cpu ops, values, statistics and gradients', async () => {
  for (const shape of [
    [6, 5],
    [3, 7, 5, 4],
    [2, 1, 1, 3],
  ]) {
    const channels = shape[shape.length - 1];
    const size = shape.reduce((p, d) => p * d, 1);
    // A common offset: the statistics must not lose precision to it.
    const xv = values(size, 81, 2).map((v) => v + 3);
    const gv = values(channels, 82).map((v) => 1 + v / 2);
    const bv = values(channels, 83);
    for (const activation of ['linear', 'relu', 'leakyRelu', 'tanh'] as nn.Activation[]) {
      const compute = (): tf.Tensor[] => {
        const bn = new nn.BatchNorm(channels, { activation, momentum: 0.3 });
        bn.gamma.assign(tf.tensor1d(gv));
        bn.beta.assign(tf.tensor1d(bv));
        const x = tf.tensor(xv, shape);
        const r = tf.tensor(values(size, 84), shape);
        const loss = () => tf.sum(tf.mul(bn.apply(x, { training: true }), r)) as tf.Scalar;
        const { grads } = tf.variableGrads(loss, [bn.gamma, bn.beta]);
        const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(bn.apply(xx, { training: true }), r)))(
          x,
        );
        const out = [
          bn.apply(x, { training: true }),
          dx,
          grads[bn.gamma.name],
          grads[bn.beta.name],
          bn.runningMean.clone(),
          bn.runningVariance.clone(),
          bn.apply(x),
        ];
        bn.dispose();
        return out;
      };
      const expected = await on('cpu', compute);
      const actual = await on('wasm', compute);
      [
        'y',
        'd/dx',
        'd/dgamma',
        'd/dbeta',
        'running mean',
        'running variance',
        'y (evaluation)',
      ].forEach((name, i) =>
        assertClose(
          actual[i],
          expected[i],
          1e-5,
          1e-5,
          `batch norm [${shape}] ${activation}: ${name}`,
        ),
      );
    }
  }
});

test('the batch-norm kernel passes gradients through its mean and variance outputs', async (t) => {
  if (withoutAddon(t)) return;
  // loss = sum(r y) + sum(p mean) + sum(q var): the dMean and dVar terms of the kernel's gradient.
  const shape = [4, 3, 2, 5];
  const xv = values(4 * 3 * 2 * 5, 91);
  const pv = values(5, 92);
  const qv = values(5, 93);
  const rv = values(4 * 3 * 2 * 5, 94);
  const grads = (useKernel: boolean) => (): tf.Tensor[] => {
    const gamma = tf.tensor1d(values(5, 95));
    const beta = tf.zeros([5]);
    const loss = (x: tf.Tensor) => {
      let y: tf.Tensor;
      let mean: tf.Tensor;
      let variance: tf.Tensor;
      if (useKernel) {
        [y, mean, variance] = tf
          .engine()
          .runKernel(
            'GenlabBatchNorm',
            { x, gamma, beta },
            { epsilon: 1e-5, activation: 'linear' },
          ) as tf.Tensor[];
      } else {
        ({ mean, variance } = tf.moments(x, [0, 1, 2]));
        y = tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), gamma), beta);
      }
      return tf.addN([
        tf.sum(tf.mul(y, tf.tensor(rv, shape))),
        tf.sum(tf.mul(mean, tf.tensor1d(pv))),
        tf.sum(tf.mul(variance, tf.tensor1d(qv))),
      ]) as tf.Scalar;
    };
    return [tf.grad(loss)(tf.tensor(xv, shape))];
  };
  const [expected] = await on('cpu', grads(false));
  const [actual] = await on('wasm', grads(true));
  assertClose(actual, expected, 1e-5, 1e-5, 'd/dx through y, mean and variance');
});

test('gradients of the conv layers and of batch norm agree with central differences', async () => {
  await tf.setBackend('wasm');
  checkConvFiniteDifferences();
  runtime.seed(43);
  const x = tf.randomUniform([3, 4, 4, 2], -1, 1);
  const r = tf.randomUniform(x.shape, -1, 1);
  const bn = new nn.BatchNorm(2, { name: 'fd' });
  bn.gamma.assign(tf.tensor1d([1.3, 0.7]));
  // tanh makes the loss nonlinear in the normalized values.
  checkFiniteDifferences(
    (v) => tf.sum(tf.mul(tf.tanh(bn.apply(v, { training: true })), r)) as tf.Scalar,
    x,
    'batch norm d/dx',
  );
  tf.dispose([x, r]);
  bn.dispose();
});

test('second-order gradients through batch norm fail with a message that says what to do', async (t) => {
  if (withoutAddon(t)) return;
  await tf.setBackend('wasm');
  const bn = new nn.BatchNorm(2);
  const x = tf.randomUniform([4, 2]);
  assert.throws(
    () =>
      tf.grad((xx: tf.Tensor) =>
        tf.sum(
          tf.square(
            tf.grad((v: tf.Tensor) => tf.sum(tf.square(bn.apply(v, { training: true }))))(xx),
          ),
        ),
      )(x),
    /Second-order gradients through batch norm.*GENLAB_NATIVE=0/,
  );
  x.dispose();
  bn.dispose();
});

test('training conv layers leaks no tensor and is reproducible from the seed', async () => {
  await tf.setBackend('wasm');
  checkReproducibleTraining();
});

test('the conv kernels reject operands whose shapes do not fit the geometry', async (t) => {
  if (withoutAddon(t)) return;
  await tf.setBackend('wasm');
  const x = tf.zeros([1, 3, 3, 2]);
  const w = tf.zeros([4, 4, 5, 2]);
  assert.throws(
    () =>
      tf.engine().runKernel('GenlabConvTranspose2d', { x, w }, {
        strides: 2,
        pad: 1,
        activation: 'linear',
        outputShape: [1, 8, 8, 5],
      } as unknown as tf.NamedAttrMap),
    /GenlabConvTranspose2d: x has shape \[1,3,3,2\], expected \[1,4,4,2\]/,
  );
  assert.throws(
    () =>
      tf.engine().runKernel(
        'GenlabBatchNorm',
        { x, gamma: tf.ones([3]), beta: tf.zeros([2]) },
        {
          epsilon: 1e-5,
          activation: 'linear',
        },
      ),
    /GenlabBatchNorm: gamma has shape \[3\], expected \[2\]/,
  );
  tf.dispose([x, w]);
});
