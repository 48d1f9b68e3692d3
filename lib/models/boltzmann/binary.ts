/**
 * Helpers shared by the Boltzmann machines: enumeration of binary states, Bernoulli draws,
 * logsumexp.
 */
import * as tf from '@tensorflow/tfjs';
import { bernoulliDraws } from '../../runtime/kernels';

/** Largest number of binary units whose 2^n states this kit enumerates. */
export const MAX_ENUMERATED_UNITS = 20;

/**
 * States start..start+count-1 of n binary units as rows of a [count, n] float tensor (bit i of the
 * index is unit i).
 */
export function binaryStates(n: number, start = 0, count = 2 ** n - start): tf.Tensor2D {
  if (!Number.isInteger(n) || n < 1 || n > MAX_ENUMERATED_UNITS) {
    throw new Error(
      `binaryStates: n must be an integer in [1, ${MAX_ENUMERATED_UNITS}] (2^n states are ` +
        `enumerated), got ${n}`,
    );
  }
  const values = new Float32Array(count * n);
  for (let s = 0; s < count; s++)
    for (let i = 0; i < n; i++) values[s * n + i] = ((start + s) >>> i) & 1;
  return tf.tensor2d(values, [count, n]);
}

/**
 * Visits all 2^n states chunk by chunk: `f(states, start)` gets states start.. as [chunk, n] rows,
 * inside one tidy scope per chunk (so `f` accumulates numbers or tf.keep-s what it keeps).
 */
export function forEachStateChunk(
  n: number,
  f: (states: tf.Tensor2D, start: number) => void,
  chunk = 1 << 14,
): void {
  const total = 2 ** n;
  for (let start = 0; start < total; start += chunk) {
    tf.tidy(() => f(binaryStates(n, start, Math.min(chunk, total - start)), start));
  }
}

/** log(exp(a) + exp(b)) for numbers, stable. */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

/** A {0, 1} draw per entry of `p` from the kit's seeded generator (runtime.bernoulliDraws). */
export const bernoulli = bernoulliDraws;

/** Throws unless `x` is a rank-2 tensor with `cols` columns of {0, 1} values. */
export function checkBinaryBatch(name: string, x: tf.Tensor, cols: number): void {
  if (!(x instanceof tf.Tensor) || x.rank !== 2 || x.shape[1] !== cols) {
    const shape = x instanceof tf.Tensor ? `[${x.shape.join(', ')}]` : typeof x;
    throw new Error(`${name} must be a [batch, ${cols}] tensor of binary units, got ${shape}`);
  }
}
