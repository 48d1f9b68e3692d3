import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models, runtime, tf } from 'genlab';
import { inverseErrors, randomizeVariables } from './helpers';

const {
  AdditiveCoupling,
  AffineCoupling,
  alternatingMask,
  couplingFlows,
  niceFlows,
  NormalizingFlow,
  Scaling,
  logDetErrors,
} = models.flows;

test(
  'coupling log-determinants match the autodiff Jacobian determinant within 1e-4 relative, ' +
    'affine and additive (d = 2 and 5)',
  async () => {
    await runtime.init({ seed: 0, report: false });
    for (const Layer of [AffineCoupling, AdditiveCoupling]) {
      for (const d of [2, 5]) {
        for (const parity of [0, 1]) {
          const layer = new Layer(d, alternatingMask(d, parity), {
            hidden: [16, 16],
            activation: 'tanh',
          });
          randomizeVariables(layer, 0.7);
          const z = tf.randomNormal([32, d], 0, 1.5) as tf.Tensor2D;
          const errors = logDetErrors(layer, z);
          const where = `${layer.constructor.name}, d = ${d}, parity ${parity}`;
          assert.ok(errors.forward < 1e-4, `${where}: forward error ${errors.forward}`);
          assert.ok(errors.inverse! < 1e-4, `${where}: inverse error ${errors.inverse}`);
          if (Layer === AffineCoupling)
            assert.ok(errors.largest > 0.05, `${where}: the layer should change volume`);
          else assert.equal(errors.largest, 0, `${where}: additive coupling preserves volume`);
          // not the identity: the transformed coordinates move
          const moved = tf.tidy(() => tf.max(tf.abs(tf.sub(layer.forward(z).y, z))).dataSync()[0]);
          assert.ok(moved > 0.1, `${where}: the layer moves points by at most ${moved}`);
          z.dispose();
          layer.dispose();
        }
      }
    }
  },
);

test('coupling inverses are exact to 1e-5 and their log-determinants are minus the forward ones', async () => {
  await runtime.init({ seed: 1, report: false });
  for (const type of ['affine', 'additive'] as const) {
    const flow = new NormalizingFlow(couplingFlows(4, 6, { hidden: [32], type }));
    flow.flows.forEach((layer) => randomizeVariables(layer, 0.3));
    const z = tf.randomNormal([256, 4]) as tf.Tensor2D;
    for (const layer of flow.flows) {
      const errors = inverseErrors(layer, z);
      assert.ok(errors.points < 1e-5, `${type} ${layer.name}: inverse(forward(z)) != z`);
      assert.ok(errors.logDet < 1e-5, `${type} ${layer.name}: log-determinants do not cancel`);
    }
    const { y, logDet } = flow.forward(z);
    const z0 = flow.inverse(y);
    const err = tf.max(tf.abs(tf.sub(z0, z))).dataSync()[0];
    assert.ok(err < 1e-5, `${type}: the composition of 6 layers inverts with max error ${err}`);
    tf.dispose([z, y, logDet, z0]);
    flow.dispose();
  }
});

test('masks alternate between layers and the masked coordinates pass through unchanged', async () => {
  await runtime.init({ seed: 2, report: false });
  assert.deepEqual(alternatingMask(2, 0), [1, 0]);
  assert.deepEqual(alternatingMask(2, 1), [0, 1]);
  assert.deepEqual(alternatingMask(5, 1), [0, 1, 0, 1, 0]);
  for (const type of ['affine', 'additive'] as const) {
    const layers = couplingFlows(3, 2, { type });
    assert.ok(
      layers.every((l) => l instanceof (type === 'affine' ? AffineCoupling : AdditiveCoupling)),
    );
    layers.forEach((layer) => randomizeVariables(layer, 0.7));
    const z = tf.randomNormal([10, 3]) as tf.Tensor2D;
    layers.forEach((layer, k) => {
      const { y, logDet } = layer.forward(z);
      const mask = alternatingMask(3, k);
      const changed = tf.max(tf.abs(tf.sub(y, z)), 0).arraySync() as number[];
      mask.forEach((m, i) => (m === 1 ? assert.equal(changed[i], 0) : assert.ok(changed[i] > 0)));
      tf.dispose([y, logDet]);
      layer.dispose();
    });
    z.dispose();
  }
});

test(
  'NICE: additive couplings after a scaling layer, whose log-determinant is Σ s at every ' +
    'point',
  async () => {
    await runtime.init({ seed: 3, report: false });
    const layers = niceFlows(3, 4, { hidden: [8] });
    assert.equal(layers.length, 5);
    assert.ok(layers[0] instanceof Scaling, 'the scaling layer sits on the base side');
    assert.ok(layers.slice(1).every((l) => l instanceof AdditiveCoupling));
    const scaling = layers[0] as InstanceType<typeof Scaling>;
    scaling.logScale.assign(tf.tensor1d([0.5, -1, 0.25]));
    const flow = new NormalizingFlow(layers);
    flow.flows.slice(1).forEach((layer) => randomizeVariables(layer, 0.5));
    const z = tf.randomNormal([50, 3]) as tf.Tensor2D;
    const { y, logDet } = flow.forward(z);
    // the couplings preserve volume, so the whole flow's log-determinant is the scaling's
    const ld = logDet.dataSync();
    for (const v of ld) assert.ok(Math.abs(v - -0.25) < 1e-6, `log det ${v}, expected -0.25`);
    const errors = logDetErrors(scaling, z);
    assert.ok(errors.forward < 1e-6 && errors.inverse! < 1e-6);
    tf.dispose([z, y, logDet]);
    flow.dispose();
  },
);

test('coupling layers reject bad inputs with messages that name the parameter', async () => {
  await runtime.init({ seed: 0, report: false });
  assert.throws(() => alternatingMask(1, 0), /coupling layer needs dim >= 2 .*got 1/);
  assert.throws(() => alternatingMask(2, -1), /layer index must be a non-negative integer, got -1/);
  assert.throws(() => new AffineCoupling(2, [1, 1]), /must contain both 0s and 1s/);
  assert.throws(() => new AdditiveCoupling(2, [0, 0]), /AdditiveCoupling mask .*both 0s and 1s/);
  assert.throws(
    () => new AffineCoupling(2, [1, 0.5]),
    /mask must be 2 values of 0 or 1, got \[1, 0.5\]/,
  );
  assert.throws(
    () => new AffineCoupling(2, [1, 0], { hidden: [0] }),
    /hidden size must be a positive integer, got 0/,
  );
  assert.throws(
    () => new AdditiveCoupling(2, [1, 0], { hiden: [8] } as never),
    /AdditiveCoupling: unknown option 'hiden' \(did you mean 'hidden'\?\); the options are hidden, activation, name/,
  );
  assert.throws(
    () => couplingFlows(2, 0),
    /number of coupling layers K must be a positive integer, got 0/,
  );
  assert.throws(
    () => couplingFlows(2, 2, { type: 'additve' as never }),
    /couplingFlows: unknown type 'additve': use affine or additive/,
  );
  assert.throws(
    () => niceFlows(2, 2, { type: 'affine' } as never),
    /niceFlows: unknown option 'type'/,
  );
  const layer = new AffineCoupling(2, [1, 0]);
  const bad = tf.zeros([3, 4]) as tf.Tensor2D;
  assert.throws(
    () => layer.inverse(bad),
    /coupling.inverse: expected points of shape \[batch, 2\], got \[3, 4\]/,
  );
  bad.dispose();
  layer.dispose();
});
