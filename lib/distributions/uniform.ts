/** Uniform[low, high) with batch shapes; rsample is low + (high - low) u. */
import * as tf from '@tensorflow/tfjs';
import { checkOptions, checkValues } from '../runtime/checks';
import { Distribution } from './distribution';
import { ValidationOptions } from './normal';
import {
  broadcastShapes,
  expandTo,
  normalizeSampleShape,
  SampleShape,
  TensorLike,
  toTensor,
} from './util';
import { nextSeed } from '../runtime/random';

export class Uniform extends Distribution {
  readonly hasRsample = true;
  readonly low: tf.Tensor;
  readonly high: tf.Tensor;

  constructor(low: TensorLike, high: TensorLike, options: ValidationOptions = {}) {
    checkOptions('Uniform', options, { validate: true });
    const a = toTensor(low, 'low', 'Uniform');
    const b = toTensor(high, 'high', 'Uniform');
    const shape = broadcastShapes(a.shape, b.shape, 'low and high', 'Uniform');
    super(shape, [], options.validate ?? true);
    this.low = expandTo(a, shape);
    this.high = expandTo(b, shape);
    if (options.validate ?? true) {
      checkValues('Uniform', 'low', this.low, Number.isFinite, 'finite');
      const width = tf.sub(this.high, this.low);
      checkValues(
        'Uniform',
        'high - low',
        width,
        (v) => v > 0 && Number.isFinite(v),
        'positive and finite',
        'Pass low < high.',
      );
      width.dispose();
    }
  }

  override rsample(sampleShape: SampleShape = []): tf.Tensor {
    const u = tf.randomUniform(
      [...normalizeSampleShape(sampleShape), ...this.batchShape],
      0,
      1,
      'float32',
      nextSeed(),
    );
    return tf.tidy(() => tf.add(this.low, tf.mul(tf.sub(this.high, this.low), u)));
  }

  /** -log(high - low) inside [low, high), -Infinity outside. */
  logProb(x: TensorLike): tf.Tensor {
    const v = this.checkValue(x);
    return tf.tidy(() => {
      const inside = tf.logicalAnd(tf.greaterEqual(v, this.low), tf.less(v, this.high));
      const density = tf.neg(tf.log(tf.sub(this.high, this.low)));
      return tf.where(
        inside,
        tf.broadcastTo(density, inside.shape),
        tf.fill(inside.shape, -Infinity),
      );
    });
  }

  override get mean(): tf.Tensor {
    return tf.tidy(() => tf.mul(0.5, tf.add(this.low, this.high)));
  }

  override get variance(): tf.Tensor {
    return tf.tidy(() => tf.div(tf.square(tf.sub(this.high, this.low)), 12));
  }

  override entropy(): tf.Tensor {
    return tf.tidy(() => tf.log(tf.sub(this.high, this.low)));
  }
}
