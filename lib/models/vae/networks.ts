/**
 * The encoder and decoder networks of the VAE (and of the autoencoder and conditional VAE): MLPs
 * (the lecture model) or convolutions. Both give the same two things the objective needs, q(z|x)'s
 * mean and log-variance and the decoder's pre-sigmoid output, on flat rows [n, inputDim], so the
 * ELBO, trainer, IWAE and checkpoints in this folder serve both.
 */
import * as tf from '@tensorflow/tfjs';
import {
  checkChannelList,
  checkImageShape,
  Conv2d,
  ConvTranspose2d,
  Dense,
  halvedMapSize,
  MLP,
} from '../../nn';

/** The parts of a VaeConfig the networks are built from. */
export interface VaeNetworkConfig {
  kind: 'vae' | 'autoencoder';
  inputDim: number;
  hidden: number[];
  latentDim: number;
  classes: number;
  /** 'mlp' (default) or 'conv'. */
  architecture?: 'mlp' | 'conv';
  /** Conv only: [height, width, channels] of an image (a row is one image, NHWC). */
  imageShape?: [number, number, number];
  /** Conv only: channels of the encoder's stride-2 convolutions, e.g. [32, 64]. */
  channels?: number[];
}

/** What the VAE's objective needs of its networks. */
export interface VaeNetworks {
  /**
   * q(z | x)'s mean and log-variance [n, latentDim] (no log-variance for an autoencoder); `oneHot`
   * is the labels of a conditional model.
   */
  encode(x: tf.Tensor2D, oneHot?: tf.Tensor2D): { mean: tf.Tensor2D; logVar?: tf.Tensor2D };
  /** The decoder's pre-sigmoid output [n, inputDim] (Bernoulli logits, or the Gaussian mean's). */
  decode(z: tf.Tensor2D, oneHot?: tf.Tensor2D): tf.Tensor2D;
  /** The decoder's output bias [inputDim], which VaeInit.outputBias sets. */
  readonly outputBias: tf.Variable;
  /** Trainable variables keyed by stable names (the keys of a saved model). */
  namedVariables(): Record<string, tf.Variable>;
  dispose(): void;
}

/**
 * [h, onehot(y)]: how the conditional VAE feeds the label to its encoder (h = x, or the conv
 * features) and decoder (h = z).
 */
export function appendOneHot(h: tf.Tensor2D, oneHot: tf.Tensor2D | undefined): tf.Tensor2D {
  if (!oneHot) return h;
  if (h.shape[0] !== oneHot.shape[0])
    throw new Error(`appendOneHot: ${h.shape[0]} rows but ${oneHot.shape[0]} one-hot labels`);
  return tf.concat([h, oneHot], 1);
}

/** The mean and log-variance heads on the encoder's features h (and the labels). */
class GaussianHeads {
  readonly mean: Dense;
  readonly logVar: Dense | undefined;

  constructor(features: number, config: VaeNetworkConfig) {
    this.mean = new Dense(features, config.latentDim, { name: 'encoder.mean' });
    this.logVar =
      config.kind === 'vae'
        ? new Dense(features, config.latentDim, { name: 'encoder.logvar' })
        : undefined;
  }

  apply(h: tf.Tensor2D): { mean: tf.Tensor2D; logVar?: tf.Tensor2D } {
    return this.logVar
      ? { mean: this.mean.apply(h), logVar: this.logVar.apply(h) }
      : { mean: this.mean.apply(h) };
  }

  namedVariables(): Record<string, tf.Variable> {
    return { ...this.mean.namedVariables(), ...(this.logVar ? this.logVar.namedVariables() : {}) };
  }

  dispose(): void {
    this.mean.dispose();
    this.logVar?.dispose();
  }
}

/** q(z|x), p(x|z) by MLPs: x -> hidden (ReLU) -> mean, log-variance; z -> reversed hidden -> x. */
export class MlpVaeNetworks implements VaeNetworks {
  /** x (and the one-hot label) to the last hidden layer, ReLU throughout. */
  readonly encoderBody: MLP;
  readonly heads: GaussianHeads;
  /** z (and the one-hot label) to the decoder's pre-sigmoid output. */
  readonly decoder: MLP;

  constructor(config: VaeNetworkConfig) {
    const { inputDim, hidden, latentDim, classes } = config;
    this.encoderBody = new MLP([inputDim + classes, ...hidden], {
      hidden: 'relu',
      output: 'relu',
      name: 'encoder',
    });
    this.heads = new GaussianHeads(hidden[hidden.length - 1], config);
    this.decoder = new MLP([latentDim + classes, ...[...hidden].reverse(), inputDim], {
      hidden: 'relu',
      output: 'linear',
      name: 'decoder',
    });
  }

  get outputBias(): tf.Variable {
    return this.decoder.layers[this.decoder.layers.length - 1].b;
  }

  encode(x: tf.Tensor2D, oneHot?: tf.Tensor2D): { mean: tf.Tensor2D; logVar?: tf.Tensor2D } {
    return this.heads.apply(this.encoderBody.apply(appendOneHot(x, oneHot)));
  }

  decode(z: tf.Tensor2D, oneHot?: tf.Tensor2D): tf.Tensor2D {
    return this.decoder.apply(appendOneHot(z, oneHot));
  }

  namedVariables(): Record<string, tf.Variable> {
    return {
      ...this.encoderBody.namedVariables(),
      ...this.heads.namedVariables(),
      ...this.decoder.namedVariables(),
    };
  }

  dispose(): void {
    this.encoderBody.dispose();
    this.heads.dispose();
    this.decoder.dispose();
  }
}

/** Checks the conv fields of a VAE config (imageShape, channels), naming the bad one. */
export function checkConvVaeConfig(config: VaeNetworkConfig): void {
  checkImageShape('VAE config (conv)', config.imageShape);
  const shape = config.imageShape!;
  if (shape[0] * shape[1] * shape[2] !== config.inputDim)
    throw new Error(
      `VAE config: imageShape [${shape}] has ${shape[0] * shape[1] * shape[2]} values, but ` +
        `inputDim is ${config.inputDim}`,
    );
  const channels = config.channels!;
  checkChannelList('VAE config: channels', channels);
  halvedMapSize(shape, channels.length, 'VAE config');
}

/**
 * q(z|x), p(x|z) with convolutions: the encoder is stride-2 4x4 convolutions with ReLU (channels
 * c_1, ..., c_k, each halving the image side), flattened, then the two dense heads; the decoder
 * mirrors it: dense z -> the smallest map (ReLU), transposed 4x4 stride-2 convolutions back to
 * c_{k-1}, ..., c_1 (ReLU) and to the image's channels, plus one output bias per pixel (as the MLP
 * decoder's, so outputBiasFromData serves both).
 */
export class ConvVaeNetworks implements VaeNetworks {
  readonly encoderConvs: Conv2d[];
  readonly heads: GaussianHeads;
  readonly decoderInput: Dense;
  readonly decoderConvs: ConvTranspose2d[];
  readonly outputBias: tf.Variable<tf.Rank.R1>;
  private readonly mapShape: [number, number, number];

  constructor(readonly config: VaeNetworkConfig) {
    checkConvVaeConfig(config);
    const imageShape = config.imageShape!;
    const channels = config.channels!;
    const [h, w] = halvedMapSize(imageShape, channels.length, 'VAE config');
    const top = channels[channels.length - 1];
    this.mapShape = [h, w, top];
    const stride2 = { stride: 2, padding: 1 } as const;
    const widths = [imageShape[2], ...channels];
    this.encoderConvs = channels.map(
      (c, i) =>
        new Conv2d(widths[i], c, 4, { ...stride2, activation: 'relu', name: `encoder.conv${i}` }),
    );
    const features = h * w * top;
    this.heads = new GaussianHeads(features + config.classes, config);
    this.decoderInput = new Dense(config.latentDim + config.classes, features, {
      activation: 'relu',
      name: 'decoder.0',
    });
    this.decoderConvs = channels
      .map((_, i) => channels.length - 1 - i)
      .map(
        (i) =>
          new ConvTranspose2d(widths[i + 1], widths[i], 4, {
            ...stride2,
            activation: i > 0 ? 'relu' : 'linear',
            bias: i > 0,
            name: `decoder.convT${channels.length - 1 - i}`,
          }),
      );
    // As the last layer's bias would start: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = out k k.
    const bound = 1 / Math.sqrt(widths[0] * 16);
    this.outputBias = tf.tidy(() =>
      tf.variable(tf.randomUniform([config.inputDim], -bound, bound), true),
    ) as tf.Variable<tf.Rank.R1>;
  }

  encode(x: tf.Tensor2D, oneHot?: tf.Tensor2D): { mean: tf.Tensor2D; logVar?: tf.Tensor2D } {
    const n = x.shape[0];
    const h = this.encoderConvs.reduce(
      (maps, conv) => conv.apply(maps),
      tf.reshape(x, [n, ...this.config.imageShape!]) as tf.Tensor4D,
    );
    return this.heads.apply(appendOneHot(tf.reshape(h, [n, -1]), oneHot));
  }

  decode(z: tf.Tensor2D, oneHot?: tf.Tensor2D): tf.Tensor2D {
    const n = z.shape[0];
    const maps = tf.reshape(this.decoderInput.apply(appendOneHot(z, oneHot)), [
      n,
      ...this.mapShape,
    ]) as tf.Tensor4D;
    const image = this.decoderConvs.reduce((h, convT) => convT.apply(h), maps);
    return tf.add(tf.reshape(image, [n, this.config.inputDim]), this.outputBias);
  }

  namedVariables(): Record<string, tf.Variable> {
    return Object.assign(
      {},
      ...this.encoderConvs.map((l) => l.namedVariables()),
      this.heads.namedVariables(),
      this.decoderInput.namedVariables(),
      ...this.decoderConvs.map((l) => l.namedVariables()),
      { 'decoder.outputBias': this.outputBias },
    );
  }

  dispose(): void {
    [...this.encoderConvs, this.heads, this.decoderInput, ...this.decoderConvs].forEach((l) =>
      l.dispose(),
    );
    this.outputBias.dispose();
  }
}

/** The networks a VAE config asks for. */
export function vaeNetworks(config: VaeNetworkConfig): VaeNetworks {
  return config.architecture === 'conv' ? new ConvVaeNetworks(config) : new MlpVaeNetworks(config);
}
