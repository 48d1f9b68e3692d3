/**
 * A GAN (lecture 002): the generator G_φ maps z ~ N(0, I) to a sample x̃ = G_φ(z); the
 * discriminator D_θ maps a sample to the logit of the probability that it is real (1) rather than
 * fake (0). The two networks are MLPs (`MlpGanConfig`) or, for images, the DCGAN's convolutional
 * networks (`DcganConfig`, ./dcgan); objective, trainer, sampling and saving are the same for both.
 */
import * as tf from '@tensorflow/tfjs';
import { Activation, ApplyOptions, MLP } from '../../nn';
import { nextSeed } from '../../runtime';
import {
  checkArray,
  checkInteger,
  checkInterval,
  checkOptions,
  checkRecord,
  isPositiveInteger,
  OptionKeys,
} from '../../runtime/checks';
import { checkDcganConfig, DcganConfig, DcganDiscriminator, DcganGenerator } from './dcgan';

/** What the GAN needs of a network: rows in, rows out (G: z to samples, D: samples to logits). */
export interface GanNetwork {
  /** `training` turns on what only training uses: dropout, batch statistics in batch norm. */
  apply(x: tf.Tensor2D, options?: ApplyOptions): tf.Tensor2D;
  /** Every variable keyed by name (what a checkpoint saves). */
  namedVariables(): Record<string, tf.Variable>;
  /** The trainable variables in order (what the optimizers update). */
  variables(): tf.Variable[];
  dispose(): void;
}

/** What the configs of both architectures have. */
export interface GanConfigBase {
  /** Dimension of z. */
  latentDim: number;
  /**
   * Activation of G's last layer: 'linear' for unbounded data (default), 'tanh' when dataRange is
   * set (always 'tanh' in a DCGAN).
   */
  output?: Activation;
  /**
   * PacGAN packing (Lin et al. 2018): D judges `pack` samples at once, concatenated into one input,
   * so a generator whose samples lack diversity is easy to spot (default 1, the plain GAN).
   */
  pack?: number;
  /** Dropout rate after each hidden layer of D during training (default 0). */
  discriminatorDropout?: number;
  /**
   * The range [lo, hi] of bounded data such as pixels (default: none). With it, G ends in tanh
   * scaled to [lo, hi] and D sees its inputs mapped affinely onto [-1, 1] (the DCGAN convention:
   * both networks work on data centered at 0), while every method still takes and returns data in
   * [lo, hi].
   */
  dataRange?: [number, number];
}

/** A GAN of two MLPs. */
export interface MlpGanConfig extends GanConfigBase {
  /** 'mlp' (the default when left out). */
  architecture?: 'mlp';
  /** Dimension of a data point (784 for MNIST, 2 for the ring). */
  dataDim: number;
  /** Hidden layer sizes of G, e.g. [256, 512, 1024]. */
  generatorHidden: number[];
  /** Hidden layer sizes of D, e.g. [1024, 512, 256]. */
  discriminatorHidden: number[];
  /** Hidden activation of both networks (default 'leakyRelu', slope 0.2). */
  hidden?: Activation;
}

/** An MLP GAN or a DCGAN. */
export type GanConfig = MlpGanConfig | DcganConfig;

/**
 * The lecture-scale MNIST GAN: G 100-256-512-1024-784 ending in tanh, D 784-1024-512-256-1, pixels
 * in [0, 1] seen by both networks as [-1, 1] (the networks of the PyTorch reference,
 * scripts/bench_torch.py), plus dropout 0.3 in D, without which this GAN collapses onto a
 * few digit classes (notebook 10).
 */
export const MNIST_GAN: MlpGanConfig = {
  latentDim: 100,
  dataDim: 784,
  generatorHidden: [256, 512, 1024],
  discriminatorHidden: [1024, 512, 256],
  output: 'tanh',
  dataRange: [0, 1],
  discriminatorDropout: 0.3,
};

/**
 * A compact MNIST GAN, G 100-256-512-784, D 784-512-256-1: about 3x cheaper per step than
 * MNIST_GAN.
 */
export const MNIST_GAN_COMPACT: MlpGanConfig = {
  ...MNIST_GAN,
  generatorHidden: [256, 512],
  discriminatorHidden: [512, 256],
};

/** A small GAN for 2D toy data such as the ring of Gaussians. */
export const TOY_GAN: MlpGanConfig = {
  latentDim: 8,
  dataDim: 2,
  generatorHidden: [128, 128],
  discriminatorHidden: [128, 128],
  output: 'linear',
};

/** Who the config errors name. */
const WHO = 'GAN config';

const COMMON_KEYS: OptionKeys<GanConfigBase> = {
  latentDim: true,
  output: true,
  pack: true,
  discriminatorDropout: true,
  dataRange: true,
};
const MLP_KEYS: OptionKeys<MlpGanConfig> = {
  ...COMMON_KEYS,
  architecture: true,
  dataDim: true,
  generatorHidden: true,
  discriminatorHidden: true,
  hidden: true,
};
const DCGAN_KEYS: OptionKeys<DcganConfig> = {
  ...COMMON_KEYS,
  architecture: true,
  imageShape: true,
  generatorChannels: true,
  discriminatorChannels: true,
};

/** Dimension of a data row under a config: dataDim, or a DCGAN's height * width * channels. */
export function ganDataDim(config: GanConfig): number {
  if (config.architecture === 'dcgan') return config.imageShape.reduce((p, d) => p * d, 1);
  return config.dataDim;
}

/** Checks the fields both architectures have, naming the bad one. */
function checkCommon(config: GanConfigBase): void {
  checkInteger(WHO, 'latentDim', config.latentDim);
  if (config.pack !== undefined) checkInteger(WHO, 'pack', config.pack);
  const rate = config.discriminatorDropout;
  if (rate !== undefined) checkInterval(WHO, 'discriminatorDropout', rate, 0, 1, '[)');
  const range = config.dataRange;
  if (range === undefined) return;
  if (
    !Array.isArray(range) ||
    range.length !== 2 ||
    !range.every(Number.isFinite) ||
    !(range[0] < range[1])
  ) {
    throw new Error(
      `GAN config: dataRange must be [lo, hi] with finite lo < hi, got ${JSON.stringify(range)}`,
    );
  }
  if ((config.output ?? 'tanh') !== 'tanh')
    throw new Error(
      `GAN config: a GAN with a dataRange ends in tanh, so output must be 'tanh' (or left ` +
        `out), got '${config.output}'`,
    );
}

/** The MLP GAN's config with its defaults, checked. */
function mlpConfig(
  config: MlpGanConfig,
): Required<Omit<MlpGanConfig, 'dataRange' | 'architecture'>> & MlpGanConfig {
  checkCommon(config);
  checkInteger(WHO, 'dataDim', config.dataDim);
  for (const name of ['generatorHidden', 'discriminatorHidden'] as const)
    checkArray(WHO, name, config[name], isPositiveInteger, 'a positive integer');
  return {
    hidden: 'leakyRelu',
    output: config.dataRange ? 'tanh' : 'linear',
    pack: 1,
    discriminatorDropout: 0,
    ...config,
  };
}

export class GAN {
  readonly generator: GanNetwork;
  readonly discriminator: GanNetwork;
  /** The config, an MLP GAN's with its defaults filled in. */
  readonly config: GanConfig;
  /** Dimension of z. */
  readonly latentDim: number;
  /** Dimension of a data row (a DCGAN's images flattened). */
  readonly dataDim: number;
  /** Samples D judges at once (PacGAN). */
  readonly pack: number;

  constructor(config: GanConfig) {
    checkRecord('GAN', 'config', config);
    if (config.architecture === 'dcgan') {
      checkOptions(WHO, config, DCGAN_KEYS);
      checkCommon(config);
      if ((config.output ?? 'tanh') !== 'tanh')
        throw new Error(
          `GAN config: a DCGAN's G ends in tanh, so output must be 'tanh' (or left out), got ` +
            `'${config.output}'`,
        );
      checkDcganConfig(config);
      this.config = config;
      this.pack = config.pack ?? 1;
      this.generator = new DcganGenerator(config);
      this.discriminator = new DcganDiscriminator(config);
    } else if (config.architecture === undefined || config.architecture === 'mlp') {
      checkOptions(WHO, config, MLP_KEYS);
      const c = mlpConfig(config);
      this.config = c;
      this.pack = c.pack;
      this.generator = new MLP([c.latentDim, ...c.generatorHidden, c.dataDim], {
        hidden: c.hidden,
        output: c.output,
        name: 'G',
      });
      this.discriminator = new MLP([c.dataDim * c.pack, ...c.discriminatorHidden, 1], {
        hidden: c.hidden,
        output: 'linear',
        dropout: c.discriminatorDropout,
        name: 'D',
      });
    } else {
      throw new Error(
        `GAN config: architecture must be 'mlp' or 'dcgan', got ` +
          `'${(config as { architecture: unknown }).architecture}'`,
      );
    }
    this.latentDim = config.latentDim;
    this.dataDim = ganDataDim(config);
  }

  /** n draws of z ~ N(0, I), [n, latentDim]. */
  sampleLatent(n: number): tf.Tensor2D {
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`sampleLatent(n): n must be a positive integer, got ${n}`);
    return tf.randomNormal([n, this.latentDim], 0, 1, 'float32', nextSeed()) as tf.Tensor2D;
  }

  /**
   * x̃ = G_φ(z), [n, dataDim], in the data's range. `training` as in the training steps (batch
   * statistics in a DCGAN's batch norm); without it, evaluation mode (running statistics).
   */
  generate(z: tf.Tensor2D, options: ApplyOptions = {}): tf.Tensor2D {
    const range = this.config.dataRange;
    if (range === undefined) return this.generator.apply(z, options);
    const [lo, hi] = range;
    // x̃ = lo + (hi - lo) (tanh(a) + 1) / 2
    return tf.tidy(() =>
      tf.add(tf.mul(tf.add(this.generator.apply(z, options), 1), (hi - lo) / 2), lo),
    );
  }

  /** n generated samples G_φ(z), z ~ N(0, I). */
  sample(n: number): tf.Tensor2D {
    return tf.tidy(() => this.generate(this.sampleLatent(n)));
  }

  /**
   * Discriminator logits l with D_θ(x) = sigmoid(l), [n / pack, 1] (one per pack of consecutive
   * rows). `training` turns on D's dropout, as in the training steps.
   */
  logits(x: tf.Tensor2D, options: ApplyOptions = {}): tf.Tensor2D {
    const { pack, dataDim } = this;
    const { dataRange } = this.config;
    if (x.rank !== 2 || x.shape[1] !== dataDim || x.shape[0] % pack !== 0) {
      throw new Error(
        `GAN.logits: expected samples [n, ${dataDim}] with n a multiple of pack = ${pack}, got ` +
          `[${x.shape.join(', ')}]`,
      );
    }
    return tf.tidy(() => {
      // D sees bounded data mapped onto [-1, 1]: 2 (x - lo) / (hi - lo) - 1
      const centered: tf.Tensor2D = dataRange
        ? tf.sub(tf.mul(tf.sub(x, dataRange[0]), 2 / (dataRange[1] - dataRange[0])), 1)
        : x;
      return this.discriminator.apply(
        pack === 1 ? centered : tf.reshape(centered, [x.shape[0] / pack, pack * dataDim]),
        options,
      );
    });
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
