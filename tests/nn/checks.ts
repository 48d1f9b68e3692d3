/**
 * Checks shared by the fast-path tests (native addon) and the fallback tests (GENLAB_NATIVE=0):
 * every wasm kernel override against TensorFlow.js's stock cpu backend on the same inputs.
 */
import assert from 'node:assert/strict';
import { nn, runtime, tf, training } from 'genlab';

export type Activation = nn.Activation;
export const ACTIVATIONS: Activation[] = [
  'linear',
  'relu',
  'sigmoid',
  'tanh',
  'leakyRelu',
  'softplus',
];

/** Deterministic pseudo-random values in [-scale, scale] (inputs for both backends). */
export function values(n: number, seed: number, scale = 1): Float32Array {
  runtime.seed(seed);
  return Float32Array.from({ length: n }, () => (2 * runtime.random() - 1) * scale);
}

/** Runs fn on a backend and returns its tensors' values; switches back to wasm afterwards. */
export async function on(backend: 'cpu' | 'wasm', fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  try {
    const outs = tf.tidy(fn);
    const data = outs.map((t) => t.dataSync() as Float32Array);
    tf.dispose(outs);
    return data;
  } finally {
    await tf.setBackend('wasm');
  }
}

/**
 * |a - b| <= atol + rtol |b| elementwise (NaN only where the reference is NaN); names the first bad
 * index.
 */
export function assertClose(
  actual: Float32Array,
  expected: Float32Array,
  rtol: number,
  atol: number,
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e)) {
      assert.ok(Number.isNaN(a), `${what}[${i}]: expected NaN, got ${a}`);
      continue;
    }
    if (a === e) continue;
    assert.ok(
      Math.abs(a - e) <= atol + rtol * Math.abs(e),
      `${what}[${i}]: got ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`,
    );
  }
}

/**
 * Float32 sums of K products of inputs in [-1, 1]: different summation orders differ by ~K * 6e-8.
 */
export const MATMUL_TOL = { rtol: 1e-5, atol: 1e-5 };

/**
 * dense(x, W, b, act) and the gradients of sum(dense(...) * r) w.r.t. x, W, b, against stock cpu
 * ops.
 */
export async function checkDenseGradients(
  activation: Activation,
  batch = 9,
  inDim = 37,
  outDim = 23,
): Promise<void> {
  const xv = values(batch * inDim, 1);
  const wv = values(inDim * outDim, 2, 0.5);
  const bv = values(outDim, 3, 0.5);
  const rv = values(batch * outDim, 4);
  const compute = (reference: boolean) => (): tf.Tensor[] => {
    const x = tf.tensor2d(xv, [batch, inDim]);
    const w = tf.tensor2d(wv, [inDim, outDim]);
    const b = tf.tensor1d(bv);
    const r = tf.tensor2d(rv, [batch, outDim]);
    const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => {
      const y = reference
        ? nn.activate(tf.add(tf.matMul(xx as tf.Tensor2D, ww as tf.Tensor2D), bb), activation)
        : nn.dense(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D, activation);
      return tf.sum(tf.mul(y, r));
    };
    const y = reference
      ? nn.activate(tf.add(tf.matMul(x, w), b), activation)
      : nn.dense(x, w, b, activation);
    return [y, ...tf.grads(f)([x, w, b])];
  };
  const expected = await on('cpu', compute(true));
  const actual = await on('wasm', compute(false));
  ['y', 'dL/dx', 'dL/dW', 'dL/db'].forEach((name, i) =>
    assertClose(
      actual[i],
      expected[i],
      MATMUL_TOL.rtol,
      MATMUL_TOL.atol,
      `dense ${activation} ${name}`,
    ),
  );
}

/** matMul with every transpose combination, rank 2 and batched rank 3 (with a broadcast batch). */
export async function checkMatMul(): Promise<void> {
  const m = 13;
  const k = 29;
  const n = 17;
  for (const ta of [false, true]) {
    for (const tb of [false, true]) {
      const aShape: [number, number] = ta ? [k, m] : [m, k];
      const bShape: [number, number] = tb ? [n, k] : [k, n];
      const av = values(3 * m * k, 5);
      const bv = values(n * k, 6);
      const compute = (): tf.Tensor[] => [
        tf.matMul(tf.tensor2d(av.slice(0, m * k), aShape), tf.tensor2d(bv, bShape), ta, tb),
        tf.matMul(tf.tensor3d(av, [3, ...aShape]), tf.tensor3d(bv, [1, ...bShape]), ta, tb),
      ];
      const expected = await on('cpu', compute);
      const actual = await on('wasm', compute);
      assertClose(
        actual[0],
        expected[0],
        MATMUL_TOL.rtol,
        MATMUL_TOL.atol,
        `matMul ta=${ta} tb=${tb}`,
      );
      assertClose(
        actual[1],
        expected[1],
        MATMUL_TOL.rtol,
        MATMUL_TOL.atol,
        `batched matMul ta=${ta} tb=${tb}`,
      );
    }
  }
}

/** Trains an MLP with tf.train.adam for `steps` steps and returns its parameters (flattened). */
export function trainMlp(seed: number, steps: number): Float32Array[] {
  runtime.seed(seed);
  const mlp = new nn.MLP([12, 16, 5], { hidden: 'tanh', output: 'sigmoid' });
  const optimizer = training.adam(0.01);
  const x = tf.randomNormal([8, 12]) as tf.Tensor2D;
  const target = tf.randomUniform([8, 5]);
  for (let i = 0; i < steps; i++) {
    optimizer.minimize(
      () => tf.mean(tf.square(tf.sub(mlp.apply(x), target))) as tf.Scalar,
      false,
      mlp.variables(),
    );
  }
  const params = mlp.variables().map((v) => v.dataSync() as Float32Array);
  tf.dispose([x, target]);
  optimizer.dispose();
  mlp.dispose();
  return params;
}

/**
 * Second order through dense: d/dW of ||dL/dx||^2 with L = sum(dense(x, W, b) * r) (a gradient
 * penalty).
 */
export async function checkDenseSecondOrder(activation: Activation): Promise<void> {
  const batch = 5;
  const inDim = 7;
  const outDim = 6;
  const xv = values(batch * inDim, 21);
  const wv = values(inDim * outDim, 22, 0.7);
  const bv = values(outDim, 23, 0.5);
  const rv = values(batch * outDim, 24);
  const compute = (reference: boolean) => (): tf.Tensor[] => {
    const x = tf.tensor2d(xv, [batch, inDim]);
    const b = tf.tensor1d(bv);
    const r = tf.tensor2d(rv, [batch, outDim]);
    const layer = (xx: tf.Tensor2D, ww: tf.Tensor2D) =>
      reference
        ? nn.activate(tf.add(tf.matMul(xx, ww), b), activation)
        : nn.dense(xx, ww, b, activation);
    const penalty = (w: tf.Tensor) => {
      const dx = tf.grad((xx: tf.Tensor) =>
        tf.sum(tf.mul(layer(xx as tf.Tensor2D, w as tf.Tensor2D), r)),
      )(x);
      return tf.sum(tf.square(dx));
    };
    return [tf.grad(penalty)(tf.tensor2d(wv, [inDim, outDim]))];
  };
  const [expected] = await on('cpu', compute(true));
  const [actual] = await on('wasm', compute(false));
  assertClose(actual, expected, 1e-4, 1e-5, `second-order gradient through dense(${activation})`);
}
