/**
 * The univariate Normal N(loc, scale^2) with batch shapes (a diagonal Gaussian is a batch of them;
 * wrap it in Independent to treat the last axis as one event). Built from loc and scale, or from
 * loc and log-variance, the unconstrained output of an encoder network.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptions, checkValues } from '../runtime/checks';
import { Distribution } from './distribution';
import {
  broadcastShapes,
  expandTo,
  LOG_2PI,
  normalizeSampleShape,
  SampleShape,
  TensorLike,
  toTensor,
} from './util';
import { nextSeed } from '../runtime/random';

export interface ValidationOptions {
  /** Check parameter values (reads them back from the backend; default true). */
  validate?: boolean;
}

export class Normal extends Distribution {
  readonly hasRsample = true;
  readonly loc: tf.Tensor;
  readonly scale: tf.Tensor;
  /**
   * log(scale), kept separately so that log-variance inputs never pass through exp and back through
   * log.
   */
  readonly logScale: tf.Tensor;

  constructor(
    loc: TensorLike,
    scale: TensorLike,
    options: ValidationOptions & { logScale?: tf.Tensor; standard?: boolean } = {},
  ) {
    checkOptions('Normal', options, { validate: true, logScale: true, standard: true });
    const l = toTensor(loc, 'loc', 'Normal');
    const s = toTensor(scale, 'scale', 'Normal');
    const shape = broadcastShapes(l.shape, s.shape, 'loc and scale', 'Normal');
    super(shape, [], options.validate ?? true);
    if (options.validate ?? true) {
      checkValues('Normal', 'loc', l, Number.isFinite, 'finite');
      checkValues(
        'Normal',
        'scale',
        s,
        (v) => v > 0 && Number.isFinite(v),
        'positive and finite',
        'A standard deviation is > 0; for an unconstrained parameter use ' +
          'Normal.fromLogVariance(loc, logVariance).',
      );
    }
    this.loc = expandTo(l, shape);
    this.scale = expandTo(s, shape);
    this.logScale = options.logScale ? expandTo(options.logScale, shape) : tf.log(this.scale);
    this.isStandard = options.standard ?? false;
  }

  /** True for N(0, 1) made by Normal.standard (kl uses the shorter closed form). */
  readonly isStandard: boolean;

  /** N(0, 1) with batch shape `batchShape`, e.g. a VAE's prior over its latent coordinates. */
  static standard(batchShape: number[] = []): Normal {
    return new Normal(tf.zeros(batchShape), tf.ones(batchShape), {
      validate: false,
      standard: true,
    });
  }

  /** N(loc, exp(logVariance)): scale = exp(logVariance / 2), defined for every real logVariance. */
  static fromLogVariance(
    loc: TensorLike,
    logVariance: TensorLike,
    options: ValidationOptions = {},
  ): Normal {
    checkOptions('Normal.fromLogVariance', options, { validate: true });
    const lv = toTensor(logVariance, 'logVariance', 'Normal.fromLogVariance');
    if (options.validate ?? true) {
      checkValues(
        'Normal.fromLogVariance',
        'logVariance',
        lv,
        (v) => Number.isFinite(v) && Math.abs(v) < 170,
        'finite with |logVariance| < 170',
        'Clip or rescale the network output that produces it.',
      );
    }
    const logScale = tf.mul(lv, 0.5);
    return new Normal(loc, tf.exp(logScale), { validate: options.validate, logScale });
  }

  override rsample(sampleShape: SampleShape = []): tf.Tensor {
    // z = mu + sigma * eps, eps ~ N(0, 1): the reparameterization trick
    const eps = tf.randomNormal(
      [...normalizeSampleShape(sampleShape), ...this.batchShape],
      0,
      1,
      'float32',
      nextSeed(),
    );
    return this.reparameterize(eps);
  }

  /**
   * The draw that standard-normal noise eps maps to, z = mu + sigma * eps (differentiable in mu and
   * sigma).
   */
  reparameterize(eps: TensorLike): tf.Tensor {
    const e = toTensor(eps, 'eps', 'Normal.reparameterize');
    return tf.tidy(() => tf.add(this.loc, tf.mul(this.scale, e)));
  }

  logProb(x: TensorLike): tf.Tensor {
    const v = this.checkValue(x);
    return tf.tidy(() => {
      // log N(x; mu, sigma^2) = -((x - mu) / sigma)^2 / 2 - log sigma - log(2 pi) / 2
      const z = tf.div(tf.sub(v, this.loc), this.scale);
      return tf.sub(tf.sub(tf.mul(tf.square(z), -0.5), this.logScale), 0.5 * LOG_2PI);
    });
  }

  /** The CDF Phi((x - mu) / sigma). */
  cdf(x: TensorLike): tf.Tensor {
    const v = this.checkValue(x);
    return tf.tidy(() =>
      tf.mul(0.5, tf.add(1, tf.erf(tf.div(tf.sub(v, this.loc), tf.mul(this.scale, Math.SQRT2))))),
    );
  }

  override get mean(): tf.Tensor {
    return this.loc;
  }

  override get variance(): tf.Tensor {
    return tf.square(this.scale);
  }

  override get stddev(): tf.Tensor {
    return this.scale;
  }

  /** H = log sigma + (1 + log 2 pi) / 2. */
  override entropy(): tf.Tensor {
    return tf.add(this.logScale, 0.5 * (1 + LOG_2PI));
  }
}
