/**
 * The two-moons data set (as scikit-learn's make_moons): two interleaving half circles in 2D with
 * Gaussian noise, the standard toy density for flows. Generated from its own seed, so a train and a
 * test set are reproducible and independent of every other random draw.
 */
import * as tf from '@tensorflow/tfjs';
import { checkInteger, checkNonNegative, checkOptions, OptionKeys } from '../runtime/checks';

export interface MoonsOptions {
  /** Standard deviation of the Gaussian noise added to each coordinate (default 0.1). */
  noise?: number;
  /** Seed of the generator (default 0). */
  seed?: number;
}

const MOONS_KEYS: OptionKeys<MoonsOptions> = { noise: true, seed: true };

export interface PointSet2D {
  /** Row-major [size, 2] coordinates. */
  points: Float32Array;
  /** 0 for the upper moon, 1 for the lower moon. */
  labels: Int32Array;
  size: number;
  /** The points as a [size, 2] tensor (the caller disposes it). */
  tensor(): tf.Tensor2D;
}

/** mulberry32: a small seeded 32-bit generator. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * n points, half on the upper moon (cos t, sin t) and half on the lower moon (1 - cos t, 0.5 - sin
 * t), t ~ U[0, π], plus N(0, noise²) noise per coordinate.
 */
export function moons(n: number, options: MoonsOptions = {}): PointSet2D {
  checkOptions('moons', options, MOONS_KEYS);
  checkInteger('moons', 'n', n);
  const noise = options.noise ?? 0.1;
  checkNonNegative('moons', 'noise', noise);
  const seed = options.seed ?? 0;
  checkInteger('moons', 'seed', seed, 0);
  const random = mulberry32(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const points = new Float32Array(2 * n);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = i < Math.ceil(n / 2) ? 0 : 1;
    const t = Math.PI * random();
    const x = label === 0 ? Math.cos(t) : 1 - Math.cos(t);
    const y = label === 0 ? Math.sin(t) : 0.5 - Math.sin(t);
    points[2 * i] = x + noise * gaussian();
    points[2 * i + 1] = y + noise * gaussian();
    labels[i] = label;
  }
  return { points, labels, size: n, tensor: () => tf.tensor2d(points, [n, 2]) };
}

/**
 * log p(x) of the two-moons distribution with the given noise at each row of points [n, 2]. Each
 * moon is a half circle c(t), t ~ U[0, π], blurred by N(0, noise² I), so
 *   p(x) = ½ Σ_moons (1/π) ∫_0^π N(x; c(t), noise² I) dt,
 * computed by the midpoint rule with `nodes` values of t per moon (default 1,000: the nodes are
 * 0.003 apart along the curve, a small fraction of any noise used here).
 */
export function moonsLogDensity(points: tf.Tensor2D, noise = 0.1, nodes = 1000): tf.Tensor1D {
  if (!(noise > 0) || !Number.isFinite(noise))
    throw new Error(`moonsLogDensity: noise must be a finite number > 0, got ${noise}`);
  if (!Number.isInteger(nodes) || nodes < 2)
    throw new Error(`moonsLogDensity: nodes must be an integer >= 2, got ${nodes}`);
  if (!(points instanceof tf.Tensor) || points.rank !== 2 || points.shape[1] !== 2)
    throw new Error(
      `moonsLogDensity: expected points [n, 2], got ` +
        `${points instanceof tf.Tensor ? `[${points.shape.join(', ')}]` : typeof points}`,
    );
  const curve = new Float32Array(4 * nodes);
  for (let k = 0; k < nodes; k++) {
    const t = (Math.PI * (k + 0.5)) / nodes;
    curve.set([Math.cos(t), Math.sin(t), 1 - Math.cos(t), 0.5 - Math.sin(t)], 4 * k);
  }
  const rows = points.shape[0];
  const chunk = Math.max(1, Math.floor(4e6 / (2 * nodes)));
  const parts: tf.Tensor1D[] = [];
  const centers = tf.tensor2d(curve, [2 * nodes, 2]);
  try {
    for (let start = 0; start < rows; start += chunk) {
      parts.push(
        tf.tidy(() => {
          const x = tf.slice(points, [start, 0], [Math.min(chunk, rows - start), 2]);
          const squared = tf.sum(tf.square(tf.sub(x.expandDims(1), centers.expandDims(0))), 2);
          // mean over the 2 * nodes curve points of N(x; c, noise² I)
          return tf.sub(
            tf.logSumExp(tf.div(squared, -2 * noise * noise), 1),
            Math.log(2 * Math.PI * noise * noise) + Math.log(2 * nodes),
          ) as tf.Tensor1D;
        }),
      );
    }
    return tf.concat(parts);
  } finally {
    tf.dispose([centers, ...parts]);
  }
}
