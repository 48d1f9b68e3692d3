/**
 * Categorical over {0, ..., K-1}, from logits or (unnormalized) probabilities along the last axis;
 * the batch shape is everything before it. Stores normalized log-probabilities (logits -
 * logSumExp).
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptions, checkValues } from '../runtime/checks';
import { Distribution, Support } from './distribution';
import { ValidationOptions } from './normal';
import { normalizeSampleShape, SampleShape, TensorLike, toTensor } from './util';
import { nextSeed } from '../runtime/random';

const TINY = 1e-30;

export interface CategoricalParameters extends ValidationOptions {
  /** Non-negative weights [..., K], normalized along the last axis. */
  probs?: TensorLike;
  /** Unnormalized log-probabilities [..., K]. */
  logits?: TensorLike;
}

export class Categorical extends Distribution {
  readonly hasRsample = false;
  /** Normalized log-probabilities, [...batch, K]. */
  readonly logProbs: tf.Tensor;
  readonly numCategories: number;

  constructor(params: CategoricalParameters) {
    checkOptions('Categorical', params, { probs: true, logits: true, validate: true });
    if ((params.probs === undefined) === (params.logits === undefined)) {
      throw new Error('Categorical: pass exactly one of { probs } or { logits }');
    }
    const validate = params.validate ?? true;
    const raw = toTensor(
      (params.probs ?? params.logits)!,
      params.probs !== undefined ? 'probs' : 'logits',
      'Categorical',
    );
    if (raw.rank < 1)
      throw new Error(
        `Categorical: ${params.probs !== undefined ? 'probs' : 'logits'} must have shape [..., ` +
          `K], got a scalar`,
      );
    let logits: tf.Tensor;
    if (params.probs !== undefined) {
      if (validate) {
        checkValues(
          'Categorical',
          'probs',
          raw,
          (v) => v >= 0 && Number.isFinite(v),
          'non-negative and finite',
        );
        const sums = tf.sum(raw, -1);
        checkValues(
          'Categorical',
          'the sum of probs over the last axis',
          sums,
          (v) => v > 0,
          '> 0',
        );
        sums.dispose();
      }
      logits = tf.tidy(() => tf.log(tf.maximum(tf.div(raw, tf.sum(raw, -1, true)), TINY)));
    } else {
      if (validate)
        checkValues(
          'Categorical',
          'logits',
          raw,
          (v) => !Number.isNaN(v) && v !== Infinity,
          'a number below +Infinity',
        );
      logits = raw;
    }
    super(logits.shape.slice(0, -1), [], validate);
    this.numCategories = logits.shape[logits.rank - 1];
    // log pi_k = l_k - logSumExp(l)
    this.logProbs = tf.tidy(() => tf.sub(logits, tf.logSumExp(logits, -1, true)));
  }

  override get support(): Support {
    const k = this.numCategories;
    return {
      text: `an integer in {0, ..., ${k - 1}}`,
      discrete: true,
      contains: (v) => Number.isInteger(v) && v >= 0 && v < k,
    };
  }

  get probs(): tf.Tensor {
    return tf.exp(this.logProbs);
  }

  get logits(): tf.Tensor {
    return this.logProbs;
  }

  /** Integer-valued float draws, shape [...sampleShape, ...batchShape]. */
  protected override drawNonDifferentiable(sampleShape: SampleShape): tf.Tensor {
    const dims = normalizeSampleShape(sampleShape);
    const n = dims.reduce((a, b) => a * b, 1);
    return tf.tidy(() => {
      const rows = this.batchShape.reduce((a, b) => a * b, 1);
      const flat = tf.reshape(this.logProbs, [rows, this.numCategories]) as tf.Tensor2D;
      const draws = tf.multinomial(flat, n, nextSeed(), false); // [rows, n] from logits
      return tf.reshape(tf.cast(tf.transpose(draws), 'float32'), [...dims, ...this.batchShape]);
    });
  }

  /** log pi_x, for integer x in {0, ..., K-1}. */
  logProb(x: TensorLike): tf.Tensor {
    const v = this.checkValue(x);
    return tf.tidy(() => {
      const oneHot = tf.oneHot(tf.cast(v, 'int32'), this.numCategories);
      return tf.sum(tf.mul(oneHot, this.logProbs), -1);
    });
  }

  /** H = -sum_k pi_k log pi_k. */
  override entropy(): tf.Tensor {
    return tf.tidy(() => tf.neg(tf.sum(tf.mul(this.probs, this.logProbs), -1)));
  }
}
