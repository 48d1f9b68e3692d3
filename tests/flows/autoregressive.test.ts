import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models, runtime, tf } from 'genlab';
import { fitMoons, inverseErrors, randomizeVariables } from './helpers';

const {
  InverseAutoregressiveFlow,
  MaskedAutoregressiveFlow,
  NormalizingFlow,
  autoregressiveFlows,
  jacobian,
  logDetErrors,
} = models.flows;

const LAYERS = [MaskedAutoregressiveFlow, InverseAutoregressiveFlow];

test(
  'MAF and IAF log-determinants match the autodiff Jacobian determinant within 1e-4 relative in ' +
    'both directions, and the inverses are exact to 1e-5 (d = 2 and 5, three orderings)',
  async () => {
    await runtime.init({ seed: 0, report: false });
    for (const Layer of LAYERS) {
      for (const d of [2, 5]) {
        const orderings = ['natural', 'reversed', d === 2 ? [1, 0] : [3, 0, 4, 2, 1]] as const;
        for (const ordering of orderings) {
          const layer = new Layer(d, { hidden: [16, 16], ordering: ordering as never });
          randomizeVariables(layer, 0.5);
          const z = tf.randomNormal([24, d], 0, 1.5) as tf.Tensor2D;
          const where = `${layer.constructor.name}, d = ${d}, ordering ${ordering}`;
          const errors = logDetErrors(layer, z);
          assert.ok(errors.forward < 1e-4, `${where}: forward error ${errors.forward}`);
          assert.ok(errors.inverse! < 1e-4, `${where}: inverse error ${errors.inverse}`);
          assert.ok(errors.largest > 0.1, `${where}: the layer should change volume`);
          const back = inverseErrors(layer, z);
          assert.ok(back.points < 1e-5, `${where}: inverse(forward(z)) off by ${back.points}`);
          assert.ok(back.logDet < 1e-5, `${where}: log-determinants differ by ${back.logDet}`);
          z.dispose();
          layer.dispose();
        }
      }
    }
  },
);

test('the Jacobian is triangular in the ordering: output i does not depend on later inputs', async () => {
  await runtime.init({ seed: 1, report: false });
  const ordering = [2, 0, 3, 1];
  const position = new Map(ordering.map((i, k) => [i, k]));
  for (const Layer of LAYERS) {
    const layer = new Layer(4, { hidden: [12], ordering });
    randomizeVariables(layer, 0.6);
    const z = tf.randomNormal([6, 4]) as tf.Tensor2D;
    for (const direction of ['forward', 'inverse'] as const) {
      const jac = jacobian((x) => layer[direction](x).y, z);
      for (const j of jac)
        for (let i = 0; i < 4; i++)
          for (let k = 0; k < 4; k++) {
            const later = position.get(k)! > position.get(i)!;
            if (later) assert.equal(j[i][k], 0, `${direction}: ∂out_${i}/∂in_${k} must be 0`);
            else if (i === k) assert.ok(j[i][k] !== 0);
          }
    }
    z.dispose();
    layer.dispose();
  }
});

test('MAF evaluates a density in one pass of MADE and samples in D passes; IAF the other way round', async () => {
  await runtime.init({ seed: 2, report: false });
  const d = 6;
  for (const Layer of LAYERS) {
    const layer = new Layer(d, { hidden: [8] });
    let passes = 0;
    const outputs = layer.made.outputs.bind(layer.made);
    layer.made.outputs = (x, mask) => {
      passes++;
      return outputs(x, mask);
    };
    const count = (f: () => models.flows.FlowResult) => {
      passes = 0;
      const r = f();
      tf.dispose([r.y, r.logDet]);
      return passes;
    };
    const z = tf.randomNormal([3, d]) as tf.Tensor2D;
    const maf = Layer === MaskedAutoregressiveFlow;
    assert.equal(
      count(() => layer.forward(z)),
      maf ? d : 1,
      `${layer.name}: sampling passes`,
    );
    assert.equal(
      count(() => layer.inverse(z)),
      maf ? 1 : d,
      `${layer.name}: density passes`,
    );
    z.dispose();
    layer.dispose();
  }
});

test(
  'maximum likelihood with stacked MAF layers raises the test log-likelihood of two moons; ' +
    'same seed, same numbers; no leaks',
  async () => {
    const run = async () => {
      await runtime.init({ seed: 3, report: false });
      const flow = new NormalizingFlow(autoregressiveFlows('maf', 2, 4, { hidden: [16, 16] }));
      assert.deepEqual(
        flow.flows.map((f) => (f as InstanceType<typeof MaskedAutoregressiveFlow>).ordering),
        [
          [0, 1],
          [1, 0],
          [0, 1],
          [1, 0],
        ],
      );
      assert.equal(new Set(Object.keys(flow.namedVariables())).size, 4 * 6);
      const result = await fitMoons(flow);
      flow.dispose();
      return result;
    };
    const first = await run();
    assert.ok(first.after < first.before - 0.3, `test NLL ${first.before} -> ${first.after}`);
    const second = await run();
    assert.deepEqual(second.losses, first.losses);
  },
);

test('autoregressive flows reject bad inputs with messages that name the problem', async () => {
  await runtime.init({ seed: 0, report: false });
  assert.throws(() => new MaskedAutoregressiveFlow(1), /MAF dim must be an integer >= 2/);
  assert.throws(
    () => new InverseAutoregressiveFlow(3, { ordering: 'backwards' as never }),
    /IAF: ordering must be 'natural', 'reversed' or a permutation of 0..2, got "backwards"/,
  );
  assert.throws(
    () => new MaskedAutoregressiveFlow(3, { ordering: [0, 0, 1] }),
    /an ordering must be a permutation of 0..2/,
  );
  assert.throws(
    () => new MaskedAutoregressiveFlow(3, { hidden: [0] }),
    /MAF: hidden size must be a positive integer, got 0/,
  );
  assert.throws(
    () => new MaskedAutoregressiveFlow(3, { hiden: [4] } as never),
    /MAF: unknown option 'hiden' \(did you mean 'hidden'\?\); the options are hidden, ordering, name/,
  );
  assert.throws(
    () => autoregressiveFlows('mafs' as never, 2, 2),
    /autoregressiveFlows: unknown type 'mafs': use maf or iaf/,
  );
  assert.throws(() => autoregressiveFlows('iaf', 2, 0), /number of autoregressive layers K/);
  const layer = new InverseAutoregressiveFlow(2);
  const bad = tf.zeros([3, 3]) as tf.Tensor2D;
  assert.throws(
    () => layer.inverse(bad),
    /iaf.inverse: expected points of shape \[batch, 2\], got \[3, 3\]/,
  );
  bad.dispose();
  layer.dispose();
});
