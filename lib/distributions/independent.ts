/**
 * Independent(base, n): reinterprets the last n batch axes of `base` as event axes, so that logProb
 * sums over them. Independent(new Normal(mu, sigma), 1) is the diagonal Gaussian N(mu,
 * diag(sigma^2)) of a VAE encoder, with log q(z|x) summed over the latent dimensions.
 */
import * as tf from '@tensorflow/tfjs';
import { Distribution, lastAxes, Support } from './distribution';
import { SampleShape, TensorLike } from './util';

export class Independent extends Distribution {
  readonly hasRsample: boolean;

  constructor(
    readonly base: Distribution,
    readonly reinterpretedBatchDims = 1,
  ) {
    const n = reinterpretedBatchDims;
    if (!Number.isInteger(n) || n < 0 || n > base.batchShape.length) {
      throw new Error(
        `Independent: reinterpretedBatchDims must be an integer in [0, ` +
          `${base.batchShape.length}] for a base of batch shape [${base.batchShape}], got ${n}`,
      );
    }
    const cut = base.batchShape.length - n;
    super(
      base.batchShape.slice(0, cut),
      [...base.batchShape.slice(cut), ...base.eventShape],
      base.validateArgs,
    );
    this.hasRsample = base.hasRsample;
  }

  override get name(): string {
    return `Independent(${this.base.name})`;
  }

  override get support(): Support {
    return this.base.support;
  }

  private sumEvent(t: tf.Tensor): tf.Tensor {
    const n = this.reinterpretedBatchDims;
    return n === 0 ? t : tf.sum(t, lastAxes(t.rank, n));
  }

  override rsample(sampleShape: SampleShape = []): tf.Tensor {
    return this.base.rsample(sampleShape);
  }

  protected override drawNonDifferentiable(sampleShape: SampleShape): tf.Tensor {
    return this.base.sample(sampleShape);
  }

  logProb(x: TensorLike): tf.Tensor {
    return this.base.logProbSummed(x, this.reinterpretedBatchDims);
  }

  override get mean(): tf.Tensor {
    return this.base.mean;
  }

  override get variance(): tf.Tensor {
    return this.base.variance;
  }

  override entropy(): tf.Tensor {
    return tf.tidy(() => this.sumEvent(this.base.entropy()));
  }
}
