import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models, runtime, tf } from 'genlab';

const { AffineCoupling, alternatingMask, couplingFlows, jacobian, logAbsDet, NormalizingFlow } =
  models.flows;

/**
 * Coupling layers start as the identity (zero last layer); give every weight a random value so the
 * test means something.
 */
function randomize(layer: InstanceType<typeof AffineCoupling>, std = 0.7): void {
  for (const v of layer.net.variables()) v.assign(tf.randomNormal(v.shape, 0, std));
}

test(
  'coupling log-determinant matches the autodiff Jacobian determinant within 1e-4 relative (d ' +
    '= 2 and 5)',
  async () => {
    await runtime.init({ seed: 0, report: false });
    for (const d of [2, 5]) {
      for (const parity of [0, 1]) {
        const layer = new AffineCoupling(d, alternatingMask(d, parity), {
          hidden: [16, 16],
          activation: 'tanh',
        });
        randomize(layer);
        const z = tf.randomNormal([32, d], 0, 1.5) as tf.Tensor2D;
        const { y, logDet } = layer.forward(z);
        const jac = jacobian((x) => layer.forward(x).y, z);
        const ld = logDet.arraySync();
        const worst = Math.max(...jac.map((j, i) => Math.abs(Math.expm1(ld[i] - logAbsDet(j)))));
        assert.ok(worst < 1e-4, `d = ${d}, parity ${parity}: relative determinant error ${worst}`);
        assert.ok(
          Math.max(...ld.map(Math.abs)) > 0.05,
          'the layer should change volume (otherwise the test is vacuous)',
        );
        tf.dispose([z, y, logDet]);
        layer.dispose();
      }
    }
  },
);

test('coupling inverses are exact to 1e-5 and their log-determinants are minus the forward ones', async () => {
  await runtime.init({ seed: 1, report: false });
  const flow = new NormalizingFlow(couplingFlows(4, 6, { hidden: [32] }));
  (flow.flows as InstanceType<typeof AffineCoupling>[]).forEach((layer) => randomize(layer, 0.3));
  const z = tf.randomNormal([256, 4]) as tf.Tensor2D;
  for (const layer of flow.flows) {
    const f = layer.forward(z);
    const back = layer.inverse!(f.y);
    assert.ok(
      tf.max(tf.abs(tf.sub(back.y, z))).dataSync()[0] < 1e-5,
      `${layer.name}: inverse(forward(z)) != z`,
    );
    assert.ok(tf.max(tf.abs(tf.add(back.logDet, f.logDet))).dataSync()[0] < 1e-5);
    tf.dispose([f.y, f.logDet, back.y, back.logDet]);
  }
  const { y } = flow.forward(z);
  const z0 = flow.inverse(y);
  const err = tf.max(tf.abs(tf.sub(z0, z))).dataSync()[0];
  assert.ok(err < 1e-5, `the composition of 6 layers inverts with max error ${err}`);
  tf.dispose([z, y, z0]);
  flow.dispose();
});

test('masks alternate between layers and the masked coordinates pass through unchanged', async () => {
  await runtime.init({ seed: 2, report: false });
  assert.deepEqual(alternatingMask(2, 0), [1, 0]);
  assert.deepEqual(alternatingMask(2, 1), [0, 1]);
  assert.deepEqual(alternatingMask(5, 1), [0, 1, 0, 1, 0]);
  const layers = couplingFlows(3, 2);
  layers.forEach((layer) => randomize(layer));
  const z = tf.randomNormal([10, 3]) as tf.Tensor2D;
  layers.forEach((layer, k) => {
    const { y } = layer.forward(z);
    const mask = alternatingMask(3, k);
    const changed = tf.max(tf.abs(tf.sub(y, z)), 0).arraySync() as number[];
    mask.forEach((m, i) => (m === 1 ? assert.equal(changed[i], 0) : assert.ok(changed[i] > 0)));
    y.dispose();
    layer.dispose();
  });
  z.dispose();
});

test('coupling layers reject bad inputs with messages that name the parameter', async () => {
  await runtime.init({ seed: 0, report: false });
  assert.throws(() => alternatingMask(1, 0), /coupling layer needs dim >= 2 .*got 1/);
  assert.throws(() => alternatingMask(2, -1), /layer index must be a non-negative integer, got -1/);
  assert.throws(() => new AffineCoupling(2, [1, 1]), /must contain both 0s and 1s/);
  assert.throws(
    () => new AffineCoupling(2, [1, 0.5]),
    /mask must be 2 values of 0 or 1, got \[1, 0.5\]/,
  );
  assert.throws(
    () => new AffineCoupling(2, [1, 0], { hidden: [0] }),
    /hidden size must be a positive integer, got 0/,
  );
  assert.throws(
    () => couplingFlows(2, 0),
    /number of coupling layers K must be a positive integer, got 0/,
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
