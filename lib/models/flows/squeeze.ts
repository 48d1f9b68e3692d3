/**
 * Squeeze (RealNVP, Glow): every 2 × 2 block of pixels becomes one pixel with 4× the channels, so
 * an h × w × c image becomes h/2 × w/2 × 4c. A permutation of the numbers: log |det| = 0, exact
 * inverse. It lets per-pixel layers (the 1×1 convolution, channel masks) mix neighbouring pixels.
 * The layer's data side has the given shape; its base side (inverse) is the squeezed one, so the
 * layers before it in a flow's list (towards the base) are built for `squeezedShape`.
 */
import * as tf from '@tensorflow/tfjs';
import { checkPoints } from './checks';
import { checkOptionNames } from '../../runtime/checks';
import { Flow, FlowResult } from './flow';
import { describeShape, ImageShape, imageShape, shapeSize } from './shapes';

export class Squeeze implements Flow {
  readonly dim: number;
  readonly shape: ImageShape;
  readonly squeezedShape: ImageShape;
  readonly name: string;

  constructor(shape: ImageShape, options: { name?: string } = {}) {
    checkOptionNames('Squeeze', options, ['name']);
    this.shape = imageShape('Squeeze', shape);
    const { height, width, channels } = this.shape;
    if (height % 2 !== 0 || width % 2 !== 0)
      throw new Error(
        `Squeeze: height and width must be even to cut the image into 2 × 2 blocks, got ` +
          `${describeShape(this.shape)}`,
      );
    this.squeezedShape = { height: height / 2, width: width / 2, channels: 4 * channels };
    this.dim = shapeSize(this.shape);
    this.name = options.name ?? 'squeeze';
  }

  // [n, h, w, c] -> [n, h/2, 2, w/2, 2, c] -> [n, h/2, w/2, c, 2, 2]: channel 4k + 2i + j of a
  // squeezed pixel is channel k of the block's pixel (i, j)
  inverse(y: tf.Tensor2D): FlowResult {
    checkPoints(`${this.name}.inverse`, y, this.dim);
    const { height: h, width: w, channels: c } = this.shape;
    return tf.tidy(() => ({
      y: tf.reshape(
        tf.transpose(tf.reshape(y, [-1, h / 2, 2, w / 2, 2, c]), [0, 1, 3, 5, 2, 4]),
        y.shape,
      ) as tf.Tensor2D,
      logDet: tf.zeros([y.shape[0]]) as tf.Tensor1D,
    }));
  }

  forward(z: tf.Tensor2D): FlowResult {
    checkPoints(`${this.name}.forward`, z, this.dim);
    const { height: h, width: w, channels: c } = this.shape;
    return tf.tidy(() => ({
      y: tf.reshape(
        tf.transpose(tf.reshape(z, [-1, h / 2, w / 2, c, 2, 2]), [0, 1, 4, 2, 5, 3]),
        z.shape,
      ) as tf.Tensor2D,
      logDet: tf.zeros([z.shape[0]]) as tf.Tensor1D,
    }));
  }

  namedVariables(): Record<string, tf.Variable> {
    return {};
  }

  dispose(): void {}
}
