/**
 * The masked convolution of PixelCNN (van den Oord et al. 2016): the filter is multiplied by a 0/1
 * mask that keeps only the taps above the centre and left of it in the centre row, so output pixel
 * i sees input pixels before i in raster order (type 'A') or up to and including i (type 'B'). A
 * stack of one type-A layer then type-B layers computes, at every pixel, a function of the pixels
 * before it only: the conditionals p(x_i | x_<i) of the chain rule, all in one pass.
 *
 * The mask multiplies the weights (W ⊙ M) before the kit's `conv2d`, so the fast conv kernels of
 * lib/runtime do the work and the gradient of the masked taps is zero.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptions, OptionKeys } from '../runtime/checks';
import { Conv2d, conv2d } from './conv';
import { Activation } from './dense';

/** 'A': a pixel does not see itself (the first layer); 'B': it sees itself (the later layers). */
export type MaskType = 'A' | 'B';

export interface MaskedConvOptions {
  activation?: Activation;
  /** Learn a bias per output channel (default true). */
  bias?: boolean;
  /** Variable name prefix, used as the key when saving (default 'maskedConv'). */
  name?: string;
}

const MASKED_CONV_KEYS: OptionKeys<MaskedConvOptions> = {
  activation: true,
  bias: true,
  name: true,
};

/**
 * The causal mask of a kh x kw filter (both odd), row-major: 1 for the taps in the rows above the
 * centre and left of the centre in its row, and the centre itself for type 'B'.
 */
export function causalMask(kernelHeight: number, kernelWidth: number, type: MaskType): number[][] {
  for (const [what, k] of [
    ['kernelHeight', kernelHeight],
    ['kernelWidth', kernelWidth],
  ] as const)
    if (!Number.isInteger(k) || k < 1 || k % 2 === 0)
      throw new Error(
        `causalMask: ${what} must be an odd positive integer (the filter needs a centre), got ${k}`,
      );
  if (type !== 'A' && type !== 'B')
    throw new Error(`causalMask: type must be 'A' or 'B', got ${JSON.stringify(type)}`);
  const [cy, cx] = [(kernelHeight - 1) / 2, (kernelWidth - 1) / 2];
  return Array.from({ length: kernelHeight }, (_, y) =>
    Array.from({ length: kernelWidth }, (_, x) =>
      y < cy || (y === cy && (x < cx || (x === cx && type === 'B'))) ? 1 : 0,
    ),
  );
}

/**
 * A masked 2-D convolution with a square k x k filter (k odd), stride 1 and zero padding
 * (k - 1) / 2, so the output has the input's size: y = act(conv(x, W ⊙ M) + b), M the causal mask
 * of `type` repeated over the channels.
 */
export class MaskedConv2d extends Conv2d {
  readonly type: MaskType;
  /** The mask [kh, kw, 1, 1] (broadcast over the channels). */
  readonly mask: tf.Tensor4D;

  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number,
    type: MaskType,
    options: MaskedConvOptions = {},
  ) {
    checkOptions('MaskedConv2d', options, MASKED_CONV_KEYS);
    const mask = causalMask(kernelSize, kernelSize, type);
    super(inChannels, outChannels, kernelSize, {
      ...options,
      name: options.name ?? 'maskedConv',
      padding: (kernelSize - 1) / 2,
    });
    this.type = type;
    this.mask = tf.tensor4d(mask.flat(), [kernelSize, kernelSize, 1, 1]);
  }

  /** The filter the layer applies, W ⊙ M. */
  maskedWeights(): tf.Tensor4D {
    return tf.mul(this.w, this.mask);
  }

  /** y = act(conv(x, W ⊙ M) + b) for images x [batch, height, width, inChannels]. */
  override apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      this.checkInput(x);
      return conv2d(x, this.maskedWeights(), this.b, {
        padding: this.padding,
        activation: this.activation,
      });
    });
  }

  override dispose(): void {
    super.dispose();
    this.mask.dispose();
  }
}
