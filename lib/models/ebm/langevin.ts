/**
 * Langevin dynamics, the MCMC of energy-based models: with step size ε,
 *   x ← x - (ε/2) ∇_x E(x) + √ε ξ,  ξ ~ N(0, I),
 * a discretized diffusion whose stationary distribution tends to exp(-E(x)) / Z as ε → 0 (with a
 * bias of order ε at a finite step: no Metropolis correction). Neural EBMs use two knobs that
 * break the exact correspondence for speed (Du & Mordatch 2019): a noise scale s ≠ 1 on √ε ξ, and
 * clipping of the gradient's coordinates.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionNames } from '../../runtime/checks';
import { nextSeed } from '../../runtime/random';
import { checkPoints } from './checks';
import { Energy, energyGradient } from './energy';

export interface LangevinOptions {
  /** Number of updates. */
  steps: number;
  /** ε in x ← x - (ε/2) ∇E + s √ε ξ. */
  stepSize: number;
  /** s, the scale of the noise (default 1: the Langevin diffusion itself). */
  noiseScale?: number;
  /** Clip every coordinate of ∇E to [-c, c] (default: no clipping). */
  gradientClip?: number;
  /** Keep x inside [low, high] after every update (e.g. the pixel range); default: no bounds. */
  bounds?: [number, number];
  /** Called after every update with the step (from 1) and the current points (do not dispose). */
  onStep?: (step: number, x: tf.Tensor2D) => void;
}

/** Checks the options; returns them with defaults filled in. */
export function langevinSettings(
  caller: string,
  options: LangevinOptions,
): Required<Omit<LangevinOptions, 'onStep' | 'bounds' | 'gradientClip'>> &
  Pick<LangevinOptions, 'bounds' | 'gradientClip'> {
  const { steps, stepSize, noiseScale = 1, gradientClip, bounds } = options;
  checkOptionNames(caller, options, [
    'steps',
    'stepSize',
    'noiseScale',
    'gradientClip',
    'bounds',
    'onStep',
  ]);
  if (!Number.isInteger(steps) || steps < 0)
    throw new Error(`${caller}: steps must be an integer >= 0, got ${steps}`);
  if (!(stepSize > 0) || !Number.isFinite(stepSize))
    throw new Error(`${caller}: stepSize must be a finite number > 0, got ${stepSize}`);
  if (!(noiseScale >= 0) || !Number.isFinite(noiseScale))
    throw new Error(`${caller}: noiseScale must be a finite number >= 0, got ${noiseScale}`);
  if (gradientClip !== undefined && !(gradientClip > 0))
    throw new Error(`${caller}: gradientClip must be a number > 0, got ${gradientClip}`);
  if (bounds !== undefined && !(Array.isArray(bounds) && bounds[0] < bounds[1]))
    throw new Error(`${caller}: bounds must be [low, high] with low < high, got ${bounds}`);
  return { steps, stepSize, noiseScale, gradientClip, bounds };
}

/**
 * One Langevin update x - (ε/2) ∇E + s √ε ξ for points x, gradients ∇E and standard normal noise ξ
 * of the same shape [n, d].
 */
export function langevinUpdate(
  x: tf.Tensor2D,
  gradient: tf.Tensor2D,
  noise: tf.Tensor2D,
  stepSize: number,
  noiseScale = 1,
): tf.Tensor2D {
  return tf.tidy(
    () =>
      tf.add(
        tf.sub(x, tf.mul(gradient, stepSize / 2)),
        tf.mul(noise, noiseScale * Math.sqrt(stepSize)),
      ) as tf.Tensor2D,
  );
}

/**
 * Runs `options.steps` Langevin updates on every row of x0 [n, d] under `energy`; returns the
 * final points (x0 is left as it is).
 */
export function langevin(energy: Energy, x0: tf.Tensor2D, options: LangevinOptions): tf.Tensor2D {
  checkPoints('langevin(x0)', x0);
  const { steps, stepSize, noiseScale, gradientClip, bounds } = langevinSettings(
    'langevin',
    options,
  );
  let x = x0.clone();
  for (let step = 1; step <= steps; step++) {
    const next = tf.tidy(() => {
      let grad = energyGradient(energy, x);
      if (gradientClip !== undefined) grad = tf.clipByValue(grad, -gradientClip, gradientClip);
      const noise = tf.randomNormal(x.shape, 0, 1, 'float32', nextSeed()) as tf.Tensor2D;
      const moved = langevinUpdate(x, grad as tf.Tensor2D, noise, stepSize, noiseScale);
      return bounds ? (tf.clipByValue(moved, bounds[0], bounds[1]) as tf.Tensor2D) : moved;
    });
    x.dispose();
    x = next;
    options.onStep?.(step, x);
  }
  return x;
}
