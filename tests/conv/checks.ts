/**
 * Checks shared by the native convolution tests and the pure-wasm fallback tests (GENLAB_NATIVE=0):
 * the wasm kernels against TensorFlow.js's cpu reference kernels on the same inputs, and gradients
 * against central differences.
 *
 * Tolerance of the kernel comparisons: every output is a float32 sum of at most 75 products of
 * values in [-1, 1] (or of such sums), computed in a different order than the cpu kernel's, so
 * results differ by a few float32 ulps of the sum's magnitude (measured: at most 1.5e-5 for values
 * up to 150). We allow |a - e| <= 1e-5 |e| + 1e-4.
 */
import assert from 'node:assert/strict';
import { nn, runtime, tf } from 'genlab';
import { assertClose, on, values } from '../nn/checks';

export const CONV_TOL = { rtol: 1e-5, atol: 1e-4 };

type Pad =
  | 'same'
  | 'valid'
  | number
  | [[number, number], [number, number], [number, number], [number, number]];

export interface ConvCase {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
  what: string;
}

/**
 * Strides, paddings, odd sizes, batch 1, channels 1, 1x1 kernels and kernels as large as the input.
 */
export const CONV_CASES: ConvCase[] = [
  {
    x: [2, 9, 7, 3],
    filter: [3, 3, 3, 4],
    strides: 2,
    pad: 'same',
    what: 'odd sizes, same, stride 2',
  },
  { x: [2, 9, 7, 3], filter: [4, 4, 3, 5], strides: 2, pad: 1, what: 'even kernel, padding 1' },
  { x: [1, 5, 5, 1], filter: [5, 5, 1, 2], strides: 1, pad: 'valid', what: 'kernel = input' },
  { x: [3, 6, 6, 2], filter: [1, 1, 2, 3], strides: 1, pad: 'valid', what: '1x1 kernel' },
  {
    x: [2, 8, 8, 2],
    filter: [3, 2, 2, 3],
    strides: [2, 1],
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
    what: 'explicit asymmetric padding, strides [2, 1]',
  },
  { x: [1, 7, 5, 1], filter: [2, 3, 1, 1], strides: 3, pad: 'same', what: 'channels 1, stride 3' },
  { x: [2, 4, 4, 3], filter: [5, 5, 3, 2], strides: 1, pad: 'same', what: 'kernel > input, same' },
  { x: [2, 7, 7, 4], filter: [7, 7, 4, 5], strides: 1, pad: 'valid', what: 'DCGAN 7x7 to 1x1' },
  { x: [3, 14, 14, 4], filter: [4, 4, 4, 3], strides: 2, pad: 1, what: 'DCGAN stride-2 layer' },
];

/**
 * For one case: y = conv2d(x, W), the gradients of sum(r * y) with respect to x
 * (Conv2DBackpropInput) and W (Conv2DBackpropFilter), the transposed convolution
 * u = conv2dTranspose(d, W) and the gradients of sum(s * u) with respect to d (Conv2D) and W
 * (Conv2DBackpropFilter with the roles swapped).
 */
export async function checkConvCase(c: ConvCase): Promise<void> {
  const xv = values(
    c.x.reduce((p, d) => p * d, 1),
    31,
  );
  const wv = values(
    c.filter.reduce((p, d) => p * d, 1),
    32,
  );
  const compute = (): tf.Tensor[] => {
    const x = tf.tensor4d(xv, c.x);
    const w = tf.tensor4d(wv, c.filter);
    const y = tf.conv2d(x, w, c.strides, c.pad);
    const r = tf.tensor(values(y.size, 33), y.shape);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad), r)),
    )([x, w]);
    const d = tf.tensor(values(y.size, 34), y.shape) as tf.Tensor4D;
    const s = tf.tensor(values(x.size, 35), c.x);
    const transposed = (a: tf.Tensor, b: tf.Tensor) =>
      tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, c.x, c.strides, c.pad);
    const [dd, dw2] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(transposed(a, b), s)))(
      [d, w],
    );
    return [y, dx, dw, transposed(d, w), dd, dw2];
  };
  const expected = await on('cpu', compute);
  const actual = await on('wasm', compute);
  [
    'conv2d',
    'd/dx',
    'd/dW',
    'conv2dTranspose',
    'conv2dTranspose d/dx',
    'conv2dTranspose d/dW',
  ].forEach((name, i) =>
    assertClose(actual[i], expected[i], CONV_TOL.rtol, CONV_TOL.atol, `${c.what}: ${name}`),
  );
}

/**
 * Central differences of a scalar function f of one tensor at `count` coordinates against its
 * gradient: float32 with h = 1e-2, so truncation (~h^2) and rounding (~1e-7 |f| / h) stay below
 * 2e-3 + 1e-2 |g|.
 */
export function checkFiniteDifferences(
  f: (x: tf.Tensor) => tf.Scalar,
  x0: tf.Tensor,
  what: string,
  count = 12,
): void {
  const h = 1e-2;
  const grad = tf.tidy(() => tf.grad(f)(x0));
  const g = grad.dataSync();
  grad.dispose();
  const base = x0.dataSync();
  const step = Math.max(1, Math.floor(base.length / count));
  for (let i = 0; i < base.length; i += step) {
    const at = (delta: number): number =>
      tf.tidy(() => {
        const v = Float32Array.from(base);
        v[i] += delta;
        return f(tf.tensor(v, x0.shape)).dataSync()[0];
      });
    const fd = (at(h) - at(-h)) / (2 * h);
    assert.ok(
      Math.abs(fd - g[i]) <= 2e-3 + 1e-2 * Math.abs(g[i]),
      `${what}[${i}]: central difference ${fd}, gradient ${g[i]}`,
    );
  }
}

/**
 * Gradients of the conv layers' functional forms (bias and a nonlinear activation included)
 * against central differences: x, W and b of conv2d and conv2dTranspose.
 */
export function checkConvFiniteDifferences(): void {
  runtime.seed(41);
  const x = tf.randomUniform([2, 5, 6, 3], -1, 1) as tf.Tensor4D;
  const w = tf.randomUniform([3, 3, 3, 2], -0.5, 0.5) as tf.Tensor4D;
  const b = tf.randomUniform([2], -0.5, 0.5) as tf.Tensor1D;
  const options = { stride: 2, padding: 1, activation: 'tanh' } as const;
  const y = nn.conv2d(x, w, b, options);
  const r = tf.randomUniform(y.shape, -1, 1);
  const loss = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor): tf.Scalar =>
    tf.sum(tf.mul(nn.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D, options), r));
  checkFiniteDifferences((v) => loss(v, w, b), x, 'conv2d d/dx');
  checkFiniteDifferences((v) => loss(x, v, b), w, 'conv2d d/dW');
  checkFiniteDifferences((v) => loss(x, w, v), b, 'conv2d d/db');
  // The transposed convolution maps y's shape back to x's: W is [kh, kw, 3, 2] read as out 3, in 2.
  const bT = tf.randomUniform([3], -0.5, 0.5) as tf.Tensor1D;
  const s = tf.randomUniform(x.shape, -1, 1);
  const lossT = (yy: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor): tf.Scalar =>
    tf.sum(
      tf.mul(
        nn.conv2dTranspose(yy as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D, x.shape, {
          ...options,
          activation: 'sigmoid',
        }),
        s,
      ),
    );
  checkFiniteDifferences((v) => lossT(v, w, bT), y, 'conv2dTranspose d/dx');
  checkFiniteDifferences((v) => lossT(y, v, bT), w, 'conv2dTranspose d/dW');
  checkFiniteDifferences((v) => lossT(y, w, v), bT, 'conv2dTranspose d/db');
  tf.dispose([x, w, b, y, r, bT, s]);
}

/**
 * A small conv net (Conv2d, BatchNorm, ConvTranspose2d) trained with Adam for `steps` steps from a
 * seed; returns all its variables (running statistics included) flattened.
 */
export function trainConvNet(seed: number, steps: number): Float32Array[] {
  runtime.seed(seed);
  const conv = new nn.Conv2d(1, 4, 4, { stride: 2, padding: 1, bias: false, name: 'c' });
  const bn = new nn.BatchNorm(4, { activation: 'leakyRelu', name: 'bn' });
  const up = new nn.ConvTranspose2d(4, 1, 4, { stride: 2, padding: 1, activation: 'tanh' });
  const x = tf.randomUniform([3, 8, 8, 1], -1, 1) as tf.Tensor4D;
  const optimizer = tf.train.adam(0.01);
  const variables = [conv, bn, up].flatMap((l) => Object.values(l.namedVariables()));
  for (let i = 0; i < steps; i++) {
    optimizer.minimize(
      () =>
        tf.mean(
          tf.square(tf.sub(up.apply(bn.apply(conv.apply(x), { training: true })), x)),
        ) as tf.Scalar,
      false,
      variables,
    );
  }
  const params = variables.map((v) => v.dataSync() as Float32Array);
  optimizer.dispose();
  x.dispose();
  [conv, bn, up].forEach((l) => l.dispose());
  return params;
}

/** No tensor leaks over training steps, and the same seed gives the same numbers. */
export function checkReproducibleTraining(): void {
  trainConvNet(0, 1);
  const before = tf.memory().numTensors;
  const first = trainConvNet(3, 4);
  assert.equal(tf.memory().numTensors, before, 'tensors leaked by 4 training steps');
  const second = trainConvNet(3, 4);
  first.forEach((p, i) => assert.deepEqual(second[i], p, `variable ${i} differs between runs`));
  const other = trainConvNet(4, 4);
  assert.notDeepEqual(other[0], first[0], 'another seed should give other weights');
}
