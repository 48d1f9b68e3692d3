/**
 * A mixture of one family: p(x) = sum_k pi_k p_k(x), with mixing weights a Categorical over K and
 * the components one distribution whose last batch axis has size K (torch's MixtureSameFamily).
 */
import * as tf from '@tensorflow/tfjs';
import { Categorical } from './categorical';
import { Distribution, Support } from './distribution';
import { SampleShape, TensorLike } from './util';

export class MixtureSameFamily extends Distribution {
  readonly hasRsample = false;
  readonly numComponents: number;

  constructor(
    readonly mixing: Categorical,
    readonly components: Distribution,
  ) {
    const cb = components.batchShape;
    if (cb.length < 1) {
      throw new Error(
        `MixtureSameFamily: components must have a batch axis of size K (shape [..., K]), got ` +
          `batch shape []`,
      );
    }
    const k = cb[cb.length - 1];
    if (mixing.numCategories !== k) {
      throw new Error(
        `MixtureSameFamily: the mixing Categorical has ${mixing.numCategories} categories but ` +
          `the components' last batch axis has ${k}; they must match`,
      );
    }
    const outer = cb.slice(0, -1);
    const mb = mixing.batchShape;
    if (
      mb.length > outer.length ||
      mb.some((d, i) => d !== 1 && d !== outer[outer.length - mb.length + i])
    ) {
      throw new Error(
        `MixtureSameFamily: mixing batch shape [${mb}] does not broadcast to the components' ` +
          `batch shape [${outer}] (without K)`,
      );
    }
    super(outer, components.eventShape, components.validateArgs);
    this.numComponents = k;
  }

  override get support(): Support {
    return this.components.support;
  }

  /** Mixing weights expanded with singleton event axes, [...batch, K, 1, ...]. */
  private expandedWeights(): tf.Tensor {
    let w = this.mixing.probs;
    for (let i = 0; i < this.eventShape.length; i++) w = tf.expandDims(w, -1);
    return w;
  }

  /**
   * The lecture's two-step recipe: pick a component k ~ Categorical(pi), then draw x ~ p_k. Returns
   * the draws [...sampleShape, ...batch, ...event] and the components that produced them
   * [...sampleShape, ...batch].
   */
  sampleWithComponents(sampleShape: SampleShape = []): { x: tf.Tensor; component: tf.Tensor } {
    return tf.tidy(() => {
      const component = this.mixing.sample(sampleShape);
      const all = this.components.sample(sampleShape); // [...S, ...B, K, ...E]
      let pick = tf.oneHot(tf.cast(component, 'int32'), this.numComponents);
      for (let i = 0; i < this.eventShape.length; i++) pick = tf.expandDims(pick, -1);
      const axis = all.rank - this.eventShape.length - 1;
      return { x: tf.sum(tf.mul(all, pick), axis), component };
    });
  }

  protected override drawNonDifferentiable(sampleShape: SampleShape): tf.Tensor {
    const { x, component } = this.sampleWithComponents(sampleShape);
    component.dispose();
    return x;
  }

  /** log p(x) = logSumExp_k (log pi_k + log p_k(x)). */
  logProb(x: TensorLike): tf.Tensor {
    const v = this.checkValue(x);
    return tf.tidy(() => {
      const expanded = tf.expandDims(v, v.rank - this.eventShape.length);
      return tf.logSumExp(tf.add(this.components.logProb(expanded), this.mixing.logProbs), -1);
    });
  }

  /**
   * The posterior over components, p(k | x) [...sample, ...batch, K] (the E-step's
   * responsibilities).
   */
  responsibilities(x: tf.Tensor): tf.Tensor {
    const v = this.checkValue(x);
    return tf.tidy(() => {
      const joint = tf.add(
        this.components.logProb(tf.expandDims(v, v.rank - this.eventShape.length)),
        this.mixing.logProbs,
      );
      return tf.exp(tf.sub(joint, tf.logSumExp(joint, -1, true)));
    });
  }

  /** E[x] = sum_k pi_k mu_k. */
  override get mean(): tf.Tensor {
    return tf.tidy(() => {
      const m = this.components.mean;
      return tf.sum(tf.mul(this.expandedWeights(), m), m.rank - this.eventShape.length - 1);
    });
  }

  /** Var[x] = sum_k pi_k (sigma_k^2 + mu_k^2) - E[x]^2 (law of total variance, per coordinate). */
  override get variance(): tf.Tensor {
    return tf.tidy(() => {
      const m = this.components.mean;
      const axis = m.rank - this.eventShape.length - 1;
      const w = this.expandedWeights();
      const second = tf.sum(tf.mul(w, tf.add(this.components.variance, tf.square(m))), axis);
      return tf.sub(second, tf.square(this.mean));
    });
  }
}
