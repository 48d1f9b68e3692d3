/**
 * PixelCNN's receptive field, read off the network by automatic differentiation: which input
 * pixels the logit of one pixel depends on. A stack of masked 3x3 convolutions grows a field that
 * covers the rows above and the pixels to the left, except a "blind spot": the pixels above and to
 * the right that no path of masked filters reaches (van den Oord et al. 2016, gated PixelCNN).
 */
import * as tf from '@tensorflow/tfjs';
import { Figure, heatmap } from '../../plot/figure';
import { PixelCNN } from './pixelcnn';

/** What input pixel j is to the logit of pixel i. */
export const FIELD_CATEGORIES = ['after i (never seen)', 'before i, unseen: blind spot', 'seen'];

/**
 * For the logit of pixel [row, col]: a [height][width] grid of 2 (the logit depends on that input
 * pixel), 1 (before the pixel in raster order but out of reach: the blind spot) or 0 (the pixel
 * itself and those after it). Dependence is |∂ logit / ∂ x_j| > 0 on `inputs` random images
 * (default 8). Throws if the logit depends on a pixel at or after its own (a broken mask).
 */
export function receptiveField(model: PixelCNN, pixel: [number, number], inputs = 8): number[][] {
  const [h, w] = model.config.imageShape;
  const [row, col] = pixel;
  if (
    !Number.isInteger(row) ||
    !Number.isInteger(col) ||
    row < 0 ||
    row >= h ||
    col < 0 ||
    col >= w
  )
    throw new Error(
      `receptiveField: pixel must be [row, column] inside the ${h}x${w} image, got ` +
        `${JSON.stringify(pixel)}`,
    );
  if (!Number.isInteger(inputs) || inputs < 1)
    throw new Error(`receptiveField: inputs must be a positive integer, got ${inputs}`);
  const i = row * w + col;
  const size = tf.tidy(() => {
    const x = tf.randomNormal([inputs, h * w]) as tf.Tensor2D;
    const grad = tf.grad((v: tf.Tensor) =>
      tf.sum(tf.slice(model.logits(v as tf.Tensor2D), [0, i], [-1, 1])),
    )(x);
    return tf.sum(tf.abs(grad), 0).dataSync();
  });
  return Array.from({ length: h }, (_, r) =>
    Array.from({ length: w }, (_, c) => {
      const j = r * w + c;
      if (j >= i && size[j] > 0)
        throw new Error(`receptiveField: the logit of pixel ${i} depends on pixel ${j}`);
      return j >= i ? 0 : size[j] > 0 ? 2 : 1;
    }),
  );
}

/** The receptive field of pixel [row, col] as a picture (`receptiveField`'s grid). */
export function receptiveFieldFigure(model: PixelCNN, pixel: [number, number]): Figure {
  const field = receptiveField(model, pixel);
  const [h, w] = model.config.imageShape;
  const count = (k: number) => field.flat().filter((v) => v === k).length;
  const { residualBlocks, firstKernel, kernel } = model.config;
  const fig = heatmap(field, {
    x: Array.from({ length: w }, (_, c) => c),
    y: Array.from({ length: h }, (_, r) => r),
    title:
      `Pixels the logit of pixel (${pixel}) sees: ${firstKernel}x${firstKernel} type A + ` +
      `${residualBlocks} x ${kernel}x${kernel} type B; ${count(2)} seen, ${count(1)} in the ` +
      'blind spot',
    xTitle: 'column',
    yTitle: 'row',
    equalAxes: true,
    width: 560,
    height: 520,
  });
  Object.assign(fig.data[0], {
    zmin: 0,
    zmax: 2,
    colorscale: [
      [0, '#f2f2f2'],
      [0.33, '#f2f2f2'],
      [0.33, '#d62728'],
      [0.67, '#d62728'],
      [0.67, '#1f4e9c'],
      [1, '#1f4e9c'],
    ],
    colorbar: { tickvals: [1 / 3, 1, 5 / 3], ticktext: FIELD_CATEGORIES },
    hovertemplate: 'row %{y}, column %{x}: %{text}<extra></extra>',
    text: field.map((r) => r.map((v) => FIELD_CATEGORIES[v])),
  });
  // rows grow downwards, as in an image
  (fig.layout.yaxis as Record<string, unknown>).autorange = 'reversed';
  return fig;
}
