/**
 * The DCGAN networks (Radford, Metz & Chintala 2015) for the GAN of lecture 002 on images: G
 * upsamples z with transposed convolutions, batch norm and ReLU to a tanh image; D mirrors it with
 * strided convolutions, batch norm and leaky ReLU down to one logit. Both take and return flat
 * rows (images in NHWC order), so they plug into the GAN, its trainer and its metrics exactly as
 * the MLPs do.
 */
import * as tf from '@tensorflow/tfjs';
import {
  ApplyOptions,
  BatchNorm,
  checkChannelList,
  checkImageShape,
  Conv2d,
  ConvTranspose2d,
  halvedMapSize,
} from '../../nn';
import { nextSeed } from '../../runtime';
import type { GanConfigBase } from './gan';

/**
 * A DCGAN; from GanConfigBase, `pack` stacks the packed images along D's input channels and
 * `discriminatorDropout` acts after each leaky ReLU of D.
 */
export interface DcganConfig extends GanConfigBase {
  architecture: 'dcgan';
  /** [height, width, channels] of the images; a data row is one image flattened (NHWC). */
  imageShape: [number, number, number];
  /**
   * Channels of G's feature maps from the smallest map on, e.g. [128, 64]: G is ConvT z -> 128
   * (kernel = the smallest map), BN, ReLU, then per further entry a ConvT 4x4 stride 2, BN, ReLU,
   * and a last ConvT 4x4 stride 2 to the image with tanh. Each entry doubles the image side.
   */
  generatorChannels: number[];
  /**
   * Channels of D's feature maps, e.g. [64, 128]: Conv 4x4 stride 2 to 64 with leaky ReLU, then
   * per further entry Conv 4x4 stride 2, BN, leaky ReLU, and a last Conv over the whole smallest
   * map to one logit.
   */
  discriminatorChannels: number[];
}

/**
 * The DCGAN of issue 15 on MNIST: G ConvT 100->128 7x7, BN, ReLU, ConvT 128->64 4x4 s2, BN, ReLU,
 * ConvT 64->1 4x4 s2, tanh; D Conv 1->64 4x4 s2, leaky ReLU 0.2, Conv 64->128 4x4 s2, BN, leaky
 * ReLU, Conv 128->1 7x7; pixels in [0, 1] seen by both networks as [-1, 1].
 */
export const MNIST_DCGAN: DcganConfig = {
  architecture: 'dcgan',
  latentDim: 100,
  imageShape: [28, 28, 1],
  generatorChannels: [128, 64],
  discriminatorChannels: [64, 128],
  dataRange: [0, 1],
};

/** The smallest feature map of G or D (see nn.halvedMapSize). */
const smallestMap = (imageShape: number[], layers: number, what: string): [number, number] =>
  halvedMapSize(imageShape, layers, `DCGAN config (${what})`);

/** Checks the DCGAN's own fields (the GAN checks the common ones), naming the bad one. */
export function checkDcganConfig(config: DcganConfig): void {
  const shape = config.imageShape;
  checkImageShape('DCGAN config', shape);
  checkChannelList('DCGAN config: generatorChannels', config.generatorChannels);
  checkChannelList('DCGAN config: discriminatorChannels', config.discriminatorChannels);
  smallestMap(shape, config.generatorChannels.length, 'generatorChannels');
  smallestMap(shape, config.discriminatorChannels.length, 'discriminatorChannels');
}

type Layer = Conv2d | ConvTranspose2d | BatchNorm;

/** The DCGAN start: conv weights ~ N(0, 0.02^2), biases 0, batch-norm scales ~ N(1, 0.02^2). */
function dcganInit(layers: Layer[]): void {
  tf.tidy(() => {
    for (const layer of layers) {
      if (layer instanceof BatchNorm) {
        layer.gamma.assign(tf.randomNormal(layer.gamma.shape, 1, 0.02, 'float32', nextSeed()));
      } else {
        layer.w.assign(tf.randomNormal(layer.w.shape, 0, 0.02, 'float32', nextSeed()));
        layer.b?.assign(tf.zerosLike(layer.b));
      }
    }
  });
}

/** What the two networks share: a stack of layers, flat rows in and out. */
abstract class DcganNetwork {
  protected constructor(readonly layers: Layer[]) {
    dcganInit(layers);
  }

  /** Every variable keyed by name (the checkpoint's contents; running statistics included). */
  namedVariables(): Record<string, tf.Variable> {
    return Object.assign({}, ...this.layers.map((l) => l.namedVariables()));
  }

  /** The trainable variables, in order (what the optimizers update). */
  variables(): tf.Variable[] {
    return Object.values(this.namedVariables()).filter((v) => v.trainable);
  }

  /**
   * The layers applied in turn to NHWC maps (batch norm in training mode when asked), with
   * dropout at `dropout` after every activated layer but the last in training mode.
   */
  protected run(x: tf.Tensor4D, options: ApplyOptions, dropout = 0): tf.Tensor4D {
    const last = this.layers.length - 1;
    return this.layers.reduce((h, layer, i) => {
      const y = layer instanceof BatchNorm ? layer.apply(h, options) : layer.apply(h);
      const activated = layer.activation !== 'linear' && i < last;
      return options.training === true && dropout > 0 && activated
        ? (tf.dropout(y, dropout, undefined, nextSeed()) as tf.Tensor4D)
        : y;
    }, x);
  }

  dispose(): void {
    this.layers.forEach((l) => l.dispose());
  }
}

/** G's layers (see DcganConfig.generatorChannels). */
function generatorLayers(config: DcganConfig): Layer[] {
  checkDcganConfig(config);
  const { latentDim, imageShape, generatorChannels: ch } = config;
  const base = smallestMap(imageShape, ch.length, 'generatorChannels');
  const layers: Layer[] = [
    new ConvTranspose2d(latentDim, ch[0], base, { bias: false, name: 'G.0' }),
    new BatchNorm(ch[0], { activation: 'relu', name: 'G.bn0' }),
  ];
  for (let i = 1; i < ch.length; i++) {
    layers.push(
      new ConvTranspose2d(ch[i - 1], ch[i], 4, {
        stride: 2,
        padding: 1,
        bias: false,
        name: `G.${i}`,
      }),
      new BatchNorm(ch[i], { activation: 'relu', name: `G.bn${i}` }),
    );
  }
  layers.push(
    new ConvTranspose2d(ch[ch.length - 1], imageShape[2], 4, {
      stride: 2,
      padding: 1,
      activation: 'tanh',
      name: `G.${ch.length}`,
    }),
  );
  return layers;
}

/** G: z [n, latentDim] to images [n, height * width * channels] in [-1, 1] (tanh). */
export class DcganGenerator extends DcganNetwork {
  readonly config: DcganConfig;

  constructor(config: DcganConfig) {
    super(generatorLayers(config));
    this.config = config;
  }

  /** Images [n, height * width * channels]; `training` uses batch statistics in batch norm. */
  apply(z: tf.Tensor2D, options: ApplyOptions = {}): tf.Tensor2D {
    const { latentDim, imageShape } = this.config;
    if (z.rank !== 2 || z.shape[1] !== latentDim)
      throw new Error(`DCGAN generator: expected z [n, ${latentDim}], got [${z.shape.join(', ')}]`);
    const [h, w, c] = imageShape;
    return tf.tidy(() => {
      const images = this.run(tf.reshape(z, [z.shape[0], 1, 1, latentDim]), options);
      return tf.reshape(images, [z.shape[0], h * w * c]);
    });
  }
}

/** D's layers (see DcganConfig.discriminatorChannels). */
function discriminatorLayers(config: DcganConfig): Layer[] {
  checkDcganConfig(config);
  const { imageShape, discriminatorChannels: ch } = config;
  const base = smallestMap(imageShape, ch.length, 'discriminatorChannels');
  const layers: Layer[] = [
    // A pack of images enters as one image with the pack's channels side by side.
    new Conv2d(imageShape[2] * (config.pack ?? 1), ch[0], 4, {
      stride: 2,
      padding: 1,
      activation: 'leakyRelu',
      name: 'D.0',
    }),
  ];
  for (let i = 1; i < ch.length; i++) {
    layers.push(
      new Conv2d(ch[i - 1], ch[i], 4, { stride: 2, padding: 1, bias: false, name: `D.${i}` }),
      new BatchNorm(ch[i], { activation: 'leakyRelu', name: `D.bn${i}` }),
    );
  }
  layers.push(new Conv2d(ch[ch.length - 1], 1, base, { name: `D.${ch.length}` }));
  return layers;
}

/**
 * D: images [n, height * width * channels] to logits [n, 1], or with packing, packs of `pack`
 * images side by side [n, pack * height * width * channels] to one logit per pack.
 */
export class DcganDiscriminator extends DcganNetwork {
  readonly config: DcganConfig;

  constructor(config: DcganConfig) {
    super(discriminatorLayers(config));
    this.config = config;
  }

  /** Logits [n, 1]; `training` uses batch statistics in batch norm, and dropout if configured. */
  apply(x: tf.Tensor2D, options: ApplyOptions = {}): tf.Tensor2D {
    const [h, w, c] = this.config.imageShape;
    const pack = this.config.pack ?? 1;
    const size = pack * h * w * c;
    if (x.rank !== 2 || x.shape[1] !== size)
      throw new Error(
        `DCGAN discriminator: expected ${pack > 1 ? `packs of ${pack} images` : 'images'} ` +
          `[n, ${size}] (${h}x${w}x${c}, flattened), got [${x.shape.join(', ')}]`,
      );
    const n = x.shape[0];
    return tf.tidy(() => {
      // [n, pack, h, w, c] -> [n, h, w, pack * c]: the pack's images as channels of one image
      const images =
        pack === 1
          ? tf.reshape(x, [n, h, w, c])
          : tf.reshape(tf.transpose(tf.reshape(x, [n, pack, h, w, c]), [0, 2, 3, 1, 4]), [
              n,
              h,
              w,
              pack * c,
            ]);
      const logits = this.run(images as tf.Tensor4D, options, this.config.discriminatorDropout);
      return tf.reshape(logits, [n, 1]);
    });
  }
}
