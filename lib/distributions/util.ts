/**
 * Shared helpers of the distributions: turning numbers into tensors, broadcasting parameters
 * against each other, and validation errors that name the parameter and the offending value.
 */
import * as tf from '@tensorflow/tfjs';

/** A parameter or a value: a number, nested arrays of numbers, or a tensor. */
export type TensorLike = number | number[] | number[][] | number[][][] | tf.Tensor;

/** The shape of a draw: a count `n` (a leading axis of size n) or a list of leading axes. */
export type SampleShape = number | number[];

export function toTensor(value: TensorLike, name: string, owner: string): tf.Tensor {
  if (value instanceof tf.Tensor) {
    if (value.dtype !== 'float32') return tf.cast(value, 'float32');
    return value;
  }
  try {
    return tf.tensor(value as number | number[], undefined, 'float32');
  } catch {
    throw new Error(
      `${owner}: ${name} must be a number, an array of numbers or a tensor, got ` +
        `${JSON.stringify(value)}`,
    );
  }
}

export function normalizeSampleShape(shape: SampleShape): number[] {
  const dims = typeof shape === 'number' ? [shape] : shape;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 1) {
      throw new Error(
        `sample shape must be a positive integer or a list of them, got ${JSON.stringify(shape)}`,
      );
    }
  }
  return dims;
}

/** Numpy broadcasting of two shapes; throws naming both parameters when they do not broadcast. */
export function broadcastShapes(a: number[], b: number[], names: string, owner: string): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `${owner}: ${names} have shapes [${a}] and [${b}], which do not broadcast; give them ` +
          `equal shapes or shapes that broadcast.`,
      );
    }
    out.push(Math.max(da, db));
  }
  return out;
}

export function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Broadcasts t to shape (returns t itself when it already has it). */
export function expandTo(t: tf.Tensor, shape: number[]): tf.Tensor {
  return sameShape(t.shape, shape) ? t : tf.broadcastTo(t, shape);
}

export const LOG_2PI = Math.log(2 * Math.PI);
