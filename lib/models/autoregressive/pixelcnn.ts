/**
 * PixelCNN (van den Oord et al. 2016) for binary images. By the chain rule in raster order,
 *   p(x) = prod_i p(x_i | x_<i),
 * and PixelCNN computes all the conditionals in one pass of a convolutional network whose filters
 * are masked (lib/nn MaskedConv2d): a 7x7 type-A convolution (pixel i does not see x_i), residual
 * blocks of 3x3 type-B convolutions (pixel i sees the features at i, which depend on x_<i only),
 * then 1x1 convolutions to one Bernoulli logit per pixel. Each conditional is a Bernoulli, so p(x)
 * is normalized and log p(x) is exact.
 *
 * A stack of masked 3x3 convolutions has a blind spot: pixels right of i in the rows above it never
 * reach pixel i, however deep the stack (the notebook draws it). The gated PixelCNN's two stacks
 * remove it; this small model keeps it, as the original paper's did.
 */
import * as tf from '@tensorflow/tfjs';
import { Bernoulli } from '../../distributions/bernoulli';
import { Independent } from '../../distributions/independent';
import { Conv2d, MaskedConv2d } from '../../nn';
import { checkInteger, checkOptions, OptionKeys } from '../../runtime/checks';
import { random } from '../../runtime/random';
import { checkBinary } from './made';

export interface PixelCnnConfig {
  /** [height, width] of the binary images (one channel; [28, 28] for MNIST). */
  imageShape: [number, number];
  /** Feature maps of every hidden layer (default 64). */
  channels: number;
  /** Residual blocks of type-B convolutions after the type-A layer (default 5). */
  residualBlocks: number;
  /** Side of the first (type-A) filter, odd (default 7). */
  firstKernel: number;
  /** Side of the type-B filters of the residual blocks, odd (default 3). */
  kernel: number;
}

const DEFAULTS: Omit<PixelCnnConfig, 'imageShape'> = {
  channels: 64,
  residualBlocks: 5,
  firstKernel: 7,
  kernel: 3,
};

const KEYS: OptionKeys<PixelCnnConfig> = {
  imageShape: true,
  channels: true,
  residualBlocks: true,
  firstKernel: true,
  kernel: true,
};

export type PixelCnnOptions = Partial<PixelCnnConfig> & Pick<PixelCnnConfig, 'imageShape'>;

/** Fills in defaults and checks every field, naming the bad one. */
export function pixelCnnConfig(options: PixelCnnOptions): PixelCnnConfig {
  const who = 'PixelCNN config';
  checkOptions(who, options, KEYS);
  const shape = options.imageShape;
  if (
    !Array.isArray(shape) ||
    shape.length !== 2 ||
    shape.some((s) => !Number.isInteger(s) || s < 1) ||
    shape[0] * shape[1] < 2
  )
    throw new Error(
      `${who}: imageShape must be [height, width] of positive integers (at least 2 pixels), got ` +
        `${JSON.stringify(shape)}`,
    );
  const config: PixelCnnConfig = { ...DEFAULTS, ...options, imageShape: [shape[0], shape[1]] };
  checkInteger(who, 'channels', config.channels);
  checkInteger(who, 'residualBlocks', config.residualBlocks, 0);
  for (const key of ['firstKernel', 'kernel'] as const)
    if (!Number.isInteger(config[key]) || config[key] < 1 || config[key] % 2 === 0)
      throw new Error(`${who}: ${key} must be an odd positive integer, got ${config[key]}`);
  return config;
}

/** One residual block: h + W_1x1 relu(maskedConv_B(relu(h))). */
interface ResidualBlock {
  masked: MaskedConv2d;
  mix: Conv2d;
}

export class PixelCNN {
  readonly config: PixelCnnConfig;
  /** The type-A layer: image -> channels, ReLU. */
  readonly input: MaskedConv2d;
  readonly blocks: ResidualBlock[];
  /** 1x1 convolutions: channels -> channels (ReLU) -> one logit per pixel. */
  readonly head: [Conv2d, Conv2d];

  /** A new PixelCNN with PyTorch's default initialization of every layer (kit's generator). */
  constructor(options: PixelCnnOptions) {
    const config = pixelCnnConfig(options);
    this.config = config;
    const c = config.channels;
    this.input = new MaskedConv2d(1, c, config.firstKernel, 'A', {
      activation: 'relu',
      name: 'pixelcnn.input',
    });
    this.blocks = Array.from({ length: config.residualBlocks }, (_, k) => ({
      masked: new MaskedConv2d(c, c, config.kernel, 'B', {
        activation: 'relu',
        name: `pixelcnn.block.${k}.masked`,
      }),
      mix: new Conv2d(c, c, 1, { name: `pixelcnn.block.${k}.mix` }),
    }));
    this.head = [
      new Conv2d(c, c, 1, { activation: 'relu', name: 'pixelcnn.head.0' }),
      new Conv2d(c, 1, 1, { name: 'pixelcnn.head.1' }),
    ];
  }

  /** Number of pixels D = height * width. */
  get inputDim(): number {
    return this.config.imageShape[0] * this.config.imageShape[1];
  }

  private layers(): Conv2d[] {
    return [this.input, ...this.blocks.flatMap((b) => [b.masked, b.mix]), ...this.head];
  }

  /** Trainable variables keyed by stable names (the keys of a saved model). */
  namedVariables(): Record<string, tf.Variable> {
    return Object.assign({}, ...this.layers().map((l) => l.namedVariables()));
  }

  variables(): tf.Variable[] {
    return Object.values(this.namedVariables());
  }

  /** Checks x is [n, height * width] (flat images, as the kit's data sets give) and returns n. */
  checkInput(x: tf.Tensor, what = 'x'): number {
    const [h, w] = this.config.imageShape;
    if (!(x instanceof tf.Tensor) || x.rank !== 2 || x.shape[1] !== h * w)
      throw new Error(
        `PixelCNN: ${what} must be a batch of flat ${h}x${w} images [n, ${h * w}], got ` +
          (x instanceof tf.Tensor ? `[${x.shape.join(', ')}]` : typeof x) +
          (x instanceof tf.Tensor && x.rank === 4 ? ': flatten with tf.reshape(x, [n, -1])' : ''),
      );
    return x.shape[0];
  }

  /** Logits [n, rows, width, 1] of images [n, rows, width, 1] (rows may be the first few). */
  private forward(images: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let h = this.input.apply(images);
      for (const block of this.blocks)
        h = tf.add(h, block.mix.apply(block.masked.apply(tf.relu(h))));
      return this.head[1].apply(this.head[0].apply(tf.relu(h)));
    });
  }

  /** logit p(x_i = 1 | x_<i) of every pixel i in raster order, [n, D]. */
  logits(x: tf.Tensor2D): tf.Tensor2D {
    const n = this.checkInput(x);
    const [h, w] = this.config.imageShape;
    return tf.tidy(() => tf.reshape(this.forward(tf.reshape(x, [n, h, w, 1])), [n, h * w]));
  }

  /** Exact log p(x) [n] of binary images x [n, D] (nats). */
  logProb(x: tf.Tensor2D): tf.Tensor1D {
    this.checkInput(x);
    checkBinary(x, 'x', 'PixelCNN');
    return this.trainingLogProb(x);
  }

  /** log p(x) [n] without the check that x is binary (the training objective). */
  trainingLogProb(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      // log p(x) = Σ_i log p(x_i | x_<i) = Σ_i log Bernoulli(x_i; sigmoid(logit_i(x_<i)))
      const conditionals = new Bernoulli({ logits: this.logits(x), validate: false });
      return new Independent(conditionals, 1).logProb(x) as tf.Tensor1D;
    });
  }

  /**
   * n binary images [n, D] by ancestral sampling in raster order: x_1 ~ p(x_1), x_2 ~ p(x_2 | x_1),
   * ...: D network passes, one per pixel (a VAE decoder needs one). The pass for a pixel of row r
   * runs on rows 0..r only (the masks make row r's logits independent of the rows below), which
   * halves the cost on average. Draws come from the kit's seeded generator; `onPass(done, total)`
   * is called after each pass.
   */
  sample(n: number, options: { onPass?: (done: number, total: number) => void } = {}): tf.Tensor2D {
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`PixelCNN.sample(n): n must be a positive integer, got ${n}`);
    checkOptions('PixelCNN.sample', options, { onPass: true });
    const [h, w] = this.config.imageShape;
    const x = new Float32Array(n * h * w);
    for (let i = 0; i < h * w; i++) {
      const [row, col] = [Math.floor(i / w), i % w];
      const probs = tf.tidy(() => {
        const rows = tf.slice(tf.tensor4d(x, [n, h, w, 1]), [0, 0, 0, 0], [n, row + 1, w, 1]);
        return tf.sigmoid(tf.slice(this.forward(rows), [0, row, col, 0], [n, 1, 1, 1]));
      });
      const p = probs.dataSync();
      probs.dispose();
      for (let r = 0; r < n; r++) x[r * h * w + i] = random() < p[r] ? 1 : 0;
      options.onPass?.(i + 1, h * w);
    }
    return tf.tensor2d(x, [n, h * w]);
  }

  dispose(): void {
    this.layers().forEach((l) => l.dispose());
  }
}
