/**
 * Targets known only through their full conditionals, for the Gibbs sampler: the tutorial's joint
 * table of two discrete variables (002) and a bivariate Gaussian with correlation rho.
 */
import * as tf from '@tensorflow/tfjs';
import { FullConditionals } from './gibbs';

/**
 * Draws one category per row of `probs` [n, K] (rows summing to 1): the number of cumulative sums
 * below u.
 */
export function sampleCategorical(probs: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const [n, k] = probs.shape;
    const u = tf.randomUniform([n, 1]);
    const below = tf.less(tf.cumsum(probs, 1), u).cast('int32').sum(1);
    return tf.minimum(below, k - 1).cast('float32') as tf.Tensor1D;
  });
}

/** Validates a joint probability table: non-negative entries that sum to 1 (within 1e-6). */
export function checkJointTable(joint: number[][], name = 'joint'): void {
  if (
    !Array.isArray(joint) ||
    joint.length < 2 ||
    !joint.every((r) => Array.isArray(r) && r.length === joint[0].length) ||
    joint[0].length < 2
  ) {
    throw new Error(
      `${name} must be a rectangular table with at least 2 rows and 2 columns, e.g. [[0.1, 0.4], ` +
        `[0.3, 0.2]]`,
    );
  }
  const flat = joint.flat();
  if (flat.some((p) => !Number.isFinite(p) || p < 0))
    throw new Error(`${name} entries must be finite probabilities >= 0, got [${flat.join(', ')}]`);
  const total = flat.reduce((a, b) => a + b, 0);
  if (Math.abs(total - 1) > 1e-6)
    throw new Error(`${name} must sum to 1, got ${total}: divide by the total first`);
}

/**
 * P(X = x, Y = y) = joint[x][y], sampled through P(X | Y) and P(Y | X) only. The state is [x, y]
 * with integer values stored as floats. Every row and column needs positive mass (else a
 * conditional is undefined).
 */
export function tableConditionals(
  joint: number[][],
): FullConditionals & { conditionalXgivenY: number[][]; conditionalYgivenX: number[][] } {
  checkJointTable(joint);
  const cols = joint[0].length;
  const colSums = Array.from({ length: cols }, (_, y) => joint.reduce((s, r) => s + r[y], 0));
  const rowSums = joint.map((r) => r.reduce((a, b) => a + b, 0));
  if (colSums.some((s) => s === 0) || rowSums.some((s) => s === 0))
    throw new Error(
      'joint: every row and column needs positive probability, else a conditional P(X | Y = y) ' +
        'is undefined',
    );
  // P(X = x | Y = y) = P(x, y) / P(y), stored as [y][x]; P(Y = y | X = x) = P(x, y) / P(x), stored
  // as [x][y].
  const conditionalXgivenY = colSums.map((py, y) => joint.map((r) => r[y] / py));
  const conditionalYgivenX = joint.map((r, x) => r.map((p) => p / rowSums[x]));
  return {
    dims: 2,
    conditionalXgivenY,
    conditionalYgivenX,
    sample(state: tf.Tensor2D, i: number): tf.Tensor1D {
      return tf.tidy(() => {
        const other = tf
          .slice(state, [0, 1 - i], [-1, 1])
          .reshape([-1])
          .cast('int32');
        const table = tf.tensor2d(i === 0 ? conditionalXgivenY : conditionalYgivenX);
        return sampleCategorical(tf.gather(table, other) as tf.Tensor2D);
      });
    },
  };
}

/**
 * The category u falls into under the cumulative distribution of `probs` (inverse-CDF sampling, u
 * in [0, 1)).
 */
export function inverseCdf(probs: ArrayLike<number>, u: number): number {
  let cumulative = 0;
  for (let k = 0; k < probs.length; k++) {
    cumulative += probs[k];
    if (u < cumulative) return k;
  }
  return probs.length - 1;
}

/**
 * One sweep of the tutorial's algorithm with given uniforms, in plain numbers: x ~ P(X | Y = y) by
 * inverse CDF with u[0], then y ~ P(Y | X = x) with u[1]. Returns the new [x, y].
 */
export function tableGibbsSweep(
  joint: number[][],
  state: [number, number],
  u: [number, number],
): [number, number] {
  const c = tableConditionals(joint);
  const [, y] = state;
  if (!Number.isInteger(y) || y < 0 || y >= joint[0].length)
    throw new Error(
      `tableGibbsSweep: y must be a column index in [0, ${joint[0].length}), got ${y}`,
    );
  const x = inverseCdf(c.conditionalXgivenY[y], u[0]);
  return [x, inverseCdf(c.conditionalYgivenX[x], u[1])];
}

/**
 * The transition matrix of one sweep of the tutorial's algorithm on a joint table: entry [from][to]
 * is the probability that a sweep moves the state `from` to `to`, states indexed x * cols + y as in
 * tableStateCodes. A sweep draws x' ~ P(X | y), then y' ~ P(Y | x'), so from (x, y) it reaches
 * (x', y') with probability P(x' | y) P(y' | x'), whatever x was.
 */
export function tableSweepTransition(joint: number[][]): number[][] {
  const c = tableConditionals(joint);
  const rows = joint.length;
  const cols = joint[0].length;
  const states = rows * cols;
  return Array.from({ length: states }, (_, from) =>
    Array.from({ length: states }, (_, to) => {
      const [y, xNew, yNew] = [from % cols, Math.floor(to / cols), to % cols];
      return c.conditionalXgivenY[y][xNew] * c.conditionalYgivenX[xNew][yNew];
    }),
  );
}

/** Index of a state (x, y) of a rows x cols table in row-major order: x * cols + y. */
export function tableStateCodes(
  run: { values: Float32Array; dims: number },
  cols: number,
): Int32Array {
  if (run.dims !== 2)
    throw new Error(`tableStateCodes: states must have 2 coordinates, got ${run.dims}`);
  const n = run.values.length / 2;
  const codes = new Int32Array(n);
  for (let k = 0; k < n; k++) codes[k] = run.values[2 * k] * cols + run.values[2 * k + 1];
  return codes;
}

/**
 * A standard bivariate Gaussian with correlation rho: x_i | x_j ~ N(rho x_j, 1 - rho^2). The closer
 * |rho| is to 1, the smaller each conditional step and the slower the chain mixes.
 */
export function bivariateGaussianConditionals(rho: number): FullConditionals {
  if (!Number.isFinite(rho) || Math.abs(rho) >= 1)
    throw new Error(`rho must be a correlation in (-1, 1), got ${rho}`);
  const sd = Math.sqrt(1 - rho * rho);
  return {
    dims: 2,
    sample(state: tf.Tensor2D, i: number): tf.Tensor1D {
      return tf.tidy(() => {
        const other = tf.slice(state, [0, 1 - i], [-1, 1]).reshape([-1]);
        return tf.add(tf.mul(other, rho), tf.mul(tf.randomNormal(other.shape), sd)) as tf.Tensor1D;
      });
    },
  };
}
