/**
 * Fitting one Gaussian q = N(mu, sigma^2) to a target density p by minimizing a KL divergence.
 * Forward KL(p || q) is minimized by matching p's mean and variance (mode covering); reverse KL(q
 * || p) has no closed form and is minimized by stochastic gradient with reparameterized samples
 * from q (mode seeking: q settles on one mode, and which one depends on where it starts).
 */
import * as tf from '@tensorflow/tfjs';
import { adam } from '../../training/adam';
import { runLoop } from '../../runtime/loop';
import { nextSeed } from '../../runtime/random';
import { GaussianFit } from './mle';

/** argmin_q KL(p || q) over Gaussians: mu = E_p[x], sigma^2 = Var_p[x]. */
export function fitGaussianForwardKl(mean: number, variance: number): GaussianFit {
  if (!Number.isFinite(mean))
    throw new Error(`fitGaussianForwardKl: mean must be finite, got ${mean}`);
  if (!(variance > 0) || !Number.isFinite(variance))
    throw new Error(`fitGaussianForwardKl: variance must be positive and finite, got ${variance}`);
  return { mu: mean, sigma: Math.sqrt(variance) };
}

export interface ReverseKlOptions {
  init: GaussianFit;
  steps?: number;
  learningRate?: number;
  /** Monte Carlo samples per gradient step (default 256). */
  samples?: number;
}

/**
 * argmin_q KL(q || p) = E_q[log q(z) - log p(z)] over Gaussians, by Adam on (mu, log sigma) with
 * z = mu + sigma * eps (the reparameterization trick). `logP` maps a tensor of points to log p
 * there.
 */
export async function fitGaussianReverseKl(
  logP: (z: tf.Tensor1D) => tf.Tensor1D,
  options: ReverseKlOptions,
): Promise<{ fit: GaussianFit; trajectory: GaussianFit[]; interrupted: boolean }> {
  const { init } = options;
  if (!(init.sigma > 0))
    throw new Error(`fitGaussianReverseKl: init.sigma must be positive, got ${init.sigma}`);
  const samples = options.samples ?? 256;
  const mu = tf.tidy(() => tf.variable(tf.scalar(init.mu)));
  const logSigma = tf.tidy(() => tf.variable(tf.scalar(Math.log(init.sigma))));
  const optimizer = adam(options.learningRate ?? 0.02);
  const trajectory: GaussianFit[] = [];
  const steps = options.steps ?? 1500;
  try {
    const interrupted = await runLoop('reverse-KL fit', async (loop) => {
      for (let step = 0; step < steps; step++) {
        if (await loop.shouldStop()) {
          loop.stop(`step ${step}/${steps}`, 'the fit is the last completed step');
          return true;
        }
        optimizer.minimize(() =>
          tf.tidy(() => {
            const eps = tf.randomNormal([samples], 0, 1, 'float32', nextSeed()) as tf.Tensor1D;
            const z = tf.add(mu, tf.mul(tf.exp(logSigma), eps)) as tf.Tensor1D;
            // E_q[log q(z)] = -entropy(q) = -(log sigma + (1 + log 2 pi) / 2); the constant does
            // not matter
            return tf.sub(tf.neg(logSigma), tf.mean(logP(z))) as tf.Scalar;
          }),
        );
        trajectory.push({ mu: mu.dataSync()[0], sigma: Math.exp(logSigma.dataSync()[0]) });
      }
      return false;
    });
    return { fit: trajectory[trajectory.length - 1] ?? init, trajectory, interrupted };
  } finally {
    tf.dispose([mu, logSigma]);
    optimizer.dispose();
  }
}
