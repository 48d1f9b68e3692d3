/**
 * Denoising score matching (Vincent 2011): training an energy without sampling from it. Perturb
 * the data, x̃ = x + σ ε with ε ~ N(0, I), and regress the model's score s(x̃) = -∇_x E(x̃) onto
 * the score of the perturbation, ∇ log q(x̃ | x) = -(x̃ - x)/σ² = -ε/σ:
 *   J(θ) = ½ E_{x, ε} || -∇_x E(x + σ ε; θ) + ε/σ ||².
 * Its minimizer is the score of the blurred data density p_σ = p_data * N(0, σ² I), so the model
 * learns p_σ, not p_data itself: σ trades that blur against the variance of the estimate.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionNames } from '../../runtime/checks';
import { nextSeed } from '../../runtime/random';
import { checkPoints } from './checks';
import { Energy, energyGradient, EnergyNetwork } from './energy';
import { EnergyMetrics, EnergyTrainer, EnergyTrainerOptions, TRAINER_OPTION_NAMES } from './train';

function checkSigma(caller: string, sigma: number): void {
  if (!(sigma > 0) || !Number.isFinite(sigma))
    throw new Error(`${caller}: sigma (the noise scale) must be a number > 0, got ${sigma}`);
}

/**
 * ½ mean_n ||ε_n/σ - ∇E(x̃_n)||² from the energy's gradients at the noisy points [B, d] and the
 * noise ε [B, d] that made them: the estimate of J(θ) on one batch.
 */
export function scoreMatchingObjective(
  gradient: tf.Tensor2D,
  noise: tf.Tensor2D,
  sigma: number,
): tf.Scalar {
  checkSigma('scoreMatchingObjective', sigma);
  return tf.tidy(
    () =>
      tf.mul(
        tf.mean(tf.sum(tf.square(tf.sub(tf.div(noise, sigma), gradient)), 1)),
        0.5,
      ) as tf.Scalar,
  );
}

/** J(θ) above, estimated on the batch x [B, d] with one noise draw per point. */
export function denoisingScoreMatchingLoss(
  energy: Energy,
  x: tf.Tensor2D,
  sigma: number,
): tf.Scalar {
  checkPoints('denoisingScoreMatchingLoss(x)', x);
  checkSigma('denoisingScoreMatchingLoss', sigma);
  return tf.tidy(() => {
    const eps = tf.randomNormal(x.shape, 0, 1, 'float32', nextSeed());
    const grad = energyGradient(energy, tf.add(x, tf.mul(eps, sigma)) as tf.Tensor2D);
    return scoreMatchingObjective(grad, eps as tf.Tensor2D, sigma);
  });
}

export interface ScoreMatchingOptions extends EnergyTrainerOptions {
  /** σ, the scale of the noise added to the data. */
  sigma: number;
}

export class DenoisingScoreMatching extends EnergyTrainer {
  readonly name = 'denoising score matching';
  readonly sigma: number;

  constructor(model: EnergyNetwork, options: ScoreMatchingOptions) {
    checkOptionNames('DenoisingScoreMatching', options, [...TRAINER_OPTION_NAMES, 'sigma']);
    super(model, options);
    checkSigma('DenoisingScoreMatching', options.sigma);
    this.sigma = options.sigma;
  }

  step(x: tf.Tensor2D): EnergyMetrics {
    checkPoints('DenoisingScoreMatching.step(x)', x, this.model.dim);
    return this.minimize(() => denoisingScoreMatchingLoss(this.model, x, this.sigma));
  }
}
