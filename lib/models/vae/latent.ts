/**
 * Looking at the latent space (lectures 002, 004): encoding a data set, decoding a grid over a 2-D
 * latent plane, traversing one latent coordinate, interpolating between two images.
 */
import * as tf from '@tensorflow/tfjs';
import { ImageDataset } from '../../data/mnist';
import {
  AxesOptions,
  Figure,
  lineTrace,
  linspace,
  PALETTE,
  Points,
  scatter,
} from '../../plot/figure';
import { Labels, VAE } from './vae';

/** Encoder means mu(x) of a data set as rows [n][latentDim] (batched, no noise). */
export function encodeMeans(model: VAE, dataset: ImageDataset, batchSize = 1000): number[][] {
  const rows: number[][] = [];
  for (const batch of dataset.batches(batchSize, { shuffle: false })) {
    const { mean, logVar } = model.encode(batch.x, model.config.classes > 0 ? batch.y : undefined);
    rows.push(...(mean.arraySync() as number[][]));
    tf.dispose([mean, logVar!].filter(Boolean));
  }
  return rows;
}

function checkSteps(what: string, steps: number): void {
  if (!Number.isInteger(steps) || steps < 2)
    throw new Error(`${what}: steps must be an integer >= 2, got ${steps}`);
}

/**
 * Decoded mean images over a steps x steps grid of a 2-D latent plane, z_1 and z_2 in [-extent,
 * extent], row by row from the top (z_2 = +extent) so the grid reads like the scatter plot of the
 * codes.
 */
export function decodeLatentGrid(
  model: VAE,
  steps = 15,
  extent = 2.5,
  labels?: Labels,
): tf.Tensor2D {
  if (model.config.latentDim !== 2)
    throw new Error(
      `decodeLatentGrid needs a 2-D latent space, the model has latentDim ` +
        `${model.config.latentDim}`,
    );
  checkSteps('decodeLatentGrid', steps);
  if (!(extent > 0)) throw new Error(`decodeLatentGrid: extent must be positive, got ${extent}`);
  const z: number[][] = [];
  for (let r = 0; r < steps; r++) {
    for (let c = 0; c < steps; c++)
      z.push([-extent + (2 * extent * c) / (steps - 1), extent - (2 * extent * r) / (steps - 1)]);
  }
  return tf.tidy(() => model.decode(tf.tensor2d(z), labels));
}

/**
 * Decodes z(t) = (1 - t) z_a + t z_b for t in [0, 1], between the encoder means of two images x_a,
 * x_b [1, inputDim].
 */
export function interpolate(model: VAE, xa: tf.Tensor2D, xb: tf.Tensor2D, steps = 10): tf.Tensor2D {
  checkSteps('interpolate', steps);
  if (model.config.classes > 0)
    throw new Error(
      'interpolate: use an unconditional model (a conditional one also needs a label per step)',
    );
  return tf.tidy(() => {
    const za = model.encode(xa).mean;
    const zb = model.encode(xb).mean;
    if (za.shape[0] !== 1 || zb.shape[0] !== 1)
      throw new Error(
        `interpolate: xa and xb must each be one image [1, ${model.config.inputDim}]`,
      );
    return model.decode(linearPath(za, zb, steps));
  });
}

/**
 * Points z(t) = (1 - t) z_a + t z_b for `steps` values of t evenly spaced in [0, 1]; z_a, z_b [1,
 * d], result [steps, d].
 */
export function linearPath(za: tf.Tensor2D, zb: tf.Tensor2D, steps: number): tf.Tensor2D {
  checkSteps('linearPath', steps);
  if (za.shape.join() !== zb.shape.join() || za.shape[0] !== 1)
    throw new Error(
      `linearPath: za [${za.shape}] and zb [${zb.shape}] must both be one row [1, d]`,
    );
  return tf.tidy(() => {
    const t = tf.linspace(0, 1, steps).reshape([steps, 1]);
    return tf.add(tf.mul(tf.sub(1, t), za), tf.mul(t, zb)) as tf.Tensor2D;
  });
}

/**
 * Latent traversals: starting from the encoder mean of one image x [1, inputDim], sets coordinate d
 * to each of `values` in turn, for each d in `dims`. Images [dims.length * values.length,
 * inputDim], one row per d.
 */
export function traverse(
  model: VAE,
  x: tf.Tensor2D,
  dims: number[],
  values: number[],
): tf.Tensor2D {
  const d = model.config.latentDim;
  dims.forEach((k) => {
    if (!Number.isInteger(k) || k < 0 || k >= d)
      throw new Error(`traverse: latent coordinate ${k} is not in [0, ${d})`);
  });
  if (values.length === 0) throw new Error('traverse: values is empty');
  if (model.config.classes > 0) throw new Error('traverse: use an unconditional model');
  return tf.tidy(() => {
    const base = model.encode(x).mean;
    if (base.shape[0] !== 1)
      throw new Error(`traverse: x must be one image [1, ${model.config.inputDim}]`);
    const start = base.arraySync()[0];
    const z = dims.flatMap((k) => values.map((v) => start.map((s, j) => (j === k ? v : s))));
    return model.decode(tf.tensor2d(z));
  });
}

/** Ten distinguishable colors for digits 0-9 (Okabe-Ito, then grey and wine). */
export const DIGIT_COLORS = [...PALETTE.slice(0, 7), '#000000', '#999999', '#882255'];

/**
 * Scatter of 2-D codes colored by digit, optionally with the circles of radius 1 and 2 of the prior
 * N(0, I) (where ~39% and ~86% of its mass lie) to show whether the codes sit where sampling looks.
 */
export function latentScatterFigure(
  codes: number[][],
  labels: ArrayLike<number>,
  options: AxesOptions & { priorCircles?: boolean } = {},
): Figure {
  if (codes.length !== labels.length)
    throw new Error(`latentScatterFigure: ${codes.length} codes but ${labels.length} labels`);
  if (codes.length > 0 && codes[0].length !== 2)
    throw new Error(
      `latentScatterFigure: codes must be 2-D, got ${codes[0].length}-D (use a model with ` +
        `latentDim 2)`,
    );
  const sets: Points[] = DIGIT_COLORS.map((color, digit) => {
    const rows = codes.filter((_, i) => labels[i] === digit);
    return {
      name: String(digit),
      x: rows.map((r) => r[0]),
      y: rows.map((r) => r[1]),
      color,
      size: 4,
      opacity: 0.6,
    };
  });
  const { priorCircles, ...axes } = options;
  const fig = scatter(sets, {
    xTitle: 'z_1',
    yTitle: 'z_2',
    equalAxes: true,
    showLegend: true,
    ...axes,
  });
  if (priorCircles) {
    const t = linspace(0, 2 * Math.PI, 100);
    // One series, one legend entry: the two circles share it.
    const name = 'N(0, I): radius 1 and 2';
    for (const r of [1, 2]) {
      fig.data.push({
        ...lineTrace({
          name,
          x: t.map((a) => r * Math.cos(a)),
          y: t.map((a) => r * Math.sin(a)),
          color: '#000000',
        }),
        legendgroup: name,
        showlegend: r === 1,
      });
    }
  }
  return fig;
}

/**
 * Average KL(q(z_j | x) || N(0, 1)) of each latent coordinate j over a batch x, in nats.
 * Coordinates with a KL near 0 are inactive: the encoder ignores them and the decoder learned to
 * ignore them too.
 */
export function klPerDimension(model: VAE, x: tf.Tensor2D, labels?: Labels): number[] {
  if (!model.isVariational)
    throw new Error('klPerDimension needs a VAE (an autoencoder has no q(z | x))');
  return tf.tidy(() => {
    const { mean, logVar } = model.encode(x, labels);
    // KL_j = 1/2 (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2), averaged over the batch
    return tf
      .mean(tf.mul(tf.sub(tf.add(tf.square(mean), tf.exp(logVar!)), tf.add(logVar!, 1)), 0.5), 0)
      .arraySync() as number[];
  });
}

/** The `count` latent coordinates with the largest average KL on x, most active first. */
export function mostActiveDimensions(
  model: VAE,
  x: tf.Tensor2D,
  count: number,
  labels?: Labels,
): number[] {
  const kl = klPerDimension(model, x, labels);
  if (!Number.isInteger(count) || count < 1 || count > kl.length)
    throw new Error(
      `mostActiveDimensions: count must be an integer in [1, ${kl.length}], got ${count}`,
    );
  return kl
    .map((v, j) => [v, j])
    .sort((a, b) => b[0] - a[0])
    .slice(0, count)
    .map(([, j]) => j);
}
