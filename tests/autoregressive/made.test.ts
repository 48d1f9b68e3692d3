import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models, runtime, tf } from 'genlab';

const { MADE } = models.autoregressive;
type MadeOptions = ConstructorParameters<typeof models.autoregressive.MADE>[0];

/** Gives every weight (direct connections included) a random value of the given scale. */
function randomize(made: models.autoregressive.MADE, scale: number): void {
  for (const v of made.variables())
    v.assign(tf.tidy(() => tf.mul(tf.randomNormal(v.shape), scale)));
}

/** All 2^d binary vectors as rows, bit i of the row index is x_i. */
function allStates(d: number): tf.Tensor2D {
  const values = new Float32Array(2 ** d * d);
  for (let s = 0; s < 2 ** d; s++) for (let i = 0; i < d; i++) values[s * d + i] = (s >> i) & 1;
  return tf.tensor2d(values, [2 ** d, d]);
}

const SHAPES: MadeOptions[] = [
  { inputDim: 5, hidden: [10] },
  { inputDim: 6, hidden: [9, 7], masks: 3, ordering: 'random', directConnections: true },
  { inputDim: 7, hidden: [12], masks: 2, ordering: [3, 0, 6, 1, 5, 2, 4], outputsPerDim: 2 },
];

test(
  'autoregressive: d output_d / d x_j = 0 whenever x_j does not come before x_d, for every ' +
    'mask, and not otherwise (autodiff on random inputs)',
  async () => {
    await runtime.init({ seed: 0, report: false });
    for (const options of SHAPES) {
      const made = new MADE(options);
      randomize(made, 1);
      const d = made.inputDim;
      const x = tf.randomNormal([16, d]) as tf.Tensor2D;
      for (let k = 0; k < made.maskCount; k++) {
        const position = new Array<number>(d);
        made.ordering(k).forEach((input, p) => (position[input] = p));
        for (let column = 0; column < d * made.config.outputsPerDim; column++) {
          const out = column % d;
          const grad = tf.grad((v: tf.Tensor) =>
            tf.sum(tf.slice(made.outputs(v as tf.Tensor2D, k), [0, column], [-1, 1])),
          )(x);
          // |d output / d x_j| summed over the batch, per input j
          const size = tf.tidy(() => tf.sum(tf.abs(grad), 0).dataSync());
          grad.dispose();
          for (let j = 0; j < d; j++) {
            const before = position[j] < position[out];
            const what = `${JSON.stringify(options)} mask ${k}: output ${column}, input ${j}`;
            if (before && options.directConnections) assert.ok(size[j] > 0, `${what} is cut`);
            if (!before) assert.equal(size[j], 0, `${what} leaks (${size[j]})`);
          }
        }
      }
      x.dispose();
      made.dispose();
    }
  },
);

test('the probabilities of all 2^8 binary vectors sum to 1, for each mask and their mixture', async () => {
  await runtime.init({ seed: 1, report: false });
  const made = new MADE({
    inputDim: 8,
    hidden: [12, 10],
    masks: 3,
    ordering: 'random',
    directConnections: true,
  });
  randomize(made, 1.5);
  const states = allStates(8);
  const total = (logp: tf.Tensor1D) => tf.tidy(() => tf.sum(tf.exp(logp)).dataSync()[0]);
  for (let k = 0; k < 3; k++) {
    const logp = made.logProbOfMask(states, k);
    assert.ok(Math.abs(total(logp) - 1) < 1e-5, `mask ${k}: ${total(logp)}`);
    // a distribution far from uniform, so the sum is not 1 by symmetry
    assert.ok(tf.tidy(() => tf.max(logp).dataSync()[0]) > Math.log(8 / 256));
    logp.dispose();
  }
  const mixture = made.logProb(states);
  assert.ok(Math.abs(total(mixture) - 1) < 1e-5, `mixture: ${total(mixture)}`);
  tf.dispose([mixture, states]);
  made.dispose();
});

test(
  'ancestral samples of a tiny MADE (2 masks, random orderings) match its exact probabilities ' +
    'in total variation',
  async () => {
    await runtime.init({ seed: 2, report: false });
    const made = new MADE({ inputDim: 4, hidden: [16], masks: 2, ordering: 'random' });
    randomize(made, 1.5);
    assert.notDeepEqual(made.ordering(0), made.ordering(1), 'the two orderings differ');
    const states = allStates(4);
    const logp = made.logProb(states);
    const exact = Array.from(tf.tidy(() => tf.exp(logp).dataSync()));
    const n = 40000;
    const samples = made.sample(n);
    const counts = new Array<number>(16).fill(0);
    const values = samples.dataSync();
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let i = 0; i < 4; i++) s |= values[r * 4 + i] << i;
      counts[s]++;
    }
    const tv = 0.5 * counts.reduce((sum, c, s) => sum + Math.abs(c / n - exact[s]), 0);
    // E[TV] <= (1/2) sum_s sqrt(p_s / n) <= 0.01 here; a wrong conditional costs far more.
    assert.ok(tv < 0.015, `total variation ${tv}`);
    assert.ok(Math.max(...exact) > 0.15, 'the distribution is far from uniform');
    tf.dispose([states, logp, samples]);
    made.dispose();
  },
);

test('bad inputs fail at once with a message naming the problem', async () => {
  await runtime.init({ seed: 0, report: false });
  const cases: [MadeOptions, RegExp][] = [
    [{ inputDim: 1, hidden: [4] }, /inputDim must be an integer >= 2, got 1/],
    [{ inputDim: 4.5, hidden: [4] }, /inputDim must be an integer >= 2, got 4.5/],
    [{ inputDim: 4, hidden: [] }, /hidden must list at least one layer size/],
    [{ inputDim: 4, hidden: [4, 0] }, /hidden\[1\] must be a positive integer, got 0/],
    [{ inputDim: 4, hidden: [4], masks: 0 }, /masks must be a positive integer, got 0/],
    [{ inputDim: 4, hidden: [4], ordering: [0, 1, 1, 2] }, /entry 2 is 1 \(repeated\)/],
    [{ inputDim: 4, hidden: [4], ordering: [0, 1, 2] }, /list each of the 4 inputs once, got 3/],
    [{ inputDim: 4, hidden: [4], ordering: 'reversed' as 'natural' }, /ordering must be 'natural'/],
    [{ inputDim: 4, hidden: [4], mask: 2 } as MadeOptions, /unknown option 'mask'/],
    [
      { inputDim: 4, hidden: [4], directConnections: 'yes' as unknown as boolean },
      /directConnections must be true or false/,
    ],
  ];
  for (const [options, message] of cases) assert.throws(() => new MADE(options), message);
  const made = new MADE({ inputDim: 4, hidden: [5], masks: 2 });
  const wide = tf.zeros([3, 5]) as tf.Tensor2D;
  assert.throws(() => made.logProb(wide), /x must be a batch of vectors \[n, 4\], got \[3, 5\]/);
  const grey = tf.fill([2, 4], 0.5) as tf.Tensor2D;
  assert.throws(() => made.logProb(grey), /binary values \(0 or 1\)/);
  const nan = tf.tensor2d([[0, 1, NaN, 1]]);
  assert.throws(() => made.logProb(nan), /binary values/);
  const ok = tf.zeros([2, 4]) as tf.Tensor2D;
  assert.throws(() => made.outputs(ok, 2), /mask must be an integer in \[0, 2\).*got 2/);
  assert.throws(() => made.sample(0), /n must be a positive integer, got 0/);
  assert.throws(
    () => new MADE({ inputDim: 4, hidden: [6] }, { degrees: made.degrees }),
    /2 sets of degrees for 1 masks/,
  );
  assert.throws(
    () => new MADE({ inputDim: 4, hidden: [6], masks: 2 }, { degrees: made.degrees }),
    /hidden sizes \[5\], the model has \[6\]/,
  );
  const twoOutputs = new MADE({ inputDim: 4, hidden: [5], outputsPerDim: 2 });
  assert.throws(() => twoOutputs.logits(ok), /one output per input; this model has 2/);
  tf.dispose([wide, grey, nan, ok]);
  made.dispose();
  twoOutputs.dispose();
});

test('no tensor leaks, and the same seed gives the same masks, weights and samples', async () => {
  const build = async () => {
    await runtime.init({ seed: 5, report: false });
    const made = new MADE({ inputDim: 6, hidden: [8], masks: 2, ordering: 'random' });
    const samples = made.sample(20);
    const values = Array.from(samples.dataSync());
    samples.dispose();
    return { made, values };
  };
  const before = tf.memory().numTensors;
  const a = await build();
  const b = await build();
  assert.deepEqual(a.made.degrees, b.made.degrees);
  assert.deepEqual(a.values, b.values);
  const weights = (m: models.autoregressive.MADE) =>
    m.variables().map((v) => Array.from(v.dataSync()));
  assert.deepEqual(weights(a.made), weights(b.made));
  const passes: [number, number][] = [];
  a.made.sample(30, { onPass: (done, total) => passes.push([done, total]) }).dispose();
  const total = passes[0][1];
  assert.ok(total === 6 || total === 12, `one pass per dimension and mask used, got ${total}`);
  assert.deepEqual(
    passes,
    passes.map((_, i) => [i + 1, total]),
  );
  const afterBuild = tf.memory().numTensors;
  const x = tf.tensor2d([[0, 1, 1, 0, 1, 0]]);
  for (let i = 0; i < 3; i++) {
    tf.dispose([a.made.logProb(x), a.made.outputs(x, 1), a.made.sample(3), ...a.made.masks(1)]);
    tf.grad((v: tf.Tensor) => tf.sum(a.made.outputs(v as tf.Tensor2D)))(x).dispose();
  }
  x.dispose();
  assert.equal(tf.memory().numTensors, afterBuild);
  a.made.dispose();
  b.made.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test(
  'the figures: the dependency matrix in chain-rule order is strictly triangular, and the ' +
    'network picture has one edge per kept weight',
  async () => {
    await runtime.init({ seed: 3, report: false });
    const made = new MADE({ inputDim: 6, hidden: [10, 10], masks: 2, ordering: 'random' });
    for (let k = 0; k < 2; k++) {
      const z = models.autoregressive.dependencyFigure(made, k).data[0].z as number[][];
      for (let i = 0; i < 6; i++)
        for (let j = 0; j < 6; j++) if (j >= i) assert.equal(z[i][j], 0, `mask ${k}: ${i}, ${j}`);
      // the output of the last position can see some earlier input
      assert.ok(z[5].some((v) => v === 1));
      const fig = models.autoregressive.connectivityFigure(made, k);
      const edges = (fig.data[0].x as (number | null)[]).filter((v) => v === null).length;
      const masks = made.masks(k);
      const kept = masks.reduce((sum, m) => sum + tf.tidy(() => tf.sum(m).dataSync()[0]), 0);
      tf.dispose(masks);
      assert.equal(edges, kept);
      assert.equal(fig.data.length, 1 + 4, 'edges, then inputs, two hidden layers, outputs');
    }
    const big = new MADE({ inputDim: 20, hidden: [8] });
    assert.throws(() => models.autoregressive.connectivityFigure(big), /draws small networks/);
    made.dispose();
    big.dispose();
  },
);
