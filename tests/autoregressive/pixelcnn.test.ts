import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models, nn, runtime, tf } from 'genlab';

const { PixelCNN } = models.autoregressive;
type PixelCnnOptions = models.autoregressive.PixelCnnOptions;

/** Gives every weight a random value of the given scale (far from the near-uniform start). */
function randomize(model: models.autoregressive.PixelCNN, scale: number): void {
  for (const v of model.variables())
    v.assign(tf.tidy(() => tf.mul(tf.randomNormal(v.shape), scale)));
}

/** All 2^d binary images as rows, bit i of the row index is pixel i (raster order). */
function allStates(d: number): tf.Tensor2D {
  const values = new Float32Array(2 ** d * d);
  for (let s = 0; s < 2 ** d; s++) for (let i = 0; i < d; i++) values[s * d + i] = (s >> i) & 1;
  return tf.tensor2d(values, [2 ** d, d]);
}

test('causal masks: type A keeps the taps before the centre in raster order, B the centre too', () => {
  assert.deepEqual(nn.causalMask(3, 3, 'A'), [
    [1, 1, 1],
    [1, 0, 0],
    [0, 0, 0],
  ]);
  assert.deepEqual(nn.causalMask(3, 3, 'B'), [
    [1, 1, 1],
    [1, 1, 0],
    [0, 0, 0],
  ]);
  const a = nn.causalMask(7, 7, 'A').flat();
  assert.equal(
    a.reduce((s, v) => s + v, 0),
    24,
    'the 24 taps before the centre of a 7x7 filter',
  );
  assert.deepEqual(nn.causalMask(1, 1, 'B'), [[1]], 'a 1x1 type-B filter sees the pixel itself');
  assert.throws(() => nn.causalMask(4, 3, 'A'), /kernelHeight must be an odd positive integer/);
  assert.throws(() => nn.causalMask(3, 3, 'C' as 'A'), /type must be 'A' or 'B', got "C"/);
});

test(
  'MaskedConv2d is the convolution with the masked filter (tfjs reference), and the masked taps ' +
    'get no gradient',
  async () => {
    await runtime.init({ seed: 0, report: false });
    const layer = new nn.MaskedConv2d(3, 4, 5, 'A', { name: 'm' });
    const x = tf.randomNormal([2, 6, 7, 3]) as tf.Tensor4D;
    const y = layer.apply(x);
    const reference = tf.tidy(() => {
      const w = tf.mul(layer.w, tf.tensor4d(nn.causalMask(5, 5, 'A').flat(), [5, 5, 1, 1]));
      const z = tf.conv2d(x, w as tf.Tensor4D, 1, 'same');
      return tf.add(z, layer.b!);
    });
    assert.deepEqual(y.shape, [2, 6, 7, 4], 'the output keeps the input size');
    const gap = tf.tidy(() => tf.max(tf.abs(tf.sub(y, reference))).dataSync()[0]);
    assert.ok(gap < 1e-4, `largest difference from the reference ${gap}`);
    const gw = tf.grad((w: tf.Tensor) =>
      tf.sum(tf.square(nn.conv2d(x, tf.mul(w, layer.mask) as tf.Tensor4D, layer.b, {}))),
    )(layer.w);
    const g = gw.arraySync() as number[][][][];
    const mask = nn.causalMask(5, 5, 'A');
    for (let i = 0; i < 5; i++)
      for (let j = 0; j < 5; j++) {
        const size = g[i][j].flat().reduce((s, v) => s + Math.abs(v), 0);
        if (mask[i][j] === 0) assert.equal(size, 0, `tap ${i},${j} is masked`);
        else assert.ok(size > 0, `tap ${i},${j} learns`);
      }
    assert.deepEqual(Object.keys(layer.namedVariables()), ['m.w', 'm.b']);
    assert.throws(() => layer.apply(tf.zeros([2, 6, 7, 2]) as tf.Tensor4D), /\[batch, height/);
    assert.throws(
      () => new nn.MaskedConv2d(1, 2, 4, 'B'),
      /odd positive integer \(the filter needs a centre\), got 4/,
    );
    assert.throws(
      () => new nn.MaskedConv2d(1, 2, 3, 'B', { padding: 1 } as never),
      /MaskedConv2d: unknown option 'padding'/,
    );
    tf.dispose([x, y, reference, gw]);
    layer.dispose();
  },
);

const SHAPES: PixelCnnOptions[] = [
  { imageShape: [5, 4], channels: 4, residualBlocks: 2, firstKernel: 3 },
  { imageShape: [4, 6], channels: 3, residualBlocks: 1, firstKernel: 5, kernel: 3 },
];

test(
  'autoregressive: d logit_i / d x_j = 0 for every pixel j at or after i in raster order, and ' +
    'the pixels left of i and above it do reach it (autodiff on random inputs)',
  async () => {
    await runtime.init({ seed: 0, report: false });
    for (const options of SHAPES) {
      const model = new PixelCNN(options);
      randomize(model, 1);
      const [h, w] = options.imageShape;
      const d = h * w;
      const x = tf.randomNormal([8, d]) as tf.Tensor2D;
      for (let i = 0; i < d; i++) {
        const grad = tf.grad((v: tf.Tensor) =>
          tf.sum(tf.slice(model.logits(v as tf.Tensor2D), [0, i], [-1, 1])),
        )(x);
        const size = tf.tidy(() => tf.sum(tf.abs(grad), 0).dataSync());
        grad.dispose();
        const what = (j: number) => `${JSON.stringify(options)}: logit ${i}, pixel ${j}`;
        for (let j = i; j < d; j++) assert.equal(size[j], 0, `${what(j)} leaks (${size[j]})`);
        if (i % w > 0) assert.ok(size[i - 1] > 0, `${what(i - 1)}: the left neighbour is cut`);
        if (i >= w) assert.ok(size[i - w] > 0, `${what(i - w)}: the pixel above is cut`);
      }
      x.dispose();
      model.dispose();
    }
  },
);

test('the probabilities of all 2^9 binary 3x3 images sum to 1 (enumeration)', async () => {
  await runtime.init({ seed: 1, report: false });
  const model = new PixelCNN({
    imageShape: [3, 3],
    channels: 5,
    residualBlocks: 2,
    firstKernel: 3,
  });
  randomize(model, 1);
  const states = allStates(9);
  const logp = model.logProb(states);
  const total = tf.tidy(() => tf.sum(tf.exp(logp)).dataSync()[0]);
  assert.ok(Math.abs(total - 1) < 1e-5, `sum of p(x) over 512 images: ${total}`);
  // a distribution far from uniform, so the sum is not 1 by symmetry
  assert.ok(tf.tidy(() => tf.max(logp).dataSync()[0]) > Math.log(8 / 512));
  tf.dispose([states, logp]);
  model.dispose();
});

test('ancestral samples of a tiny 3x3 PixelCNN match its exact probabilities in total variation', async () => {
  await runtime.init({ seed: 2, report: false });
  const model = new PixelCNN({
    imageShape: [3, 3],
    channels: 6,
    residualBlocks: 1,
    firstKernel: 3,
  });
  randomize(model, 1);
  const states = allStates(9);
  const logp = model.logProb(states);
  const exact = Array.from(tf.tidy(() => tf.exp(logp).dataSync()));
  const n = 50000;
  const samples = model.sample(n);
  const counts = new Array<number>(512).fill(0);
  const values = samples.dataSync();
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let i = 0; i < 9; i++) s |= values[r * 9 + i] << i;
    counts[s]++;
  }
  const tvTo = (p: number[]) => 0.5 * counts.reduce((sum, c, s) => sum + Math.abs(c / n - p[s]), 0);
  // E[TV] <= (1/2) Σ_s sqrt(p_s / n) (Cauchy-Schwarz on each |count/n - p_s|), and TV moves by at
  // most 1/n per sample, so it exceeds its mean by t with probability <= exp(-2 n t^2)
  // (McDiarmid): t = sqrt(ln(10^6) / (2n)) makes a false failure a one-in-a-million event.
  const mean = 0.5 * exact.reduce((sum, p) => sum + Math.sqrt(p / n), 0);
  const bound = mean + Math.sqrt(Math.log(1e6) / (2 * n));
  const tv = tvTo(exact);
  assert.ok(tv < bound, `total variation ${tv} above the bound ${bound}`);
  // the bound is tight enough to tell: the uniform distribution and the model with pixel 4's
  // conditional flipped are both far outside it
  assert.ok(tvTo(exact.map(() => 1 / 512)) > 3 * bound, 'the samples are not uniform');
  const flipped = exact.map((_, s) => exact[s ^ 16]);
  assert.ok(tvTo(flipped) > 3 * bound, 'pixel 4 is drawn from its own conditional');
  tf.dispose([states, logp, samples]);
  model.dispose();
});

test('bad inputs fail at once with a message naming the problem', async () => {
  await runtime.init({ seed: 0, report: false });
  const cases: [PixelCnnOptions, RegExp][] = [
    [{ imageShape: [28] as never }, /imageShape must be \[height, width\]/],
    [{ imageShape: [1, 1] }, /at least 2 pixels/],
    [{ imageShape: [4, -4] }, /imageShape must be/],
    [{ imageShape: [4, 4], channels: 0 }, /channels must be a positive integer, got 0/],
    [{ imageShape: [4, 4], residualBlocks: 1.5 }, /residualBlocks must be a non-negative integer/],
    [{ imageShape: [4, 4], firstKernel: 4 }, /firstKernel must be an odd positive integer, got 4/],
    [{ imageShape: [4, 4], kernel: NaN }, /kernel must be an odd positive integer, got NaN/],
    [
      { imageShape: [4, 4], chanels: 8 } as PixelCnnOptions,
      /unknown option 'chanels' \(did you mean 'channels'\?\)/,
    ],
  ];
  for (const [options, message] of cases) assert.throws(() => new PixelCNN(options), message);
  const model = new PixelCNN({ imageShape: [3, 4], channels: 2, residualBlocks: 1 });
  const wide = tf.zeros([3, 13]) as tf.Tensor2D;
  assert.throws(() => model.logProb(wide), /flat 3x4 images \[n, 12\], got \[3, 13\]/);
  const images = tf.zeros([2, 3, 4, 1]);
  assert.throws(() => model.logProb(images as never), /flatten with tf.reshape/);
  const grey = tf.fill([2, 12], 0.5) as tf.Tensor2D;
  assert.throws(() => model.logProb(grey), /PixelCNN: x must hold binary values/);
  const nan = tf.tensor2d([[0, 1, NaN, 1, 0, 0, 0, 0, 1, 1, 1, 1]]);
  assert.throws(() => model.logProb(nan), /binary values/);
  assert.throws(() => model.sample(0), /n must be a positive integer, got 0/);
  assert.throws(
    () => model.sample(2, { onpass: () => {} } as never),
    /PixelCNN.sample: unknown option 'onpass'/,
  );
  tf.dispose([wide, images, grey, nan]);
  model.dispose();
});

test('no tensor leaks, and the same seed gives the same weights, values and samples', async () => {
  const build = async () => {
    await runtime.init({ seed: 5, report: false });
    const model = new PixelCNN({ imageShape: [4, 3], channels: 3, residualBlocks: 2 });
    const samples = model.sample(20);
    const values = Array.from(samples.dataSync());
    samples.dispose();
    return { model, values };
  };
  const before = tf.memory().numTensors;
  const a = await build();
  const b = await build();
  assert.deepEqual(a.values, b.values);
  const weights = (m: models.autoregressive.PixelCNN) =>
    m.variables().map((v) => Array.from(v.dataSync()));
  assert.deepEqual(weights(a.model), weights(b.model));
  const passes: [number, number][] = [];
  a.model.sample(5, { onPass: (done, total) => passes.push([done, total]) }).dispose();
  assert.deepEqual(
    passes,
    Array.from({ length: 12 }, (_, i) => [i + 1, 12]),
    'one pass per pixel',
  );
  const afterBuild = tf.memory().numTensors;
  const x = tf.tensor2d([[0, 1, 1, 0, 1, 0, 0, 0, 1, 1, 0, 1]]);
  const grey = tf.fill([1, 12], 0.5) as tf.Tensor2D;
  for (let i = 0; i < 3; i++) {
    tf.dispose([a.model.logProb(x), a.model.logits(x), a.model.sample(3)]);
    tf.grad((v: tf.Tensor) => tf.sum(a.model.logits(v as tf.Tensor2D)))(x).dispose();
    assert.throws(() => a.model.logProb(grey), /binary values/);
  }
  tf.dispose([x, grey]);
  assert.equal(tf.memory().numTensors, afterBuild);
  a.model.dispose();
  b.model.dispose();
  assert.equal(tf.memory().numTensors, before);
});

/** Offsets [dy, dx] of the taps a causal k x k mask keeps, relative to the centre. */
function taps(k: number, type: nn.MaskType): [number, number][] {
  const c = (k - 1) / 2;
  return nn
    .causalMask(k, k, type)
    .flatMap((row, y) => row.flatMap((m, x) => (m ? [[y - c, x - c] as [number, number]] : [])));
}

test(
  'the receptive field read off by autodiff is the one composed from the masks, with its ' +
    'blind spot',
  async () => {
    await runtime.init({ seed: 6, report: false });
    const config = { imageShape: [9, 9] as [number, number], channels: 3, residualBlocks: 3 };
    const model = new PixelCNN({ ...config, firstKernel: 3, kernel: 3 });
    const pixel: [number, number] = [6, 4];
    const field = models.autoregressive.receptiveField(model, pixel);
    // Walk down from the pixel through the layers: each type-B layer (and its residual path)
    // adds its taps, the type-A layer its own; 1x1 convolutions add nothing.
    let reach = new Set([pixel.join()]);
    const spread = (offsets: [number, number][]) => {
      const next = new Set<string>();
      for (const p of reach) {
        const [r, c] = p.split(',').map(Number);
        for (const [dy, dx] of offsets) next.add(`${r + dy},${c + dx}`);
      }
      reach = next;
    };
    for (let b = 0; b < 3; b++) spread(taps(3, 'B'));
    spread(taps(3, 'A'));
    for (let r = 0; r < 9; r++)
      for (let c = 0; c < 9; c++)
        assert.equal(field[r][c] === 2, reach.has(`${r},${c}`), `pixel ${r},${c}: ${field[r][c]}`);
    const blind = field.flat().filter((v) => v === 1).length;
    assert.ok(blind > 0, 'a stack of masked 3x3 convolutions has a blind spot');
    assert.equal(field[5][8], 1, 'the pixel up and far right is in it');
    assert.throws(
      () => models.autoregressive.receptiveField(model, [9, 0]),
      /pixel must be \[row, column\] inside the 9x9 image, got \[9,0\]/,
    );
    const fig = models.autoregressive.receptiveFieldFigure(model, pixel);
    assert.match(JSON.stringify(fig.layout.title), new RegExp(`${blind} in the blind spot`));
    model.dispose();
  },
);
