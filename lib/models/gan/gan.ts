/**
 * A GAN of two MLPs (lecture 002): the generator G_φ maps z ~ N(0, I) to a sample x̃ = G_φ(z); the
 * discriminator D_θ maps a sample to the logit of the probability that it is real (1) rather than fake (0).
 */
import * as tf from '@tensorflow/tfjs';
import { Activation, MLP } from '../../nn';
import { nextSeed } from '../../runtime';

export interface GanConfig {
  /** Dimension of z. */
  latentDim: number;
  /** Dimension of a data point (784 for MNIST, 2 for the ring). */
  dataDim: number;
  /** Hidden layer sizes of G, e.g. [256, 512, 1024]. */
  generatorHidden: number[];
  /** Hidden layer sizes of D, e.g. [1024, 512, 256]. */
  discriminatorHidden: number[];
  /** Hidden activation of both networks (default 'leakyRelu', slope 0.2). */
  hidden?: Activation;
  /** Activation of G's last layer: 'sigmoid' for images in [0, 1], 'linear' for unbounded data (default 'sigmoid'). */
  output?: Activation;
  /**
   * PacGAN packing (Lin et al. 2018): D judges `pack` samples at once, concatenated into one input, so a
   * generator whose samples lack diversity is easy to spot (default 1, the plain GAN).
   */
  pack?: number;
}

/** The lecture-scale MNIST GAN: G 100-256-512-1024-784, D 784-1024-512-256-1 (as in the PyTorch reference). */
export const MNIST_GAN: GanConfig = { latentDim: 100, dataDim: 784, generatorHidden: [256, 512, 1024], discriminatorHidden: [1024, 512, 256], output: 'sigmoid' };

/** A compact MNIST GAN, G 100-256-512-784, D 784-512-256-1: about 3x cheaper per step than MNIST_GAN. */
export const MNIST_GAN_COMPACT: GanConfig = { latentDim: 100, dataDim: 784, generatorHidden: [256, 512], discriminatorHidden: [512, 256], output: 'sigmoid' };

/** A small GAN for 2D toy data such as the ring of Gaussians. */
export const TOY_GAN: GanConfig = { latentDim: 8, dataDim: 2, generatorHidden: [128, 128], discriminatorHidden: [128, 128], output: 'linear' };

function checkSizes(what: string, sizes: number[]): void {
  if (!Array.isArray(sizes) || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new Error(`GAN config: ${what} must be a list of positive integers, got ${JSON.stringify(sizes)}`);
  }
}

export class GAN {
  readonly generator: MLP;
  readonly discriminator: MLP;
  readonly config: Required<GanConfig>;

  constructor(config: GanConfig) {
    for (const key of ['latentDim', 'dataDim'] as const) {
      if (!Number.isInteger(config[key]) || config[key] < 1) throw new Error(`GAN config: ${key} must be a positive integer, got ${config[key]}`);
    }
    checkSizes('generatorHidden', config.generatorHidden);
    checkSizes('discriminatorHidden', config.discriminatorHidden);
    if (config.pack !== undefined && (!Number.isInteger(config.pack) || config.pack < 1)) throw new Error(`GAN config: pack must be a positive integer, got ${config.pack}`);
    this.config = { hidden: 'leakyRelu', output: 'sigmoid', pack: 1, ...config };
    const { latentDim, dataDim, hidden, pack } = this.config;
    this.generator = new MLP([latentDim, ...config.generatorHidden, dataDim], { hidden, output: this.config.output, name: 'G' });
    this.discriminator = new MLP([dataDim * pack, ...config.discriminatorHidden, 1], { hidden, output: 'linear', name: 'D' });
  }

  get latentDim(): number {
    return this.config.latentDim;
  }

  get dataDim(): number {
    return this.config.dataDim;
  }

  /** n draws of z ~ N(0, I), [n, latentDim]. */
  sampleLatent(n: number): tf.Tensor2D {
    if (!Number.isInteger(n) || n < 1) throw new Error(`sampleLatent(n): n must be a positive integer, got ${n}`);
    return tf.randomNormal([n, this.latentDim], 0, 1, 'float32', nextSeed()) as tf.Tensor2D;
  }

  /** x̃ = G_φ(z), [n, dataDim]. */
  generate(z: tf.Tensor2D): tf.Tensor2D {
    return this.generator.apply(z);
  }

  /** n generated samples G_φ(z), z ~ N(0, I). */
  sample(n: number): tf.Tensor2D {
    return tf.tidy(() => this.generate(this.sampleLatent(n)));
  }

  /** Discriminator logits l with D_θ(x) = sigmoid(l), [n / pack, 1] (one per pack of consecutive rows). */
  logits(x: tf.Tensor2D): tf.Tensor2D {
    const { pack, dataDim } = this.config;
    if (x.rank !== 2 || x.shape[1] !== dataDim || x.shape[0] % pack !== 0) {
      throw new Error(`GAN.logits: expected samples [n, ${dataDim}] with n a multiple of pack = ${pack}, got [${x.shape.join(', ')}]`);
    }
    return pack === 1 ? this.discriminator.apply(x) : tf.tidy(() => this.discriminator.apply(tf.reshape(x, [x.shape[0] / pack, pack * dataDim])));
  }

  /** D_θ(x), the probability that x (a pack of rows, if pack > 1) is real, [n / pack, 1]. */
  discriminate(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.sigmoid(this.logits(x)));
  }

  /** All variables, keyed 'G.i.w', 'D.i.b', ... (the checkpoint format). */
  namedVariables(): Record<string, tf.Variable> {
    return { ...this.generator.namedVariables(), ...this.discriminator.namedVariables() };
  }

  dispose(): void {
    this.generator.dispose();
    this.discriminator.dispose();
  }
}
