/**
 * Maximum likelihood for an energy network by contrastive divergence with Langevin samples (Du &
 * Mordatch 2019). The gradient of the negative log-likelihood is "data minus model", as for the
 * Boltzmann machines of notebook 07:
 *   ∇_θ [-log P(x)] = ∇_θ E(x; θ) - E_{x' ~ P}[∇_θ E(x'; θ)],
 * with the model term from Langevin chains. The loss whose gradient that is, plus the penalty on
 * the energies' magnitude that keeps them from drifting (E is only defined up to a constant, and
 * the data term pushes it down without bound while the chains lag behind):
 *   L = mean E(x+) - mean E(x-) + α (mean E(x+)² + mean E(x-)²).
 * The chains continue from a replay buffer of earlier chains' end points (or, without one, start
 * from fresh noise at every update: short-run MCMC).
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionNames } from '../../runtime/checks';
import { NoiseSource, ReplayBuffer, ReplayBufferOptions } from './buffer';
import { EnergyNetwork } from './energy';
import { langevin, LangevinOptions, langevinSettings } from './langevin';
import { EnergyMetrics, EnergyTrainer, EnergyTrainerOptions, TRAINER_OPTION_NAMES } from './train';

export interface ContrastiveDivergenceOptions extends EnergyTrainerOptions {
  /** Where chains start: fresh noise (e.g. uniformNoise(2, -3, 3)). */
  noise: NoiseSource;
  /** The Langevin sampler of the negative phase. */
  langevin: Omit<LangevinOptions, 'onStep'>;
  /** α, the weight of the energies' squares (default 0.1; 0 switches the penalty off). */
  regularization?: number;
  /** The replay buffer's settings, or false for chains from fresh noise at every update. */
  buffer?: ReplayBufferOptions | false;
}

export class ContrastiveDivergence extends EnergyTrainer {
  readonly name = 'contrastive divergence';
  readonly regularization: number;
  readonly buffer?: ReplayBuffer;
  readonly langevinOptions: Omit<LangevinOptions, 'onStep'>;
  readonly noise: NoiseSource;

  constructor(model: EnergyNetwork, options: ContrastiveDivergenceOptions) {
    checkOptionNames('ContrastiveDivergence', options, [
      ...TRAINER_OPTION_NAMES,
      'noise',
      'langevin',
      'regularization',
      'buffer',
    ]);
    super(model, { beta1: 0, ...options });
    if (typeof options.noise !== 'function')
      throw new Error(
        'ContrastiveDivergence: noise must be a function n => [n, d] starting points, e.g. ' +
          'uniformNoise(2, -3, 3)',
      );
    langevinSettings('ContrastiveDivergence: langevin', options.langevin ?? {});
    this.regularization = options.regularization ?? 0.1;
    if (!(this.regularization >= 0) || !Number.isFinite(this.regularization))
      throw new Error(
        `ContrastiveDivergence: regularization must be a number >= 0, got ${this.regularization}`,
      );
    this.langevinOptions = options.langevin;
    this.noise = options.noise;
    if (options.buffer !== false)
      this.buffer = new ReplayBuffer(model.dim, options.noise, options.buffer ?? {});
  }

  /** Negative samples [n, d]: Langevin chains from the buffer (or from noise), stored back. */
  negatives(n: number): tf.Tensor2D {
    const start = this.buffer ? this.buffer.draw(n) : { x: this.noise(n), slots: undefined };
    const x = langevin(this.model, start.x, this.langevinOptions);
    start.x.dispose();
    if (this.buffer && start.slots) this.buffer.store(start.slots, x);
    return x;
  }

  /**
   * One Adam step on the loss for data x [B, d] and negative samples [M, d] (e.g. from negatives):
   * the positive phase pushes the data's energy down, the negative phase the samples' up.
   */
  update(x: tf.Tensor2D, negatives: tf.Tensor2D): EnergyMetrics {
    return this.minimize((metrics) => {
      const positive = this.model.energy(x);
      const negative = this.model.energy(negatives);
      metrics['E(data)'] = tf.mean(positive);
      metrics['E(samples)'] = tf.mean(negative);
      return contrastiveDivergenceLoss(positive, negative, this.regularization);
    });
  }

  /** negatives, then update. */
  step(x: tf.Tensor2D): EnergyMetrics {
    const negatives = this.negatives(x.shape[0]);
    try {
      return this.update(x, negatives);
    } finally {
      negatives.dispose();
    }
  }
}

/**
 * L = mean E(x+) - mean E(x-) + α (mean E(x+)² + mean E(x-)²) from the energies of the data
 * [B] and of the samples [M].
 */
export function contrastiveDivergenceLoss(
  positive: tf.Tensor1D,
  negative: tf.Tensor1D,
  regularization: number,
): tf.Scalar {
  return tf.tidy(
    () =>
      tf.add(
        tf.sub(tf.mean(positive), tf.mean(negative)),
        tf.mul(tf.add(tf.mean(tf.square(positive)), tf.mean(tf.square(negative))), regularization),
      ) as tf.Scalar,
  );
}
