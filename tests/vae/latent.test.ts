import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distributions, models, runtime, tf } from 'genlab';

const vae = models.vae;

test('linearPath runs from z_a to z_b in equal steps', () => {
  const za = tf.tensor2d([[0, 2, -1]]);
  const zb = tf.tensor2d([[4, 2, 1]]);
  const path = vae.linearPath(za, zb, 5).arraySync();
  assert.deepEqual(path[0], [0, 2, -1]);
  assert.deepEqual(path[4], [4, 2, 1]);
  assert.deepEqual(path[2], [2, 2, 0]);
  assert.throws(() => vae.linearPath(za, zb, 1), /steps must be an integer >= 2, got 1/);
  assert.throws(
    () => vae.linearPath(za, tf.zeros([1, 2]) as tf.Tensor2D, 3),
    /must both be one row/,
  );
});

test('decodeLatentGrid decodes the plane row by row from the top-left corner', async () => {
  await runtime.init({ seed: 0, report: false });
  const model = new vae.VAE({ inputDim: 6, hidden: [4], latentDim: 2 });
  const grid = vae.decodeLatentGrid(model, 3, 2);
  assert.deepEqual(grid.shape, [9, 6]);
  const corners = model
    .decode(
      tf.tensor2d([
        [-2, 2],
        [2, -2],
      ]),
    )
    .arraySync();
  const rows = grid.arraySync();
  assert.deepEqual(rows[0], corners[0]);
  assert.deepEqual(rows[8], corners[1]);
  const model3 = new vae.VAE({ inputDim: 6, hidden: [4], latentDim: 3 });
  assert.throws(
    () => vae.decodeLatentGrid(model3),
    /needs a 2-D latent space, the model has latentDim 3/,
  );
  assert.throws(() => vae.decodeLatentGrid(model, 3, 0), /extent must be positive, got 0/);
});

test('traverse changes only the chosen latent coordinate', async () => {
  await runtime.init({ seed: 0, report: false });
  const model = new vae.VAE({ inputDim: 6, hidden: [4], latentDim: 3 });
  const x = tf.tensor2d([[0.1, 0.9, 0.3, 0, 1, 0.5]]);
  const mu = model.encode(x).mean.arraySync()[0];
  const images = vae.traverse(model, x, [1], [mu[1], 5]);
  assert.deepEqual(images.shape, [2, 6]);
  assert.deepEqual(images.arraySync()[0], model.reconstruct(x).arraySync()[0]);
  assert.deepEqual(
    images.arraySync()[1],
    model.decode(tf.tensor2d([[mu[0], 5, mu[2]]])).arraySync()[0],
  );
  assert.throws(() => vae.traverse(model, x, [3], [0]), /latent coordinate 3 is not in \[0, 3\)/);
  assert.throws(() => vae.traverse(model, x, [0], []), /values is empty/);
});

test('latentScatterFigure has one trace per digit plus the prior circles, and checks its inputs', () => {
  const codes = [
    [0, 1],
    [1, 0],
    [2, 2],
  ];
  const fig = vae.latentScatterFigure(codes, [0, 9, 9], { priorCircles: true });
  assert.equal(fig.data.length, 12);
  assert.deepEqual((fig.data[9] as { x: number[] }).x, [1, 2]);
  // One legend entry per series: the two circles are one entry that toggles both.
  const shown = fig.data.filter((t) => t.showlegend !== false).map((t) => t.name);
  assert.equal(new Set(shown).size, shown.length, `repeated legend entries in ${shown}`);
  assert.deepEqual(shown.slice(10), ['N(0, I): radius 1 and 2']);
  assert.deepEqual(
    fig.data.slice(10).map((t) => t.legendgroup),
    ['N(0, I): radius 1 and 2', 'N(0, I): radius 1 and 2'],
  );
  assert.throws(() => vae.latentScatterFigure(codes, [0, 1]), /3 codes but 2 labels/);
  assert.throws(() => vae.latentScatterFigure([[0, 1, 2]], [0]), /codes must be 2-D, got 3-D/);
});

test('appendOneHot rejects a label count that differs from the rows', () => {
  const a = tf.zeros([2, 3]) as tf.Tensor2D;
  assert.throws(
    () => vae.appendOneHot(a, tf.zeros([3, 10]) as tf.Tensor2D),
    /2 rows but 3 one-hot labels/,
  );
});

test('KL per dimension sums to the closed-form KL and ranks active coordinates first', async () => {
  await runtime.init({ seed: 0, report: false });
  const model = new vae.VAE({ inputDim: 6, hidden: [4], latentDim: 3 });
  const x = tf.randomUniform([5, 6]) as tf.Tensor2D;
  const perDim = vae.klPerDimension(model, x);
  const total = distributions.kl(model.posterior(x), model.prior).mean().dataSync()[0];
  assert.ok(Math.abs(perDim.reduce((a, b) => a + b, 0) - total) < 1e-5);
  const order = vae.mostActiveDimensions(model, x, 3);
  assert.deepEqual([...order].sort(), [0, 1, 2]);
  assert.ok(perDim[order[0]] >= perDim[order[1]] && perDim[order[1]] >= perDim[order[2]]);
  assert.throws(
    () => vae.mostActiveDimensions(model, x, 4),
    /count must be an integer in \[1, 3\], got 4/,
  );
  const ae = new vae.VAE({ kind: 'autoencoder', inputDim: 6, hidden: [4], latentDim: 3 });
  assert.throws(() => vae.klPerDimension(ae, x), /needs a VAE/);
});
