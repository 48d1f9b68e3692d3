/**
 * The ring of Gaussians, the classic 2D test of mode collapse: K equal-weight isotropic Gaussians
 * with means evenly spaced on a circle. A generator covers a mode when enough of its samples land
 * within 3 standard deviations of that mode's mean.
 */
import * as tf from '@tensorflow/tfjs';
import {
  checkInteger,
  checkInterval,
  checkOptions,
  checkPositive,
  OptionKeys,
} from '../runtime/checks';
import { nextSeed, random } from '../runtime/random';

export interface RingOptions {
  /** Number of modes K (default 8). */
  modes?: number;
  /** Radius of the circle of means (default 2). */
  radius?: number;
  /** Standard deviation of each Gaussian (default 0.05). */
  std?: number;
}

const RING_KEYS: OptionKeys<RingOptions> = { modes: true, radius: true, std: true };

/** The ring's parameters with defaults; `extraKeys` are further options `who` accepts. */
function ringParams(
  who: string,
  options: RingOptions,
  extraKeys: Record<string, true> = {},
): Required<RingOptions> {
  checkOptions(who, options, { ...RING_KEYS, ...extraKeys });
  const { modes = 8, radius = 2, std = 0.05 } = options;
  checkInteger(who, 'modes', modes);
  checkPositive(who, 'radius', radius);
  checkPositive(who, 'std', std);
  return { modes, radius, std };
}

/** The K means (r cos 2πk/K, r sin 2πk/K). */
export function ringMeans(options: RingOptions = {}): [number, number][] {
  const { modes, radius } = ringParams('ringMeans', options);
  return Array.from({ length: modes }, (_, k) => [
    radius * Math.cos((2 * Math.PI * k) / modes),
    radius * Math.sin((2 * Math.PI * k) / modes),
  ]);
}

/**
 * n samples [n, 2] of the ring mixture (each picks a mode uniformly, then adds N(0, std² I) noise).
 */
export function sampleRing(n: number, options: RingOptions = {}): tf.Tensor2D {
  checkInteger('sampleRing', 'n', n);
  const { std } = ringParams('sampleRing', options);
  const means = ringMeans(options);
  const centers = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const m = means[Math.floor(random() * means.length)];
    centers[2 * i] = m[0];
    centers[2 * i + 1] = m[1];
  }
  return tf.tidy(
    () =>
      tf.add(
        tf.tensor2d(centers, [n, 2]),
        tf.randomNormal([n, 2], 0, std, 'float32', nextSeed()),
      ) as tf.Tensor2D,
  );
}

/** Endless batches of ring samples; each batch is disposed when the next one is requested. */
export function* ringBatches(batchSize: number, options: RingOptions = {}): Generator<tf.Tensor2D> {
  let current: tf.Tensor2D | undefined;
  try {
    for (;;) {
      current?.dispose();
      current = sampleRing(batchSize, options);
      yield current;
    }
  } finally {
    current?.dispose();
  }
}

export interface RingCoverage {
  /** Samples within 3 std of each mode's mean. */
  counts: number[];
  /** Modes holding at least `minFraction` of the samples. */
  modesCovered: number;
  /** Fraction of samples within 3 std of some mode ("high-quality" samples). */
  fractionNearMode: number;
}

/**
 * How well samples [n, 2] cover the ring: a sample is near mode k when ‖x - μ_k‖ < 3 std; a mode is
 * covered when at least `minFraction` of all samples are near it (default 0.02, a sixth of its fair
 * share 1/8).
 */
export function ringCoverage(
  samples: tf.Tensor2D | Float32Array,
  options: RingOptions & { minFraction?: number } = {},
): RingCoverage {
  const ring = ringParams('ringCoverage', options, { minFraction: true });
  const { std } = ring;
  const minFraction = options.minFraction ?? 0.02;
  checkInterval('ringCoverage', 'minFraction', minFraction, 0, 1, '(]');
  let xy: Float32Array;
  if (samples instanceof Float32Array) {
    if (samples.length === 0 || samples.length % 2 !== 0)
      throw new Error(
        `ringCoverage: expected 2D points as [x0, y0, x1, y1, ...], got ${samples.length} values`,
      );
    xy = samples;
  } else {
    if (samples.rank !== 2 || samples.shape[1] !== 2 || samples.shape[0] === 0)
      throw new Error(`ringCoverage: expected samples [n, 2], got [${samples.shape.join(', ')}]`);
    xy = samples.dataSync() as Float32Array;
  }
  const means = ringMeans(ring);
  const n = xy.length / 2;
  const counts = new Array<number>(means.length).fill(0);
  const r2 = (3 * std) ** 2;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < means.length; k++) {
      const dx = xy[2 * i] - means[k][0];
      const dy = xy[2 * i + 1] - means[k][1];
      if (dx * dx + dy * dy < r2) {
        counts[k]++;
        break;
      }
    }
  }
  const near = counts.reduce((a, b) => a + b, 0);
  return {
    counts,
    modesCovered: counts.filter((c) => c >= minFraction * n).length,
    fractionNearMode: near / n,
  };
}

/** log p(x) of the ring mixture, log (1/K) Σ_k N(x; μ_k, std² I), at each row of points [n, 2]. */
export function ringLogDensity(points: tf.Tensor2D, options: RingOptions = {}): tf.Tensor1D {
  const { std } = ringParams('ringLogDensity', options);
  if (!(points instanceof tf.Tensor) || points.rank !== 2 || points.shape[1] !== 2)
    throw new Error(
      `ringLogDensity: expected points [n, 2], got ` +
        `${points instanceof tf.Tensor ? `[${points.shape.join(', ')}]` : typeof points}`,
    );
  const means = ringMeans(options);
  return tf.tidy(() => {
    const mu = tf.tensor2d(means.flat(), [means.length, 2]);
    const squared = tf.sum(tf.square(tf.sub(points.expandDims(1), mu.expandDims(0))), 2);
    // log N(x; μ_k, std² I) = -|x - μ_k|² / 2std² - log(2π std²), averaged over the K modes
    return tf.sub(
      tf.logSumExp(tf.div(squared, -2 * std * std), 1),
      Math.log(2 * Math.PI * std * std) + Math.log(means.length),
    ) as tf.Tensor1D;
  });
}
