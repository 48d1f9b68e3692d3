/**
 * Grids of grayscale images (digits, filters, samples) encoded as PNG in plain Node, without a
 * browser.
 */
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { OptionKeys } from '../runtime/checks';

export interface ImageGridOptions {
  /** Height and width of one image in pixels (default: square images of √(pixels per image)). */
  imageShape?: [number, number];
  /** Images per row (default: √n rounded up). */
  columns?: number;
  /** Pixels between images (default 2). */
  pad?: number;
  /** Each image pixel becomes scale x scale screen pixels (default 2). */
  scale?: number;
  /**
   * 'clip' maps [0, 1] to black..white (images); 'each' stretches every image to its own min..max
   * (filters, which have arbitrary sign and scale). Default 'clip'.
   */
  normalize?: 'clip' | 'each';
  /** Invert (white background, dark strokes), as digits are often printed. Default false. */
  invert?: boolean;
}

export const IMAGE_GRID_KEYS: OptionKeys<ImageGridOptions> = {
  imageShape: true,
  columns: true,
  pad: true,
  scale: true,
  normalize: true,
  invert: true,
};

/**
 * Images as [n, pixels] or [n, h, w] values: a tensor, a flat array with imageShape, or nested
 * arrays.
 */
export type ImageBatch = tf.Tensor | Float32Array | number[][] | number[][][];

function toRows(
  images: ImageBatch,
  options: ImageGridOptions,
): { values: Float32Array; n: number; h: number; w: number } {
  let values: Float32Array;
  let n: number;
  let perImage: number;
  let shape = options.imageShape;
  if (images instanceof tf.Tensor) {
    if (images.rank < 2)
      throw new Error(
        `imageGrid: a tensor of images needs rank 2 or 3, got shape [${images.shape.join(', ')}]`,
      );
    n = images.shape[0];
    perImage = images.size / n;
    if (images.rank === 3 && !shape) shape = [images.shape[1] as number, images.shape[2] as number];
    values = images.dataSync() as Float32Array;
  } else if (images instanceof Float32Array) {
    if (!shape) throw new Error('imageGrid: a flat Float32Array needs options.imageShape');
    perImage = shape[0] * shape[1];
    n = images.length / perImage;
    if (!Number.isInteger(n))
      throw new Error(
        `imageGrid: ${images.length} values are not a whole number of ` +
          `${shape[0]}x${shape[1]} images`,
      );
    values = images;
  } else {
    n = images.length;
    const first = images[0];
    if (n === 0 || first === undefined) throw new Error('imageGrid: no images');
    const nested = Array.isArray(first[0]);
    if (nested && !shape) shape = [first.length, (first[0] as number[]).length];
    const flat = images.map((img) => (nested ? (img as number[][]).flat() : (img as number[])));
    perImage = flat[0].length;
    if (flat.some((f) => f.length !== perImage))
      throw new Error('imageGrid: images have different sizes');
    values = Float32Array.from(flat.flat());
  }
  if (n === 0) throw new Error('imageGrid: no images');
  if (!shape) {
    const side = Math.round(Math.sqrt(perImage));
    if (side * side !== perImage)
      throw new Error(
        `imageGrid: images of ${perImage} pixels are not square; pass options.imageShape`,
      );
    shape = [side, side];
  }
  if (shape[0] * shape[1] !== perImage)
    throw new Error(
      `imageGrid: imageShape ${shape[0]}x${shape[1]} does not match ${perImage} pixels per image`,
    );
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i]))
      throw new Error(
        `imageGrid: pixel ${i % perImage} of image ${Math.floor(i / perImage)} is NaN`,
      );
  }
  return { values, n, h: shape[0], w: shape[1] };
}

/** Encodes a grid of grayscale images as PNG bytes. */
export function imageGridPng(images: ImageBatch, options: ImageGridOptions = {}): Buffer {
  const { values, n, h, w } = toRows(images, options);
  const columns = options.columns ?? Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / columns);
  const pad = options.pad ?? 2;
  const scale = options.scale ?? 2;
  if (!Number.isInteger(scale) || scale < 1)
    throw new Error(`imageGrid: scale must be a positive integer, got ${scale}`);
  const width = (columns * (w + pad) + pad) * scale;
  const height = (rows * (h + pad) + pad) * scale;
  const png = new PNG({
    width,
    height,
    colorType: 0,
    inputColorType: 0,
    bitDepth: 8,
    inputHasAlpha: false,
  });
  const background = options.invert ? 255 : 128;
  png.data = Buffer.alloc(width * height, background);
  for (let k = 0; k < n; k++) {
    const base = k * h * w;
    let lo = 0;
    let hi = 1;
    if (options.normalize === 'each') {
      lo = Infinity;
      hi = -Infinity;
      for (let i = 0; i < h * w; i++) {
        lo = Math.min(lo, values[base + i]);
        hi = Math.max(hi, values[base + i]);
      }
      if (hi === lo) hi = lo + 1;
    }
    const top = (pad + Math.floor(k / columns) * (h + pad)) * scale;
    const left = (pad + (k % columns) * (w + pad)) * scale;
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        const v = Math.min(1, Math.max(0, (values[base + r * w + c] - lo) / (hi - lo)));
        const g = Math.round(255 * (options.invert ? 1 - v : v));
        for (let dy = 0; dy < scale; dy++) {
          png.data.fill(
            g,
            (top + r * scale + dy) * width + left + c * scale,
            (top + r * scale + dy) * width + left + (c + 1) * scale,
          );
        }
      }
    }
  }
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}
