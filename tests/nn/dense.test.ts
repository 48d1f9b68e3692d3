/**
 * The fast paths of lib/nn and lib/runtime/kernels on wasm (native addon when built) against
 * TensorFlow.js's stock cpu kernels. Tolerances: products are float32 sums of up to 37 terms of
 * size <= 1, so different summation orders differ by ~1e-6; we allow rtol = atol = 1e-5. Unary
 * kernels are ~2 ulp polynomials: 1e-6.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { distributions, models, nn, runtime, tf, training } from 'genlab';

const { Bernoulli, Independent } = distributions;
import {
  ACTIVATIONS,
  assertClose,
  checkDenseGradients,
  checkDenseSecondOrder,
  checkMatMul,
  on,
  trainMlp,
  values,
} from './checks';
const { kernelsInfo } = runtime;

before(async () => {
  await runtime.init({ seed: 0, report: false, backend: 'wasm' });
});

test('the wasm kernels are installed when the wasm backend is selected', () => {
  const info = kernelsInfo();
  assert.ok(info, 'installWasmKernels was not called by selectBackend');
  assert.ok(info.threads >= 1);
});

for (const activation of ACTIVATIONS) {
  test(`dense(${activation}) and its gradients equal the stock ops`, async () => {
    await checkDenseGradients(activation);
  });
}

// tfjs does not differentiate through tensors a kernel saves from its outputs, so second-order
// gradients through sigmoid/tanh (stock and fused alike) drop the activation-curvature term; the
// fused dense matches tfjs there and is exact for linear/relu/leakyRelu. Left out: leakyRelu
// (tfjs's own leakyRelu gradient, a Greater mask, has no gradient to compare against) and softplus
// (stock tfjs keeps its curvature term because its gradient uses the saved input; the fused layer,
// like sigmoid, drops it).
for (const activation of ACTIVATIONS.filter((a) => a !== 'leakyRelu' && a !== 'softplus')) {
  test(
    `second-order gradients through dense(${activation}) (a gradient penalty) equal the ` +
      `stock ops`,
    async () => {
      await checkDenseSecondOrder(activation);
    },
  );
}

test('second-order gradients through dense(leakyRelu) run (slope constant away from 0)', async () => {
  await tf.setBackend('wasm');
  const w = tf.ones([3, 2]);
  const x = tf.tensor2d([[1, -2, 0.5]]);
  const b = tf.zeros([2]) as tf.Tensor1D;
  const g = tf.grad((ww: tf.Tensor) =>
    tf.sum(
      tf.square(
        tf.grad((xx: tf.Tensor) =>
          tf.sum(nn.dense(xx as tf.Tensor2D, ww as tf.Tensor2D, b, 'leakyRelu')),
        )(x),
      ),
    ),
  )(w);
  // dL/dx = W s, s = act'(z) constant in W almost everywhere: d||W s||^2/dW = 2 (W s) s^T, here z =
  // [-0.5, -0.5] so s = 0.2.
  assertClose(
    g.dataSync() as Float32Array,
    new Float32Array(6).fill(2 * 0.4 * 0.2),
    1e-6,
    1e-7,
    'leakyRelu penalty gradient',
  );
  tf.dispose([w, x, b, g]);
});

test('matMul with transposes (rank 2 and batched) equals the stock cpu kernel', async () => {
  await checkMatMul();
});

test('tf.fused.matMul with bias, activations and transposes equals the stock cpu kernel', async () => {
  const av = values(11 * 19, 7);
  const bv = values(19 * 5, 8);
  const biasv = values(5, 9);
  for (const activation of ['linear', 'relu', 'sigmoid', 'leakyrelu', 'elu'] as const) {
    const compute = (): tf.Tensor[] => [
      tf.fused.matMul({
        a: tf.tensor2d(av, [19, 11]),
        b: tf.tensor2d(bv, [5, 19]),
        transposeA: true,
        transposeB: true,
        bias: tf.tensor1d(biasv),
        activation,
      }),
      tf.fused.matMul({ a: tf.tensor2d(av, [11, 19]), b: tf.tensor2d(bv, [19, 5]), activation }),
    ];
    const expected = await on('cpu', compute);
    const actual = await on('wasm', compute);
    assertClose(
      actual[0],
      expected[0],
      1e-5,
      1e-5,
      `fused matMul ${activation} (bias, transposed)`,
    );
    assertClose(actual[1], expected[1], 1e-5, 1e-5, `fused matMul ${activation} (no bias)`);
  }
});

test('exp, log, log1p, sigmoid, softplus, tanh equal the stock kernels, special values included', async () => {
  const specials = [
    0,
    -0,
    1e-30,
    -1e-30,
    1e-8,
    -1e-8,
    0.5,
    -0.5,
    1,
    -1,
    20,
    -20,
    88,
    89,
    -88,
    -100,
    1e30,
    -1e30,
    Infinity,
    -Infinity,
    NaN,
  ];
  const xv = Float32Array.from([...specials, ...values(2000, 10, 30)]);
  const ops: [string, (x: tf.Tensor) => tf.Tensor, Float32Array][] = [
    ['exp', tf.exp, xv],
    ['log', tf.log, xv.map(Math.abs)],
    ['log', tf.log, xv],
    ['log1p', tf.log1p, xv.map((v) => Math.abs(v) - 1)],
    ['sigmoid', tf.sigmoid, xv],
    ['softplus', tf.softplus, xv],
    ['tanh', tf.tanh, xv],
  ];
  for (const [name, op, input] of ops) {
    const [expected] = await on('cpu', () => [op(tf.tensor1d(input))]);
    const [actual] = await on('wasm', () => [op(tf.tensor1d(input))]);
    assertClose(actual, expected, 1e-6, 1e-7, `${name}(x)`);
  }
});

test('add, sub, mul, div with every broadcast and tf.transpose equal the stock kernels exactly', async () => {
  const shapes: [number[], number[]][] = [
    [
      [6, 7],
      [6, 7],
    ],
    [[6, 7], [7]],
    [[7], [6, 7]],
    [[6, 7], []],
    [[], [6, 7]],
    [
      [6, 7],
      [6, 1],
    ],
    [
      [2, 6, 7],
      [1, 7],
    ],
    [
      [2, 6, 7],
      [2, 6, 7],
    ],
    [[0, 7], [7]],
  ];
  const special = [0, -0, Infinity, -Infinity, NaN, 1e-40];
  for (const [sa, sb] of shapes) {
    const av = values(
      Math.max(
        1,
        sa.reduce((p, d) => p * d, 1),
      ),
      13,
      3,
    ).map((v, i) => (i < special.length ? special[i] : v));
    const bv = values(
      Math.max(
        1,
        sb.reduce((p, d) => p * d, 1),
      ),
      14,
      3,
    ).map((v, i) => (i === 1 ? 0 : v));
    for (const op of [tf.add, tf.sub, tf.mul, tf.div]) {
      const compute = (): tf.Tensor[] => [
        op(
          tf.tensor(
            av.slice(
              0,
              sa.reduce((p, d) => p * d, 1),
            ),
            sa,
          ),
          tf.tensor(
            bv.slice(
              0,
              sb.reduce((p, d) => p * d, 1),
            ),
            sb,
          ),
        ),
      ];
      const [expected] = await on('cpu', compute);
      const [actual] = await on('wasm', compute);
      assertClose(actual, expected, 0, 0, `${op.name} [${sa}] [${sb}]`);
    }
  }
  const xv = values(3 * 37 * 45, 15);
  for (const [shape, perm] of [
    [
      [37, 45],
      [1, 0],
    ],
    [
      [3, 37, 15],
      [0, 2, 1],
    ],
    [
      [3, 37, 15],
      [1, 0, 2],
    ],
  ] as [number[], number[]][]) {
    const compute = (): tf.Tensor[] => [
      tf.transpose(
        tf.tensor(
          xv.slice(
            0,
            shape.reduce((p, d) => p * d, 1),
          ),
          shape,
        ),
        perm,
      ),
    ];
    const [expected] = await on('cpu', compute);
    const [actual] = await on('wasm', compute);
    assertClose(actual, expected, 0, 0, `transpose [${shape}] perm [${perm}]`);
  }
});

test('training.adam on wasm (fused kernel) gives the numbers of tf.train.adam bit for bit', async () => {
  // loss = sum(c * w): the gradient is exactly c on both backends, so only the update rule is
  // compared.
  const c = values(50, 11);
  const w0 = values(50, 12);
  const run = (makeOptimizer: typeof tf.train.adam) => (): tf.Tensor[] => {
    const w = tf.variable(tf.tensor1d(w0));
    const optimizer = makeOptimizer(0.05, 0.8, 0.99);
    const ct = tf.tensor1d(c);
    for (let i = 0; i < 7; i++) optimizer.minimize(() => tf.sum(tf.mul(ct, w)), false, [w]);
    const out = w.clone();
    optimizer.dispose();
    w.dispose();
    return [out];
  };
  const [expected] = await on('cpu', run(tf.train.adam));
  const [actual] = await on('wasm', run(training.adam));
  assertClose(actual, expected, 0, 0, 'Adam parameters after 7 steps (bit for bit)');
  assert.equal(
    runtime.kernelsInfo()?.native,
    tf.getKernel(runtime.ADAM_KERNEL, 'wasm') !== undefined,
    'the fused kernel serves wasm with the native addon',
  );
});

test(
  'the fused Bernoulli NLL and its gradients equal the stock ops (same shape and x repeated ' +
    'over samples)',
  async () => {
    // Sums of 61 terms of size <= 10 in float32: 1e-5 relative.
    const n = 5;
    const d = 61;
    const xv = values(n * d, 13).map((v) => (v > 0 ? 1 : Math.abs(v)));
    const lv = values(3 * n * d, 14, 10);
    const rv = values(3 * n, 15);
    for (const shape of [
      [n, d],
      [3, n, d],
    ]) {
      const compute = (): tf.Tensor[] => {
        const x = tf.tensor2d(xv, [n, d]);
        const logits = tf.tensor(
          lv.slice(
            0,
            shape.reduce((p, k) => p * k, 1),
          ),
          shape,
        );
        const r = tf.tensor(rv.slice(0, shape.length === 2 ? n : 3 * n), shape.slice(0, -1));
        // -log p(x) of independent Bernoulli pixels: the VAE's reconstruction term
        const nll = (xx: tf.Tensor, ll: tf.Tensor) =>
          tf.neg(new Independent(new Bernoulli({ logits: ll }), 1).logProb(xx));
        const f = (xx: tf.Tensor, ll: tf.Tensor) => tf.sum(tf.mul(nll(xx, ll), r));
        return [nll(x, logits), ...tf.grads(f)([x, logits])];
      };
      const expected = await on('cpu', compute);
      const actual = await on('wasm', compute);
      ['nll', 'dL/dx', 'dL/dlogits'].forEach((name, i) =>
        assertClose(actual[i], expected[i], 1e-5, 1e-5, `Bernoulli NLL [${shape}] ${name}`),
      );
    }
    assert.equal(
      runtime.kernelsInfo()?.native,
      tf.getKernel(runtime.BERNOULLI_NLL_KERNEL, 'wasm') !== undefined,
      'the fused kernel serves wasm with the native addon',
    );
  },
);

test('Bernoulli draws on wasm continue the kit generator exactly as its CPU path does', async () => {
  const pv = values(3001, 16).map((v) => Math.abs(v));
  const draw = (): tf.Tensor[] => {
    runtime.seed(17);
    const first = models.boltzmann.bernoulli(tf.tensor2d(pv, [1, 3001]));
    const second = models.boltzmann.bernoulli(tf.tensor1d(pv.slice(0, 7)));
    return [first, second, tf.tensor1d([runtime.random()])];
  };
  const expected = await on('cpu', draw);
  const actual = await on('wasm', draw);
  ['first draws', 'next draws', 'next uniform'].forEach((name, i) =>
    assertClose(actual[i], expected[i], 0, 0, `bernoulli ${name}`),
  );
  const ones = expected[0].reduce((s, v) => s + v, 0);
  const mean = pv.reduce((s, v) => s + v, 0);
  assert.ok(
    Math.abs(ones - mean) < 5 * Math.sqrt(mean),
    `${ones} ones where ${mean.toFixed(1)} are expected`,
  );
});

test('training an MLP with Adam leaks no tensor and is reproducible from the seed', () => {
  trainMlp(0, 2);
  const before = tf.memory().numTensors;
  const first = trainMlp(5, 10);
  assert.equal(tf.memory().numTensors, before, 'tensors leaked by 10 training steps');
  const second = trainMlp(5, 10);
  first.forEach((p, i) =>
    assert.deepEqual(second[i], p, `parameter ${i} differs between two runs with seed 5`),
  );
});

test('dense rejects wrong shapes and activations with a message naming them', () => {
  const x = tf.zeros([4, 3]) as tf.Tensor2D;
  const w = tf.zeros([3, 2]) as tf.Tensor2D;
  const b = tf.zeros([2]) as tf.Tensor1D;
  assert.throws(
    () => nn.dense(x, tf.zeros([4, 2]) as tf.Tensor2D, b),
    /dense: expected x \[batch, in\], w \[in, out\], b \[out\], got x \[4,3\], w \[4,2\]/,
  );
  assert.throws(() => nn.dense(x, w, tf.zeros([3]) as tf.Tensor1D), /b \[3\]/);
  assert.throws(
    () => nn.dense(x, w, b, 'gelu' as nn.Activation),
    /dense: unknown activation 'gelu': use one of linear, relu/,
  );
  assert.throws(() => new nn.Dense(3, 0), /Dense: outDim must be a positive integer, got 0/);
  tf.dispose([x, w, b]);
});

test(
  'MLP dropout: training mode zeroes units at the rate and is unbiased; evaluation is ' +
    'deterministic',
  () => {
    runtime.seed(7);
    // A linear network, so E[output under dropout] equals the evaluation output exactly (inverted
    // dropout).
    const mlp = new nn.MLP([5, 400, 3], { hidden: 'linear', dropout: 0.3 });
    const x = tf.randomNormal([1, 5]) as tf.Tensor2D;
    const reference = mlp.apply(x).dataSync();
    assert.deepEqual(mlp.apply(x).dataSync(), reference, 'evaluation mode must not drop units');
    const draws = 2000;
    const mean = tf
      .tidy(() => tf.mean(mlp.apply(tf.tile(x, [draws, 1]) as tf.Tensor2D, { training: true }), 0))
      .dataSync();
    const hidden = tf.tidy(() => mlp.layers[0].apply(x));
    // One output's dropout noise has variance (p / (1 - p)) sum_j (h_j w_j)^2; the mean of `draws`
    // draws is within 5 sd.
    const w = mlp.layers[1].w.arraySync() as number[][];
    const h = hidden.dataSync();
    reference.forEach((r, k) => {
      const variance = (0.3 / 0.7) * w.reduce((s, row, j) => s + (h[j] * row[k]) ** 2, 0);
      assert.ok(
        Math.abs(mean[k] - r) < 5 * Math.sqrt(variance / draws),
        `output ${k}: mean under dropout ${mean[k]} vs ${r}`,
      );
    });
    const dropped = tf.tidy(() => {
      const hid = tf.dropout(tf.ones([1, 20000]), 0.3, undefined, 3);
      return tf.mean(tf.cast(tf.equal(hid, 0), 'float32'));
    });
    assert.ok(Math.abs(dropped.dataSync()[0] - 0.3) < 0.02);
    assert.throws(
      () => new nn.MLP([2, 3, 1], { dropout: 1 }),
      /dropout must be a number in \[0, 1\), got 1/,
    );
    assert.throws(
      () => new nn.MLP([2, 3, 1], { dropout: -0.1 }),
      /dropout must be a number in \[0, 1\), got -0.1/,
    );
    assert.throws(
      () => new nn.MLP([2, 3, 1], { droput: 0.5 } as never),
      /MLP: unknown option 'droput' \(did you mean 'dropout'\?\); the options are hidden, output, dropout, name/,
    );
    assert.throws(() => mlp.apply(x, { train: true } as never), /did you mean 'training'/);
    assert.throws(() => new nn.MLP([2, 0, 1]), /MLP: sizes\[1\] must be a positive integer, got 0/);
    tf.dispose([x, hidden, dropped]);
    mlp.dispose();
  },
);
