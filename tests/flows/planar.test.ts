import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models, runtime, tf } from 'genlab';

const {
  PlanarFlow,
  PlanarStack,
  planarFlows,
  planarLogDet,
  planarUHat,
  planarRawU,
  jacobian,
  logAbsDet,
} = models.flows;

/** max over points of |det_formula / det_jacobian - 1|, from the two log-determinants. */
function maxRelativeDetError(logDet: tf.Tensor1D, jacobians: number[][][]): number {
  const ld = logDet.arraySync();
  return Math.max(...jacobians.map((j, i) => Math.abs(Math.expm1(ld[i] - logAbsDet(j)))));
}

test('planarLogDet matches the autodiff Jacobian determinant within 1e-4 relative (d = 2 and 5)', async () => {
  await runtime.init({ seed: 0, report: false });
  for (const d of [2, 5]) {
    const layer = new PlanarFlow(d, { initScale: 1 });
    layer.b.assign(tf.scalar(0.3));
    const z = tf.randomNormal([64, d], 0, 1.5) as tf.Tensor2D;
    const { y, logDet } = layer.forward(z);
    const uHat = layer.uHat();
    const direct = planarLogDet(z, uHat, layer.w, layer.b);
    const jac = jacobian((x) => layer.forward(x).y, z);
    assert.ok(
      maxRelativeDetError(logDet, jac) < 1e-4,
      `d = ${d}: relative error ${maxRelativeDetError(logDet, jac)}`,
    );
    assert.ok(maxRelativeDetError(direct, jac) < 1e-4);
    tf.dispose([z, y, logDet, uHat, direct]);
    layer.dispose();
  }
});

test(
  'a raw u with uᵀw <= -1 is made invertible by û: ûᵀw > -1, positive Jacobian determinant, ' +
    'exact inverse',
  async () => {
    await runtime.init({ seed: 1, report: false });
    const layer = new PlanarFlow(2);
    layer.w.assign(tf.tensor1d([1.5, -0.5]));
    layer.u.assign(tf.tensor1d([-3, 1])); // uᵀw = -5: the raw layer folds the plane
    layer.b.assign(tf.scalar(0.2));
    const wu = tf.sum(tf.mul(layer.w, layer.u)).arraySync() as number;
    assert.ok(wu <= -1);
    // The unconstrained map is not injective along w: α + (wᵀu) tanh(α + b) decreases near α = -b.
    const g = (alpha: number, c: number) => alpha + c * Math.tanh(alpha + 0.2);
    assert.ok(
      g(-0.2 - 0.5, wu) > g(-0.2 + 0.5, wu),
      'the raw map should fold (sanity check of the setup)',
    );
    const uHat = layer.uHat();
    const c = tf.sum(tf.mul(layer.w, uHat)).arraySync() as number;
    assert.ok(c > -1, `ûᵀw = ${c} should be > -1`);
    const z = tf.randomNormal([500, 2], 0, 2) as tf.Tensor2D;
    const { y, logDet } = layer.forward(z);
    const back = layer.inverse(y);
    assert.ok(
      tf.max(tf.abs(tf.sub(back.y, z))).dataSync()[0] < 1e-4,
      'inverse(forward(z)) should return z',
    );
    const ldErr = tf.max(tf.abs(tf.add(back.logDet, logDet))).dataSync()[0];
    // det = 1 + h'c is as small as 0.007 here (c = ûᵀw ≈ -0.993), so float32 cancellation allows
    // ~1e-4
    assert.ok(
      ldErr < 1e-3,
      `the inverse log-det should be minus the forward one, max error ${ldErr}`,
    );
    const jac = jacobian((x) => layer.forward(x).y, z);
    assert.ok(
      jac.every((j) => j[0][0] * j[1][1] - j[0][1] * j[1][0] > 0),
      'det J > 0 everywhere',
    );
    tf.dispose([uHat, z, y, logDet, back.y, back.logDet]);
    layer.dispose();
  },
);

test(
  'planarUHat satisfies ûᵀw = -1 + softplus(wᵀu) and leaves u alone along directions ' +
    'orthogonal to w',
  async () => {
    await runtime.init({ seed: 2, report: false });
    const u = tf.randomNormal([6, 3]) as tf.Tensor2D;
    const w = tf.randomNormal([6, 3]) as tf.Tensor2D;
    const uHat = planarUHat(u, w);
    const wu = tf.sum(tf.mul(w, u), 1).arraySync() as number[];
    const wuHat = tf.sum(tf.mul(w, uHat), 1).arraySync() as number[];
    wu.forEach((a, k) => assert.ok(Math.abs(wuHat[k] - (Math.log1p(Math.exp(a)) - 1)) < 1e-5));
    // û - u is parallel to w
    const diff = tf.sub(uHat, u);
    const cross = tf.sub(
      tf.mul(tf.sum(tf.mul(diff, w), 1, true), w),
      tf.mul(tf.sum(tf.square(w), 1, true), diff),
    );
    assert.ok(tf.max(tf.abs(cross)).dataSync()[0] < 1e-4);
    // planarRawU inverts the map: the raw u it returns has exactly the requested û
    const back = planarUHat(planarRawU(uHat, w), w);
    assert.ok(tf.max(tf.abs(tf.sub(back, uHat))).dataSync()[0] < 1e-4);
    tf.dispose([u, w, uHat, diff, cross, back]);
  },
);

test(
  'PlanarStack (fused op, hand-derived gradients) equals K PlanarFlow layers in values, ' +
    'gradients and inverse',
  async () => {
    await runtime.init({ seed: 3, report: false });
    const K = 5;
    const stack = new PlanarStack(3, K, { initScale: 0.8 });
    stack.b.assign(tf.linspace(-0.2, 0.3, K));
    const layers = planarFlows(3, K);
    layers.forEach((l, k) => {
      l.u.assign(tf.squeeze(tf.slice(stack.u, [k, 0], [1, 3])));
      l.w.assign(tf.squeeze(tf.slice(stack.w, [k, 0], [1, 3])));
      l.b.assign(tf.squeeze(tf.slice(stack.b, [k], [1])));
    });
    const z = tf.variable(tf.randomNormal([40, 3])) as tf.Variable<tf.Rank.R2>;
    const weights = tf.linspace(-1, 1, 40);
    const sequential = new models.flows.NormalizingFlow(layers);
    // an arbitrary scalar of y and log|det|, so that the gradients of both outputs are exercised
    const lossOf = (fused: boolean) => () => {
      const { y, logDet } = fused ? stack.forward(z) : sequential.forward(z);
      return tf.add(tf.sum(tf.sin(y)), tf.sum(tf.mul(logDet, weights))) as tf.Scalar;
    };
    const fused = tf.variableGrads(lossOf(true), [z, stack.u, stack.w, stack.b]);
    const reference = tf.variableGrads(lossOf(false), [z, ...sequential.variables()]);
    const value = reference.value.dataSync()[0];
    assert.ok(Math.abs(fused.value.dataSync()[0] - value) < 1e-4 * Math.abs(value));
    const compare = (what: string, a: tf.Tensor, b: tf.Tensor) => {
      const err = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
      const scale = tf.max(tf.abs(b)).dataSync()[0];
      assert.ok(err <= 1e-4 * scale + 1e-6, `${what}: max error ${err} for scale ${scale}`);
    };
    compare('∂/∂z', fused.grads[z.name], reference.grads[z.name]);
    compare(
      '∂/∂u',
      fused.grads[stack.u.name],
      tf.stack(layers.map((l) => reference.grads[l.u.name])),
    );
    compare(
      '∂/∂w',
      fused.grads[stack.w.name],
      tf.stack(layers.map((l) => reference.grads[l.w.name])),
    );
    compare(
      '∂/∂b',
      fused.grads[stack.b.name],
      tf.stack(layers.map((l) => reference.grads[l.b.name])),
    );
    const { y } = stack.forward(z);
    compare('inverse', stack.inverse(y).y, z);
    tf.dispose([
      z,
      weights,
      y,
      fused.value,
      reference.value,
      ...Object.values(fused.grads),
      ...Object.values(reference.grads),
    ]);
    stack.dispose();
    sequential.dispose();
  },
);

test('planar functions reject bad inputs with messages that name the parameter', async () => {
  await runtime.init({ seed: 0, report: false });
  assert.throws(() => new PlanarFlow(0), /PlanarFlow: dim must be a positive integer, got 0/);
  assert.throws(() => new PlanarFlow(2, { initScale: -1 }), /initScale must be > 0, got -1/);
  assert.throws(() => planarFlows(2, 0), /number of planar layers K must be a positive integer/);
  const layer = new PlanarFlow(2);
  const bad = tf.zeros([4, 3]) as tf.Tensor2D;
  assert.throws(() => layer.forward(bad), /expected points of shape \[batch, 2\], got \[4, 3\]/);
  assert.throws(
    () => planarLogDet(bad, layer.u, layer.w, 0),
    /planarLogDet: expected points of shape \[batch, 2\]/,
  );
  assert.throws(
    () => planarUHat(tf.zeros([3]) as tf.Tensor1D, layer.w),
    /u and w must both be \[d\] or both be \[K, d\]/,
  );
  assert.throws(() => planarRawU(tf.tensor1d([-2, 0]), tf.tensor1d([1, 0])), /ûᵀw must be > -1/);
  assert.throws(
    () => new PlanarStack(2, 0),
    /number of planar layers K must be a positive integer, got 0/,
  );
  assert.throws(
    () => new PlanarStack(2, 3).layer(3),
    /layer index must be an integer in \[0, 2\], got 3/,
  );
  tf.dispose(bad);
  layer.dispose();
});
