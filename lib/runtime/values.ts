/**
 * Plain numbers out of tensors, for notebook cells that need values rather than tensors: each
 * helper reads the tensor and frees it (or computes it in a tidy scope when given a function), so
 * a cell needs no dispose, tidy or dataSync of its own.
 */
import * as tf from '@tensorflow/tfjs';

type TensorSource = tf.Tensor | (() => tf.Tensor);

function evaluate(source: TensorSource, what: string): tf.Tensor {
  const t = typeof source === 'function' ? tf.tidy(source) : source;
  if (!(t instanceof tf.Tensor))
    throw new Error(`${what}: expected a tensor or a function returning one, got ${typeof t}`);
  if (t.isDisposed) throw new Error(`${what}: the tensor was already disposed`);
  return t;
}

/** The value of a one-element tensor (or of the tensor `f()` computes), which is then freed. */
export function toNumber(source: TensorSource): number {
  const t = evaluate(source, 'toNumber');
  const size = t.size;
  const shape = t.shape;
  const value = size === 1 ? t.dataSync()[0] : NaN;
  t.dispose();
  if (size !== 1)
    throw new Error(
      `toNumber: expected a tensor with one element, got shape [${shape.join(', ')}] (use toArray)`,
    );
  return value;
}

/** The values of a tensor (or of the tensor `f()` computes), flattened, after which it is freed. */
export function toArray(source: TensorSource): number[] {
  const t = evaluate(source, 'toArray');
  const values = Array.from(t.dataSync());
  t.dispose();
  return values;
}

/**
 * The rows of a rank-2 tensor (or of the tensor `f()` computes) as arrays, e.g. images for a
 * figure, after which it is freed.
 */
export function toRows(source: TensorSource): number[][] {
  const t = evaluate(source, 'toRows');
  const shape = t.shape;
  const rows = t.rank === 2 ? (t.arraySync() as number[][]) : undefined;
  t.dispose();
  if (!rows)
    throw new Error(
      `toRows: expected a rank-2 tensor [rows, columns], got shape [${shape.join(', ')}] ` +
        `(use toArray for a flat list)`,
    );
  return rows;
}
