import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models, runtime, tf } from 'genlab';
import { inverseErrors, randomizeVariables } from './helpers';

const {
  ActNorm,
  AffineCoupling,
  InvertibleConv1x1,
  LogitTransform,
  NormalizingFlow,
  Scaling,
  Squeeze,
  logAbsDet,
  luDecompose,
  logDetErrors,
} = models.flows;

const image = { height: 4, width: 2, channels: 3 };

test('luDecompose: P A = L U with L unit lower and U upper triangular; logAbsDet of known matrices', () => {
  const a = [
    [0, 2, 1],
    [3, -1, 4],
    [1, 5, 9],
  ];
  const { rows, lower, upper } = luDecompose(a);
  for (let i = 0; i < 3; i++) {
    assert.equal(lower[i][i], 1);
    for (let j = 0; j < 3; j++) {
      if (j > i) assert.equal(lower[i][j], 0);
      if (j < i) assert.equal(upper[i][j], 0);
      const lu = [0, 1, 2].reduce((s, k) => s + lower[i][k] * upper[k][j], 0);
      assert.ok(Math.abs(lu - a[rows[i]][j]) < 1e-12, `(LU)[${i}][${j}] = ${lu}`);
    }
  }
  // det = 0(−9−20) − 2(27−4) + 1(15+1) = −30
  assert.ok(Math.abs(logAbsDet(a) - Math.log(30)) < 1e-12);
  assert.equal(
    logAbsDet([
      [1, 2],
      [2, 4],
    ]),
    -Infinity,
  );
  assert.throws(() => luDecompose([[1, 2]]), /needs a non-empty square matrix, got 1 rows/);
  assert.throws(() => luDecompose([[NaN]]), /needs a matrix of finite numbers/);
});

test(
  'actnorm, scaling, the 1×1 convolution and the logit layer: log-determinants within 1e-4 ' +
    'relative of autodiff, inverses exact to 1e-5 (vectors and 4 × 2 × 3 images)',
  async () => {
    await runtime.init({ seed: 0, report: false });
    for (const shape of [5, image]) {
      const layers = [
        new ActNorm(shape),
        new Scaling(shape),
        new InvertibleConv1x1(shape),
        new InvertibleConv1x1(shape, { init: 'identity' }),
      ];
      for (const layer of layers) {
        randomizeVariables(layer, 0.5);
        const z = tf.randomNormal([16, layer.dim]) as tf.Tensor2D;
        const where = `${layer.constructor.name} on ${JSON.stringify(shape)}`;
        const errors = logDetErrors(layer, z);
        assert.ok(errors.forward < 1e-4, `${where}: forward error ${errors.forward}`);
        assert.ok(errors.inverse! < 1e-4, `${where}: inverse error ${errors.inverse}`);
        assert.ok(errors.largest > 0.1, `${where}: the layer should change volume`);
        const back = inverseErrors(layer, z);
        assert.ok(back.points < 1e-5, `${where}: inverse error ${back.points}`);
        assert.ok(back.logDet < 1e-5, `${where}: log-determinants differ by ${back.logDet}`);
        z.dispose();
        layer.dispose();
      }
    }
    const logit = new LogitTransform(4, { alpha: 0.01 });
    const z = tf.randomNormal([16, 4], 0, 2) as tf.Tensor2D;
    const errors = logDetErrors(logit, z);
    assert.ok(errors.forward < 1e-4 && errors.inverse! < 1e-4, JSON.stringify(errors));
    assert.ok(inverseErrors(logit, z).points < 1e-4);
    z.dispose();
  },
);

test('the 1×1 convolution applies the same matrix W at every pixel, and log |det W| = Σ log|s|', async () => {
  await runtime.init({ seed: 1, report: false });
  const layer = new InvertibleConv1x1(image);
  randomizeVariables(layer, 0.4);
  const w = layer.matrix().arraySync();
  assert.ok(Math.abs(layer.logAbsDetW().dataSync()[0] - logAbsDet(w)) < 1e-5);
  const x = tf.randomNormal([2, 24]) as tf.Tensor2D;
  const xs = x.arraySync();
  const z = layer.inverse(x).y.arraySync();
  for (let n = 0; n < 2; n++)
    for (let pixel = 0; pixel < 8; pixel++)
      for (let i = 0; i < 3; i++) {
        const expected = [0, 1, 2].reduce((s, j) => s + w[i][j] * xs[n][3 * pixel + j], 0);
        assert.ok(Math.abs(z[n][3 * pixel + i] - expected) < 1e-5);
      }
  x.dispose();
  layer.dispose();
});

test('the 1×1 convolution starts as the permutation it is given, with log-determinant 0', async () => {
  await runtime.init({ seed: 2, report: false });
  const layer = new InvertibleConv1x1(3, { init: [2, 0, 1] });
  assert.deepEqual(layer.matrix().arraySync(), [
    [0, 0, 1],
    [1, 0, 0],
    [0, 1, 0],
  ]);
  const x = tf.tensor2d([[10, 20, 30]]);
  const { y, logDet } = layer.inverse(x);
  assert.deepEqual(Array.from(y.dataSync()), [30, 10, 20]);
  assert.equal(logDet.dataSync()[0], 0);
  const given = [
    [0.5, -1, 2],
    [3, 0, 1],
    [1, 1, -4],
  ];
  const fromMatrix = new InvertibleConv1x1(3, { init: given });
  const w = fromMatrix.matrix();
  assert.ok(tf.max(tf.abs(tf.sub(w, given))).dataSync()[0] < 1e-6, 'starts at the given matrix');
  assert.ok(Math.abs(fromMatrix.logAbsDetW().dataSync()[0] - logAbsDet(given)) < 1e-6);
  tf.dispose(w);
  fromMatrix.dispose();
  const rotation = new InvertibleConv1x1(6);
  const r = rotation.matrix();
  const gram = tf.matMul(r, r, true, false);
  assert.ok(tf.max(tf.abs(tf.sub(gram, tf.eye(6)))).dataSync()[0] < 1e-5, 'a rotation: WᵀW = I');
  assert.ok(Math.abs(rotation.logAbsDetW().dataSync()[0]) < 1e-5);
  tf.dispose([x, y, logDet, r, gram]);
  layer.dispose();
  rotation.dispose();
});

test('the gradient of the 1×1 convolution through W⁻¹ (sampling) matches finite differences', async () => {
  await runtime.init({ seed: 3, report: false });
  const layer = new InvertibleConv1x1(3);
  randomizeVariables(layer, 0.3);
  const z = tf.randomNormal([8, 3]) as tf.Tensor2D;
  const target = tf.randomNormal([8, 3]);
  const loss = () => tf.sum(tf.mul(layer.forward(z).y, target)) as tf.Scalar;
  const { grads } = tf.variableGrads(loss, [layer.lower]);
  const g = grads[layer.lower.name].arraySync() as number[][];
  const h = 1e-2;
  const value = () => tf.tidy(() => loss().dataSync()[0]);
  const original = layer.lower.arraySync();
  for (const [i, j] of [
    [1, 0],
    [2, 0],
    [2, 1],
  ]) {
    const shifted = (delta: number) => {
      const m = original.map((row) => row.slice());
      m[i][j] += delta;
      layer.lower.assign(tf.tensor2d(m));
      return value();
    };
    const numeric = (shifted(h) - shifted(-h)) / (2 * h);
    assert.ok(
      Math.abs(numeric - g[i][j]) < 1e-2 * Math.max(1, Math.abs(numeric)),
      `∂/∂L[${i}][${j}]: autodiff ${g[i][j]}, finite difference ${numeric}`,
    );
  }
  tf.dispose([z, target, ...Object.values(grads)]);
  layer.dispose();
});

test('squeeze turns 2 × 2 blocks into channels, is a permutation (log det 0) and inverts exactly', async () => {
  await runtime.init({ seed: 4, report: false });
  const squeeze = new Squeeze({ height: 2, width: 4, channels: 2 });
  assert.deepEqual(squeeze.squeezedShape, { height: 1, width: 2, channels: 8 });
  // value = 100 row + 10 column + channel
  const values = [0, 1].flatMap((r) =>
    [0, 1, 2, 3].flatMap((c) => [0, 1].map((ch) => 100 * r + 10 * c + ch)),
  );
  const x = tf.tensor2d([values]);
  const { y, logDet } = squeeze.inverse(x);
  // first squeezed pixel: channel 4k + 2i + j is channel k of pixel (i, j) of the first block
  assert.deepEqual(Array.from(y.dataSync()).slice(0, 8), [0, 10, 100, 110, 1, 11, 101, 111]);
  assert.equal(logDet.dataSync()[0], 0);
  const z = tf.randomNormal([5, 16]) as tf.Tensor2D;
  assert.equal(inverseErrors(squeeze, z).points, 0);
  const errors = logDetErrors(squeeze, z);
  assert.ok(errors.forward < 1e-6 && errors.inverse! < 1e-6);
  tf.dispose([x, y, logDet, z]);
});

test('a Glow step on images (actnorm, 1×1 convolution, coupling, after a squeeze) inverts exactly', async () => {
  await runtime.init({ seed: 5, report: false });
  const data = { height: 4, width: 4, channels: 1 };
  const squeeze = new Squeeze(data);
  const inner = squeeze.squeezedShape;
  const flow = new NormalizingFlow([
    new ActNorm(inner),
    new InvertibleConv1x1(inner),
    new AffineCoupling(
      16,
      Array.from({ length: 16 }, (_, i) => (i % 4 < 2 ? 1 : 0)),
      {
        hidden: [16],
      },
    ),
    squeeze,
  ]);
  flow.flows.forEach((layer) => randomizeVariables(layer, 0.3));
  const x = tf.randomNormal([20, 16]) as tf.Tensor2D;
  const z = flow.inverse(x);
  const { y } = flow.forward(z);
  assert.ok(tf.max(tf.abs(tf.sub(y, x))).dataSync()[0] < 1e-5);
  const { x: samples, logProb } = flow.sample(30);
  const again = flow.logProb(samples);
  assert.ok(tf.max(tf.abs(tf.sub(again, logProb))).dataSync()[0] < 1e-3);
  tf.dispose([x, z, y, samples, logProb, again]);
  flow.dispose();
});

test('initializeFromData standardizes the data arriving at each actnorm, once', async () => {
  await runtime.init({ seed: 6, report: false });
  const shape = { height: 3, width: 3, channels: 2 };
  const outer = new ActNorm(shape, { name: 'outer' });
  const conv = new InvertibleConv1x1(shape);
  const inner = new ActNorm(shape, { name: 'inner' });
  const flow = new NormalizingFlow([inner, conv, outer]);
  // data with channel means (3, -2) and standard deviations (0.5, 4)
  const x = tf.tidy(() =>
    tf.reshape(tf.add(tf.mul(tf.randomNormal([400, 9, 2]), [0.5, 4]), [3, -2]), [400, 18]),
  ) as tf.Tensor2D;
  assert.equal(outer.initialized, false);
  flow.initializeFromData(x);
  assert.ok(outer.initialized && inner.initialized);
  const moments = (t: tf.Tensor2D) =>
    tf.tidy(() => {
      const { mean, variance } = tf.moments(tf.reshape(t, [-1, 2]), 0);
      return [...mean.dataSync(), ...tf.sqrt(variance).dataSync()];
    });
  const [m0, m1, s0, s1] = moments(flow.inverse(x));
  for (const m of [m0, m1]) assert.ok(Math.abs(m) < 1e-4, `base-side mean ${m}`);
  for (const s of [s0, s1]) assert.ok(Math.abs(s - 1) < 1e-3, `base-side std ${s}`);
  const bias = outer.bias.dataSync().slice();
  assert.ok(Math.abs(bias[0] - 3) < 0.1 && Math.abs(bias[1] + 2) < 0.6, `bias ${bias}`);
  // a second call keeps the parameters
  const other = tf.mul(x, 2) as tf.Tensor2D;
  flow.initializeFromData(other);
  assert.deepEqual(outer.bias.dataSync(), bias);
  tf.dispose([x, other]);
  flow.dispose();
});

test('same seed, same layers; no tensors leak from forward, inverse and initialization', async () => {
  const build = async () => {
    await runtime.init({ seed: 7, report: false });
    const layer = new InvertibleConv1x1(image);
    const w = layer.matrix();
    const values = w.arraySync();
    w.dispose();
    layer.dispose();
    return values;
  };
  assert.deepEqual(await build(), await build());
  const layers: models.flows.Flow[] = [
    new ActNorm(image),
    new InvertibleConv1x1(image),
    new Squeeze(image),
    new LogitTransform(24),
  ];
  const x = tf.randomUniform([8, 24], 0.1, 0.9) as tf.Tensor2D;
  const before = tf.memory().numTensors;
  for (const layer of layers) {
    layer.initializeFromData?.(x);
    const f = layer.forward(x);
    const b = layer.inverse!(x);
    tf.dispose([f.y, f.logDet, b.y, b.logDet]);
  }
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  const created = tf.memory().numTensors;
  layers.forEach((l) => l.dispose());
  assert.ok(tf.memory().numTensors < created);
  x.dispose();
});

test('Glow layers reject bad inputs with messages that name the problem', async () => {
  await runtime.init({ seed: 0, report: false });
  assert.throws(() => new ActNorm(0), /ActNorm: the shape must be .* got channels 0/);
  assert.throws(
    () => new ActNorm({ height: 2, width: 2.5, channels: 1 }),
    /ActNorm: the shape must be .* got width 2.5/,
  );
  assert.throws(() => new Scaling(3, { nmae: 'x' } as never), /Scaling: unknown option 'nmae'/);
  assert.throws(
    () => new InvertibleConv1x1(3, { init: [0, 0, 1] }),
    /init must be 'rotation', 'identity', a permutation of 0..2 or a 3 × 3 matrix, got \[0,0,1\]/,
  );
  assert.throws(
    () => new InvertibleConv1x1(3, { init: 'rotaton' as never }),
    /init must be 'rotation', 'identity', a permutation/,
  );
  assert.throws(
    () =>
      new InvertibleConv1x1(2, {
        init: [
          [1, 2],
          [2, 4],
        ],
      }),
    /the init matrix is singular/,
  );
  assert.throws(
    () => new Squeeze({ height: 3, width: 4, channels: 1 }),
    /Squeeze: height and width must be even .* got 3 × 4 × 1/,
  );
  assert.throws(
    () => new LogitTransform(2, { alpha: 0.5 }),
    /alpha must be in \[0, 0.5\), got 0.5/,
  );
  const actnorm = new ActNorm(image);
  const wrong = tf.zeros([2, 23]) as tf.Tensor2D;
  assert.throws(
    () => actnorm.forward(wrong),
    /actnorm.forward: expected points of shape \[batch, 24\]/,
  );
  const one = tf.zeros([1, 3]) as tf.Tensor2D;
  assert.throws(
    () => new ActNorm(3).initializeFromData(one),
    /needs at least 2 values per channel .* got 1/,
  );
  tf.dispose([wrong, one]);
  actnorm.dispose();
});
