/**
 * The variational autoencoder of lectures 001, 003 and 004, and its two relatives used for
 * comparison: the plain autoencoder (lectures 000, 002: same networks, no noise, no KL) and the
 * conditional VAE (lecture 001: encoder and decoder both see the digit's label).
 *
 *   encoder  q_phi(z | x) = N(z; mu(x), diag(sigma^2(x))),
 *            with a log-variance head: sigma = exp(logvar / 2)
 *   decoder  p_theta(x | z) = prod_j Bernoulli(x_j; sigmoid(logit_j(z)))
 *            or N(x; sigmoid(out(z)), s^2 I)
 *   prior    p(z) = N(0, I)
 *
 * The networks (./networks) are MLPs (`nn.MLP` / `nn.Dense`) or, with architecture 'conv',
 * convolutions (`nn.Conv2d` / `nn.ConvTranspose2d`); the kit's fast kernels serve both.
 */
import * as tf from '@tensorflow/tfjs';
import { Bernoulli, Independent, kl, Normal } from '../../distributions';
import {
  checkArray,
  checkInteger,
  checkNonNegative,
  checkOneOf,
  checkOptions,
  checkPixels,
  checkPositive,
  isPositiveInteger,
  OptionKeys,
} from '../../runtime/checks';
import { nextSeed } from '../../runtime/random';
import { checkConvVaeConfig, VaeNetworks, vaeNetworks } from './networks';

/**
 * The decoder's distribution p(x | z): Bernoulli (binary cross-entropy) or Gaussian with fixed std
 * (squared error).
 */
export type Likelihood = 'bernoulli' | 'gaussian';

/**
 * 'vae' samples z ~ q(z|x) and pays a KL term; 'autoencoder' uses z = mu(x) and reconstruction
 * only.
 */
export type LatentModelKind = 'vae' | 'autoencoder';

export interface VaeConfig {
  kind: LatentModelKind;
  /** Pixels per image (784 for MNIST). */
  inputDim: number;
  /** Hidden layer sizes of the encoder; the decoder mirrors them (lecture model: [400]). */
  hidden: number[];
  /** Dimension of z (lecture model: 20). */
  latentDim: number;
  likelihood: Likelihood;
  /**
   * Standard deviation s of the Gaussian decoder N(x; mean(z), s^2 I); its loss is ||x - mean||^2 /
   * (2 s^2) + const.
   */
  gaussianStd: number;
  /**
   * Weight beta on the KL term: loss = L_rec + beta * L_KL (beta = 1 is the ELBO; lecture 002's
   * alpha * L_rec + L_KL is beta = 1 / alpha).
   */
  klWeight: number;
  /** Number of label classes the encoder and decoder are conditioned on (0: unconditional). */
  classes: number;
  /**
   * The networks: 'mlp' (default, sizes from `hidden`) or 'conv' (from `imageShape` and
   * `channels`, see ConvVaeNetworks).
   */
  architecture?: 'mlp' | 'conv';
  /** Conv only: [height, width, channels] of an image (a row of the data is one image, NHWC). */
  imageShape?: [number, number, number];
  /** Conv only: channels of the encoder's stride-2 4x4 convolutions (the decoder mirrors them). */
  channels?: number[];
}

/** The lecture-standard model: 784-400-20, ReLU, Bernoulli decoder on [0, 1] pixels, beta = 1. */
export const LECTURE_CONFIG: VaeConfig = {
  kind: 'vae',
  inputDim: 784,
  hidden: [400],
  latentDim: 20,
  likelihood: 'bernoulli',
  gaussianStd: 0.1,
  klWeight: 1,
  classes: 0,
};

/**
 * The convolutional VAE: encoder Conv 1->32 4x4 s2, ReLU, Conv 32->64 4x4 s2, ReLU, dense
 * 3136 -> 20 + 20; decoder dense 20 -> 3136, ReLU, ConvT 64->32 4x4 s2, ReLU, ConvT 32->1 4x4 s2
 * plus a bias per pixel; Bernoulli, beta = 1 (`hidden` is not used).
 */
export const CONV_VAE_CONFIG: VaeConfig = {
  ...LECTURE_CONFIG,
  architecture: 'conv',
  imageShape: [28, 28, 1],
  channels: [32, 64],
};

const CONFIG_KEYS: OptionKeys<VaeConfig> = {
  kind: true,
  inputDim: true,
  hidden: true,
  latentDim: true,
  likelihood: true,
  gaussianStd: true,
  klWeight: true,
  classes: true,
  architecture: true,
  imageShape: true,
  channels: true,
};

/** Fills in defaults from LECTURE_CONFIG and checks every field, naming the bad one. */
export function vaeConfig(options: Partial<VaeConfig> = {}): VaeConfig {
  const who = 'VAE config';
  checkOptions(who, options, CONFIG_KEYS);
  const hidden = options.hidden ?? LECTURE_CONFIG.hidden;
  checkArray(who, 'hidden', hidden, isPositiveInteger, 'a positive integer');
  if (hidden.length === 0) throw new Error(`${who}: hidden must list at least one layer size`);
  const config: VaeConfig = { ...LECTURE_CONFIG, ...options, hidden: [...hidden] };
  checkOneOf(who, 'kind', config.kind, ['vae', 'autoencoder']);
  checkInteger(who, 'inputDim', config.inputDim);
  checkInteger(who, 'latentDim', config.latentDim);
  checkOneOf(who, 'likelihood', config.likelihood, ['bernoulli', 'gaussian']);
  checkPositive(who, 'gaussianStd', config.gaussianStd);
  checkNonNegative(who, 'klWeight', config.klWeight);
  checkInteger(who, 'classes (0 = unconditional)', config.classes, 0);
  if (config.architecture === 'conv') {
    checkConvVaeConfig(config);
    config.imageShape = [...config.imageShape!];
    config.channels = [...config.channels!];
  } else if (config.architecture !== undefined && config.architecture !== 'mlp') {
    throw new Error(
      `VAE config: architecture must be 'mlp' or 'conv', got '${String(config.architecture)}'`,
    );
  }
  return config;
}

/** Labels for a conditional model: an int32 tensor [n] or plain numbers. */
export type Labels = tf.Tensor1D | ArrayLike<number>;

/** Per-image terms of the negative ELBO, each [n]: loss = reconstruction + klWeight * kl. */
export interface ElboTerms {
  /** -log p(x | z) at one z ~ q(z | x) (nats). */
  reconstruction: tf.Tensor1D;
  /** KL(q(z | x) || p(z)) in closed form (nats; zero for an autoencoder). */
  kl: tf.Tensor1D;
}

/**
 * Data-dependent initialization of a VAE (everything else starts at PyTorch's default,
 * U(-1/sqrt(in), 1/sqrt(in))).
 */
export interface VaeInit {
  /**
   * Start value of the decoder's output bias [inputDim], e.g. `outputBiasFromData(train)`:
   * the network then starts near the independent-pixel model instead of decoding every z to grey.
   */
  outputBias?: tf.Tensor1D;
}

/** A VAE, conditional VAE or plain autoencoder (see `VaeConfig`). */
export class VAE {
  readonly config: VaeConfig;
  /** The encoder (with its mean and log-variance heads) and the decoder. */
  readonly networks: VaeNetworks;
  /** N(0, I) over the latent coordinates (the prior). */
  private readonly standardNormal: Independent;

  constructor(options: Partial<VaeConfig> = {}, init: VaeInit = {}) {
    this.config = vaeConfig(options);
    checkOptions('VAE', init, { outputBias: true });
    const { inputDim } = this.config;
    const outputBias = init.outputBias;
    if (outputBias && (outputBias.rank !== 1 || outputBias.shape[0] !== inputDim)) {
      throw new Error(
        `VAE: outputBias must be a vector of ${inputDim} logits (one per pixel), got shape ` +
          `[${outputBias.shape.join(', ')}]`,
      );
    }
    if (outputBias && !tf.tidy(() => tf.all(tf.isFinite(outputBias)).dataSync()[0]))
      throw new Error('VAE: outputBias holds NaN or infinite values');
    this.networks = vaeNetworks(this.config);
    if (outputBias) this.networks.outputBias.assign(outputBias);
    this.standardNormal = new Independent(Normal.standard([this.config.latentDim]), 1);
  }

  get isVariational(): boolean {
    return this.config.kind === 'vae';
  }

  /** Trainable variables keyed by stable names (the keys of a saved model). */
  namedVariables(): Record<string, tf.Variable> {
    return this.networks.namedVariables();
  }

  variables(): tf.Variable[] {
    return Object.values(this.namedVariables());
  }

  /**
   * Checks x is [n, inputDim] of pixel intensities in [0, 1] (read back unless x is a batch of a
   * checked data set) and returns n.
   */
  checkInput(x: tf.Tensor, what = 'x'): number {
    if (x.rank !== 2 || x.shape[1] !== this.config.inputDim) {
      throw new Error(
        `${what} must be a batch of images [n, ${this.config.inputDim}], got ` +
          `[${x.shape.join(', ')}]`,
      );
    }
    checkPixels('VAE', what, x);
    return x.shape[0];
  }

  /** One-hot labels [n, classes] for a conditional model, or undefined for an unconditional one. */
  oneHot(labels: Labels | undefined, n: number): tf.Tensor2D | undefined {
    const classes = this.config.classes;
    if (classes === 0) {
      if (labels !== undefined)
        throw new Error(
          'labels were given to an unconditional model: build it with { classes: 10 } to ' +
            'condition on labels',
        );
      return undefined;
    }
    if (labels === undefined)
      throw new Error(
        `this model is conditioned on ${classes} classes: pass the labels (integers in [0, ` +
          `${classes}))`,
      );
    const values = labels instanceof tf.Tensor ? labels.dataSync() : labels;
    if (values.length !== n)
      throw new Error(`labels: expected ${n} labels (one per row), got ${values.length}`);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isInteger(v) || v < 0 || v >= classes)
        throw new Error(`labels[${i}] = ${v}: labels must be integers in [0, ${classes})`);
    }
    return tf.tidy(
      () =>
        tf.oneHot(tf.tensor1d(Int32Array.from(values), 'int32'), classes).toFloat() as tf.Tensor2D,
    );
  }

  /** q(z | x): mean and log-variance [n, latentDim] (logVar is undefined for an autoencoder). */
  encode(x: tf.Tensor2D, labels?: Labels): { mean: tf.Tensor2D; logVar?: tf.Tensor2D } {
    const n = this.checkInput(x);
    const result = tf.tidy(
      () => this.networks.encode(x, this.oneHot(labels, n)) as Record<string, tf.Tensor2D>,
    );
    return { mean: result.mean, logVar: result.logVar };
  }

  /** The decoder's pre-sigmoid output [n, inputDim] for latents z [n, latentDim]. */
  decoderOutput(z: tf.Tensor2D, labels?: Labels): tf.Tensor2D {
    if (z.rank !== 2 || z.shape[1] !== this.config.latentDim) {
      throw new Error(
        `z must be latents [n, ${this.config.latentDim}], got [${z.shape.join(', ')}]`,
      );
    }
    return tf.tidy(() => this.networks.decode(z, this.oneHot(labels, z.shape[0])));
  }

  /** Mean image E[x | z] in [0, 1], [n, inputDim]. */
  decode(z: tf.Tensor2D, labels?: Labels): tf.Tensor2D {
    return tf.tidy(() => tf.sigmoid(this.decoderOutput(z, labels)));
  }

  /** The prior p(z) = N(0, I). */
  get prior(): Independent {
    return this.standardNormal;
  }

  /** q(z | x) = N(mu(x), diag(exp(logvar(x)))), batch [n], event [latentDim]. */
  posterior(x: tf.Tensor2D, labels?: Labels): Independent {
    const { mean, logVar } = this.encode(x, labels);
    if (!logVar) throw new Error('an autoencoder has no posterior q(z | x): its code is z = mu(x)');
    return diagonalGaussian(mean, logVar);
  }

  /**
   * p(x | z) from the decoder output (pre-sigmoid, [..., n, inputDim]): independent Bernoulli
   * pixels with these logits, or N(sigmoid(output), s^2 I).
   */
  decoderDistribution(output: tf.Tensor): Independent {
    if (this.config.likelihood === 'bernoulli') {
      return new Independent(new Bernoulli({ logits: output, validate: false }), 1);
    }
    const mean = tf.sigmoid(output);
    return new Independent(new Normal(mean, this.config.gaussianStd, { validate: false }), 1);
  }

  /** p(x | z) for latents z [n, latentDim]. */
  likelihood(z: tf.Tensor2D, labels?: Labels): Independent {
    return this.decoderDistribution(this.decoderOutput(z, labels));
  }

  /**
   * The negative ELBO's two terms per image (Kingma & Welling 2014), with one reparameterized
   * z ~ q(z | x) per image; an autoencoder decodes z = mu(x) and pays no KL.
   */
  elboTerms(x: tf.Tensor2D, labels?: Labels): ElboTerms {
    this.checkInput(x);
    return tf.tidy(() => {
      if (!this.isVariational) {
        const z = this.encode(x, labels).mean;
        const reconstruction = tf.neg(this.likelihood(z, labels).logProb(x)) as tf.Tensor1D;
        return { reconstruction, kl: tf.zerosLike(reconstruction) };
      }
      // -ELBO = -E_q[log p(x|z)] + KL(q(z|x) || p(z))
      const q = this.posterior(x, labels);
      const z = q.rsample() as tf.Tensor2D;
      const reconstruction = tf.neg(this.likelihood(z, labels).logProb(x)) as tf.Tensor1D;
      return { reconstruction, kl: kl(q, this.prior) as tf.Tensor1D };
    });
  }

  /** The training objective summed over the batch: sum_i [L_rec(x_i) + beta * KL_i]. */
  loss(x: tf.Tensor2D, labels?: Labels): tf.Scalar {
    return tf.tidy(() => this.objective(this.elboTerms(x, labels)));
  }

  /** sum_i [L_rec(x_i) + beta * KL_i] from the per-image terms (beta = 1: the negative ELBO). */
  objective(terms: ElboTerms): tf.Scalar {
    return tf.sum(tf.add(terms.reconstruction, tf.mul(terms.kl, this.config.klWeight)));
  }

  /** Reconstructions E[x | z = mu(x)] of a batch (the encoder mean, no noise). */
  reconstruct(x: tf.Tensor2D, labels?: Labels): tf.Tensor2D {
    return tf.tidy(() => this.decode(this.encode(x, labels).mean, labels));
  }

  /** n mean images decoded from z ~ N(0, I) (with the given labels for a conditional model). */
  sample(n: number, labels?: Labels): tf.Tensor2D {
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`sample(n): n must be a positive integer, got ${n}`);
    return tf.tidy(() =>
      this.decode(tf.randomNormal([n, this.config.latentDim], 0, 1, 'float32', nextSeed()), labels),
    );
  }

  dispose(): void {
    this.networks.dispose();
    const base = this.standardNormal.base as Normal;
    tf.dispose([base.loc, base.scale, base.logScale]);
  }
}

/** N(mean, diag(exp(logVar))) over the last axis: the encoder's q(z | x) from its two heads. */
export function diagonalGaussian(mean: tf.Tensor, logVar: tf.Tensor): Independent {
  return new Independent(Normal.fromLogVariance(mean, logVar, { validate: false }), 1);
}
