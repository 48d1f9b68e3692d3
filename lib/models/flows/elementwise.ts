/**
 * Per-channel affine layers: the same scale (and shift) for one channel at every pixel, so the
 * Jacobian is diagonal and log |det| = (pixels) × Σ_c s_c, the same at every point.
 *  - NICE's scaling layer (Dinh et al. 2014): y = exp(s)⊙z, the only change of volume a stack of
 *    additive couplings has.
 *  - Actnorm (Glow, Kingma & Dhariwal 2018): y = exp(s)⊙z + b, started from the first minibatch so
 *    that the data, mapped back through it, has zero mean and unit variance per channel.
 */
import * as tf from '@tensorflow/tfjs';
import { checkPoints } from './checks';
import { checkOptionNames } from '../../runtime/checks';
import { Flow, FlowResult } from './flow';
import { FlowShape, ImageShape, imageShape, shapeSize } from './shapes';

export interface ElementwiseOptions {
  name?: string;
}

/** y = exp(s)⊙z with one log-scale s_c per channel (per coordinate on a vector). */
export class Scaling implements Flow {
  readonly dim: number;
  readonly shape: ImageShape;
  readonly name: string;
  /** s, one per channel; starts at 0 (the identity). */
  readonly logScale: tf.Variable<tf.Rank.R1>;

  constructor(shape: FlowShape, options: ElementwiseOptions = {}, kind = 'Scaling') {
    checkOptionNames(kind, options, ['name']);
    this.shape = imageShape(kind, shape);
    this.dim = shapeSize(this.shape);
    this.name = options.name ?? kind.toLowerCase();
    this.logScale = tf.tidy(() => tf.variable(tf.zeros([this.shape.channels])));
  }

  /** The per-channel shift b (none for a pure scaling). */
  protected shift(): tf.Tensor1D | undefined {
    return undefined;
  }

  /** Applies x ↦ a⊙x + c per channel to rows of [n, h·w·c]. */
  private perChannel(x: tf.Tensor2D, a: tf.Tensor1D, c?: tf.Tensor1D): tf.Tensor2D {
    const channels = tf.reshape(x, [-1, this.shape.channels]);
    const scaled = tf.mul(channels, a);
    return tf.reshape(c ? tf.add(scaled, c) : scaled, x.shape) as tf.Tensor2D;
  }

  /** log|det ∂y/∂z| = h·w·Σ_c s_c, the same for all n points. */
  private logDet(n: number, sign: 1 | -1): tf.Tensor1D {
    const pixels = this.shape.height * this.shape.width;
    return tf.mul(tf.ones([n]), tf.mul(sign * pixels, tf.sum(this.logScale))) as tf.Tensor1D;
  }

  // y = exp(s)⊙z + b
  forward(z: tf.Tensor2D): FlowResult {
    checkPoints(`${this.name}.forward`, z, this.dim);
    return tf.tidy(() => ({
      y: this.perChannel(z, tf.exp(this.logScale), this.shift()),
      logDet: this.logDet(z.shape[0], 1),
    }));
  }

  // z = (y - b)⊙exp(-s)
  inverse(y: tf.Tensor2D): FlowResult {
    checkPoints(`${this.name}.inverse`, y, this.dim);
    return tf.tidy(() => {
      const b = this.shift();
      const inverseScale = tf.exp(tf.neg(this.logScale)) as tf.Tensor1D;
      return {
        y: this.perChannel(y, inverseScale, b && (tf.neg(tf.mul(b, inverseScale)) as tf.Tensor1D)),
        logDet: this.logDet(y.shape[0], -1),
      };
    });
  }

  namedVariables(): Record<string, tf.Variable> {
    return { [`${this.name}.logScale`]: this.logScale };
  }

  dispose(): void {
    this.logScale.dispose();
  }
}

/**
 * Glow's actnorm: y = exp(s)⊙z + b per channel. `initializeFromData` (which
 * NormalizingFlow.initializeFromData and fitMaximumLikelihood call on the first minibatch) sets b
 * to the channel means and s to the log standard deviations of the data arriving at the layer, so
 * training starts from standardized activations whatever the scale of the data.
 */
export class ActNorm extends Scaling {
  readonly bias: tf.Variable<tf.Rank.R1>;
  private dataInitialized = false;

  constructor(shape: FlowShape, options: ElementwiseOptions = {}) {
    super(shape, options, 'ActNorm');
    this.bias = tf.tidy(() => tf.variable(tf.zeros([this.shape.channels])));
  }

  protected override shift(): tf.Tensor1D {
    return this.bias;
  }

  /** Whether initializeFromData has set the parameters. */
  get initialized(): boolean {
    return this.dataInitialized;
  }

  /**
   * Sets b and s from a batch y [n, dim] of the layer's outputs (the data side) so that the inverse
   * maps it to zero mean and unit variance per channel; only the first call acts.
   */
  initializeFromData(y: tf.Tensor2D): void {
    checkPoints(`${this.name}.initializeFromData`, y, this.dim);
    if (this.dataInitialized) return;
    const values = y.shape[0] * this.shape.height * this.shape.width;
    if (values < 2)
      throw new Error(
        `${this.name}.initializeFromData needs at least 2 values per channel to estimate a ` +
          `standard deviation, got ${values}`,
      );
    tf.tidy(() => {
      const { mean, variance } = tf.moments(tf.reshape(y, [-1, this.shape.channels]), 0);
      this.bias.assign(mean as tf.Tensor1D);
      // the small constant keeps log s finite on a constant channel
      this.logScale.assign(tf.mul(0.5, tf.log(tf.add(variance, 1e-6))) as tf.Tensor1D);
    });
    this.dataInitialized = true;
  }

  override namedVariables(): Record<string, tf.Variable> {
    return { ...super.namedVariables(), [`${this.name}.bias`]: this.bias };
  }

  override dispose(): void {
    super.dispose();
    this.bias.dispose();
  }
}
