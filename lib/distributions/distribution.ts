/**
 * The interface every distribution implements, modelled on torch.distributions: a batch of
 * independent distributions (batchShape) over events of shape eventShape. Draws have shape
 * [...sampleShape, ...batchShape, ...eventShape]; logProb(x) has shape [...sampleShape,
 * ...batchShape].
 */
import * as tf from '@tensorflow/tfjs';
import { checkValues } from '../runtime/checks';
import { normalizeSampleShape, SampleShape, TensorLike, toTensor } from './util';

/** The values a distribution puts probability on, elementwise. */
export interface Support {
  /** As messages say it, e.g. 'a real number' or 'an integer in {0, ..., 9}'. */
  text: string;
  /** Whether values are counts or categories (a probability mass) rather than real numbers. */
  discrete: boolean;
  /** Whether one element of a value lies in the support (NaN never does). */
  contains(v: number): boolean;
}

/** The real line. */
export const REAL: Support = { text: 'a real number', discrete: false, contains: () => true };

const blockGradient = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => ({
  value: tf.clone(inputs[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

/** The last n axes of a tensor of rank `rank`: [rank - 1, ..., rank - n]. */
export function lastAxes(rank: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => rank - 1 - i);
}

/** The identity with a zero gradient: x's value, seen by autodiff as a constant. */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return blockGradient(x) as T;
}

export abstract class Distribution {
  /**
   * Whether rsample exists: draws are a differentiable function of the parameters
   * (reparameterization).
   */
  abstract readonly hasRsample: boolean;

  constructor(
    readonly batchShape: number[],
    readonly eventShape: number[],
    /**
     * Whether parameters, and the values given to logProb, are checked (the `validate` option,
     * default true; checking reads values back from the backend).
     */
    readonly validateArgs = true,
  ) {}

  /** Where the values lie (default: the real line). */
  get support(): Support {
    return REAL;
  }

  /** A short name for messages, e.g. 'Normal'. */
  get name(): string {
    return this.constructor.name;
  }

  /** The full shape of a draw for a given sample shape. */
  extendedShape(sampleShape: SampleShape = []): number[] {
    return [...normalizeSampleShape(sampleShape), ...this.batchShape, ...this.eventShape];
  }

  /** Draws without gradients to the parameters. */
  sample(sampleShape: SampleShape = []): tf.Tensor {
    return tf.tidy(() => {
      const x = this.hasRsample
        ? this.rsample(sampleShape)
        : this.drawNonDifferentiable(sampleShape);
      return stopGradient(x);
    });
  }

  /** Reparameterized draws x = g(parameters, noise): gradients flow to the parameters. */
  rsample(_sampleShape: SampleShape = []): tf.Tensor {
    throw new Error(
      `${this.name} has no reparameterized sampler (rsample): use sample() and a score-function ` +
        `gradient instead.`,
    );
  }

  /**
   * log p(x) summed over the last `axes` batch axes: what Independent(this, axes).logProb(x)
   * returns. Families with a fused kernel for the sum (Bernoulli) override it.
   */
  logProbSummed(x: TensorLike, axes: number): tf.Tensor {
    return tf.tidy(() => {
      const logProb = this.logProb(x);
      return axes === 0 ? logProb : tf.sum(logProb, lastAxes(logProb.rank, axes));
    });
  }

  /** Draws for distributions without rsample (overridden by those). */
  protected drawNonDifferentiable(_sampleShape: SampleShape): tf.Tensor {
    throw new Error(`${this.name}.sample is not implemented`);
  }

  /** log p(x), shape [...sampleShape, ...batchShape]. */
  abstract logProb(x: TensorLike): tf.Tensor;

  get mean(): tf.Tensor {
    throw new Error(`${this.name} has no closed-form mean.`);
  }

  get variance(): tf.Tensor {
    throw new Error(`${this.name} has no closed-form variance.`);
  }

  get stddev(): tf.Tensor {
    return tf.sqrt(this.variance);
  }

  /** Differential or discrete entropy in nats, shape batchShape. */
  entropy(): tf.Tensor {
    throw new Error(
      `${this.name} has no closed-form entropy: estimate it as -mean(logProb(sample(n))).`,
    );
  }

  /**
   * Checks that x ends in batchShape+eventShape (up to broadcasting) and, when validating, that
   * every element lies in the support (no NaN); returns x as a float tensor.
   */
  protected checkValue(x: TensorLike): tf.Tensor {
    const t = toTensor(x, 'x', `${this.name}.logProb`);
    const tail = [...this.batchShape, ...this.eventShape];
    const e = this.eventShape.length;
    if (t.rank < e) {
      throw new Error(
        `${this.name}.logProb(x): x must end in the event shape [${this.eventShape}], got shape ` +
          `[${t.shape}]`,
      );
    }
    const n = Math.min(t.rank, tail.length);
    for (let i = 1; i <= n; i++) {
      const dx = t.shape[t.rank - i];
      const dd = tail[tail.length - i];
      const isEvent = i <= e;
      if (isEvent ? dx !== dd : dx !== dd && dx !== 1 && dd !== 1) {
        throw new Error(
          `${this.name}.logProb(x): x has shape [${t.shape}], which does not end in (or ` +
            `broadcast to) batch shape [${this.batchShape}] ` +
            `+ event shape [${this.eventShape}]`,
        );
      }
    }
    if (this.validateArgs)
      checkValues(`${this.name}.logProb`, 'x', t, this.support.contains, this.support.text);
    return t;
  }
}
