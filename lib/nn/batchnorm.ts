/**
 * Batch normalization (Ioffe & Szegedy 2015) over the last axis: the channels of NHWC images, or
 * the features of a [batch, features] matrix. On wasm with the native addon, training mode runs
 * as one kernel (statistics, normalization and a relu or leakyRelu in two passes) with a two-pass
 * gradient (lib/runtime/conv-kernels); elsewhere it is tfjs's ops.
 */
import * as tf from '@tensorflow/tfjs';
import {
  BATCH_NORM_ACTIVATIONS,
  BATCH_NORM_KERNEL,
  convKernelsActive,
} from '../runtime/conv-kernels';
import { checkOptions } from '../runtime/checks';
import { Activation, activate, ApplyOptions, checkActivation } from './dense';

export interface BatchNormOptions {
  /** Weight of the current batch in the running statistics (default 0.1, PyTorch's). */
  momentum?: number;
  /** Added to the variance before the square root (default 1e-5, PyTorch's). */
  epsilon?: number;
  /** Activation applied after the normalization (default 'linear'). */
  activation?: Activation;
  /** Variable name prefix, used as the key when saving (default 'bn'). */
  name?: string;
}

/**
 * y = act(gamma (x - mean) / sqrt(var + eps) + beta) per channel c of the last axis. In training
 * mode mean and var are the batch's (over every axis but the last) and the running statistics
 * move towards them, running = (1 - momentum) running + momentum batch (the variance unbiased, as
 * PyTorch); in evaluation mode the running statistics are used. gamma starts at 1, beta at 0,
 * the running mean at 0 and variance at 1.
 */
export class BatchNorm {
  readonly gamma: tf.Variable<tf.Rank.R1>;
  readonly beta: tf.Variable<tf.Rank.R1>;
  /** Running mean (not trainable: optimizers skip it; checkpoints save it). */
  readonly runningMean: tf.Variable<tf.Rank.R1>;
  /** Running unbiased variance (not trainable: optimizers skip it; checkpoints save it). */
  readonly runningVariance: tf.Variable<tf.Rank.R1>;
  readonly momentum: number;
  readonly epsilon: number;
  readonly activation: Activation;
  readonly name: string;

  constructor(
    readonly channels: number,
    options: BatchNormOptions = {},
  ) {
    checkOptions('BatchNorm', options, {
      momentum: true,
      epsilon: true,
      activation: true,
      name: true,
    });
    this.name = options.name ?? 'bn';
    const layer = `BatchNorm '${this.name}'`;
    if (!Number.isInteger(channels) || channels < 1)
      throw new Error(`${layer}: channels must be a positive integer, got ${channels}`);
    this.momentum = options.momentum ?? 0.1;
    if (!(this.momentum >= 0 && this.momentum <= 1))
      throw new Error(`${layer}: momentum must be in [0, 1], got ${options.momentum}`);
    this.epsilon = options.epsilon ?? 1e-5;
    if (!(this.epsilon > 0) || !Number.isFinite(this.epsilon))
      throw new Error(`${layer}: epsilon must be a positive number, got ${options.epsilon}`);
    this.activation = options.activation ?? 'linear';
    checkActivation(layer, this.activation);
    const filled = (value: number, trainable: boolean) =>
      tf.tidy(() => tf.variable(tf.fill([channels], value), trainable)) as tf.Variable<tf.Rank.R1>;
    this.gamma = filled(1, true);
    this.beta = filled(0, true);
    this.runningMean = filled(0, false);
    this.runningVariance = filled(1, false);
  }

  /**
   * The normalized (and activated) x, same shape; `training` uses and updates the batch
   * statistics.
   */
  apply<T extends tf.Tensor>(x: T, options: ApplyOptions = {}): T {
    const layer = `BatchNorm '${this.name}'`;
    if (x.rank < 2 || x.shape[x.rank - 1] !== this.channels) {
      throw new Error(
        `${layer}: expected [batch, ..., ${this.channels}] (channels last), got ` +
          `[${x.shape.join(', ')}]`,
      );
    }
    if (options.training !== true) {
      return tf.tidy(() => {
        // y = gamma (x - running mean) / sqrt(running var + eps) + beta
        const scale = tf.mul(this.gamma, tf.rsqrt(tf.add(this.runningVariance, this.epsilon)));
        const y = tf.add(tf.mul(tf.sub(x, this.runningMean), scale), this.beta);
        return activate(y, this.activation);
      }) as T;
    }
    const count = x.size / this.channels;
    if (count < 2)
      throw new Error(
        `${layer}: training mode needs more than one value per channel, got input ` +
          `[${x.shape.join(', ')}] (use a larger batch, or evaluation mode)`,
      );
    return tf.tidy(() => {
      const { y, mean, variance } = this.normalizeBatch(x);
      // running = (1 - m) running + m batch, with the batch variance made unbiased
      const m = this.momentum;
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)));
      this.runningVariance.assign(
        tf.add(tf.mul(this.runningVariance, 1 - m), tf.mul(variance, (m * count) / (count - 1))),
      );
      return y;
    }) as T;
  }

  /** y with the batch's own statistics, and those statistics (variance biased). */
  private normalizeBatch(x: tf.Tensor): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
    const fused = BATCH_NORM_ACTIVATIONS.includes(this.activation);
    if (convKernelsActive() && x.dtype === 'float32') {
      const [y, mean, variance] = tf
        .engine()
        .runKernel(
          BATCH_NORM_KERNEL,
          { x, gamma: this.gamma, beta: this.beta },
          { epsilon: this.epsilon, activation: fused ? this.activation : 'linear' },
        ) as tf.Tensor[];
      return { y: fused ? y : activate(y, this.activation), mean, variance };
    }
    const { mean, variance } = tf.moments(x, [...Array(x.rank - 1).keys()]);
    // y = gamma (x - mean) / sqrt(var + eps) + beta
    const normalized = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.epsilon)));
    const y = tf.add(tf.mul(normalized, this.gamma), this.beta);
    return { y: activate(y, this.activation), mean, variance };
  }

  /**
   * Every variable keyed by name: `name.gamma`, `name.beta` (trainable) and `name.runningMean`,
   * `name.runningVariance` (not trainable), so checkpoints save the running statistics too.
   */
  namedVariables(): Record<string, tf.Variable> {
    return {
      [`${this.name}.gamma`]: this.gamma,
      [`${this.name}.beta`]: this.beta,
      [`${this.name}.runningMean`]: this.runningMean,
      [`${this.name}.runningVariance`]: this.runningVariance,
    };
  }

  dispose(): void {
    tf.dispose([this.gamma, this.beta, this.runningMean, this.runningVariance]);
  }
}
