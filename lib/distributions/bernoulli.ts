/**
 * Bernoulli(p) over {0, 1}, from logits (log p / (1 - p), any real) or from probabilities in [0,
 * 1]. Internally everything is in logits: log p = -softplus(-l) and log(1 - p) = -softplus(l) stay
 * finite.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptions, checkValues } from '../runtime/checks';
import { Distribution, Support } from './distribution';
import { ValidationOptions } from './normal';
import { normalizeSampleShape, SampleShape, TensorLike, toTensor } from './util';
import { fusedBernoulliNll } from '../runtime/kernels';
import { nextSeed } from '../runtime/random';

/**
 * Probabilities are clipped to [EPS, 1 - EPS] before becoming logits, so p = 0 or 1 gives finite
 * logits.
 */
const EPS = 1e-7;

const UNIT_INTERVAL: Support = {
  text: 'in [0, 1]',
  discrete: true,
  contains: (v) => v >= 0 && v <= 1,
};

export interface BernoulliParameters extends ValidationOptions {
  probs?: TensorLike;
  logits?: TensorLike;
}

export class Bernoulli extends Distribution {
  readonly hasRsample = false;
  readonly logits: tf.Tensor;

  constructor(params: BernoulliParameters) {
    checkOptions('Bernoulli', params, { probs: true, logits: true, validate: true });
    if ((params.probs === undefined) === (params.logits === undefined)) {
      throw new Error('Bernoulli: pass exactly one of { probs } or { logits }');
    }
    const validate = params.validate ?? true;
    let logits: tf.Tensor;
    if (params.probs !== undefined) {
      const p = toTensor(params.probs, 'probs', 'Bernoulli');
      if (validate)
        checkValues(
          'Bernoulli',
          'probs',
          p,
          (v) => v >= 0 && v <= 1,
          'in [0, 1]',
          'Pass logits instead for unconstrained values.',
        );
      logits = tf.tidy(() => {
        const c = tf.clipByValue(p, EPS, 1 - EPS);
        return tf.sub(tf.log(c), tf.log1p(tf.neg(c)));
      });
    } else {
      logits = toTensor(params.logits!, 'logits', 'Bernoulli');
      if (validate)
        checkValues('Bernoulli', 'logits', logits, (v) => !Number.isNaN(v), 'a number (not NaN)');
    }
    super(logits.shape, [], validate);
    this.logits = logits;
  }

  /** {0, 1}; values in between are accepted as pixel intensities (logProb is the cross-entropy). */
  override get support(): Support {
    return UNIT_INTERVAL;
  }

  get probs(): tf.Tensor {
    return tf.sigmoid(this.logits);
  }

  protected override drawNonDifferentiable(sampleShape: SampleShape): tf.Tensor {
    return tf.tidy(() => {
      const u = tf.randomUniform(
        [...normalizeSampleShape(sampleShape), ...this.batchShape],
        0,
        1,
        'float32',
        nextSeed(),
      );
      return tf.cast(tf.less(u, this.probs), 'float32');
    });
  }

  /** log p(x) = x l - softplus(l), for x in {0, 1} (and the cross-entropy for x in [0, 1]). */
  logProb(x: TensorLike): tf.Tensor {
    const v = this.checkValue(x);
    return tf.tidy(() => tf.sub(tf.mul(v, this.logits), tf.softplus(this.logits)));
  }

  /**
   * Summed over the last axis (independent pixels of an image), with the kit's fused kernel where
   * the backend has one: one pass instead of five kernels.
   */
  override logProbSummed(x: TensorLike, axes: number): tf.Tensor {
    return tf.tidy(() => {
      const v = this.checkValue(x);
      const nll = axes === 1 ? fusedBernoulliNll(v, this.logits) : undefined;
      return nll ? tf.neg(nll) : super.logProbSummed(v, axes);
    });
  }

  override get mean(): tf.Tensor {
    return this.probs;
  }

  override get variance(): tf.Tensor {
    return tf.tidy(() => {
      const p = this.probs;
      return tf.mul(p, tf.sub(1, p));
    });
  }

  /** H = softplus(l) - p l. */
  override entropy(): tf.Tensor {
    return tf.tidy(() => tf.sub(tf.softplus(this.logits), tf.mul(this.probs, this.logits)));
  }
}
