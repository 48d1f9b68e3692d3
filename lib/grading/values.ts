/**
 * Numeric values as the checks see them: a number, a (nested) array of numbers, a typed array or a
 * tf tensor all become a shape plus flat values, so a student may answer with any of them. Arrays
 * of tensors and plain objects become tuples and records of such values.
 */
import * as tf from '@tensorflow/tfjs';

export type Numeric =
  | { kind: 'dense'; shape: number[]; values: ArrayLike<number>; dtype: string }
  | { kind: 'tuple'; items: Numeric[] }
  | { kind: 'record'; entries: [string, Numeric][] };

/** What kind of value `value` is, in words, for "wrong type" messages. */
export function typeName(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (value instanceof tf.Tensor)
    return `a ${value.dtype} tensor of shape ${formatShape(value.shape)}`;
  if (typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function')
    return 'a Promise';
  if (Array.isArray(value)) return 'an array';
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function isNumberLike(value: unknown): value is number | boolean {
  return typeof value === 'number' || typeof value === 'boolean';
}

/** The shape of a rectangular nested array of numbers, or null if it is not one. */
function nestedShape(value: unknown): number[] | null {
  if (isNumberLike(value)) return [];
  if (!Array.isArray(value)) return null;
  if (value.length === 0) return [0];
  const inner = nestedShape(value[0]);
  if (inner == null) return null;
  for (let i = 1; i < value.length; i++) {
    const s = nestedShape(value[i]);
    if (s == null || s.length !== inner.length || s.some((d, k) => d !== inner[k])) return null;
  }
  return [value.length, ...inner];
}

/**
 * Converts a value to its numeric form, or returns a string saying why it cannot (the wrong-type
 * reason). Reads tensors synchronously; does not dispose them.
 */
export function toNumeric(value: unknown): Numeric | string {
  if (isNumberLike(value))
    return { kind: 'dense', shape: [], values: [Number(value)], dtype: 'number' };
  if (value instanceof tf.Tensor) {
    if (value.isDisposed) return 'a disposed tensor (do not dispose the tensor you return)';
    if (value.dtype === 'string' || value.dtype === 'complex64') return `a ${value.dtype} tensor`;
    return {
      kind: 'dense',
      shape: value.shape.slice(),
      values: value.dataSync() as ArrayLike<number>,
      dtype: value.dtype,
    };
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    if (typeof (value as unknown as ArrayLike<unknown>)[0] === 'bigint')
      return `a ${value.constructor.name}`;
    const values = value as unknown as ArrayLike<number>;
    return { kind: 'dense', shape: [values.length], values, dtype: value.constructor.name };
  }
  if (Array.isArray(value)) {
    const shape = nestedShape(value);
    if (shape != null) {
      return {
        kind: 'dense',
        shape,
        values: (value as unknown[]).flat(Infinity).map(Number),
        dtype: 'number',
      };
    }
    const items: Numeric[] = [];
    for (let i = 0; i < value.length; i++) {
      const item = toNumeric(value[i]);
      if (typeof item === 'string') return `an array whose element ${i} is ${item}`;
      items.push(item);
    }
    return { kind: 'tuple', items };
  }
  if (
    value != null &&
    typeof value === 'object' &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    const entries: [string, Numeric][] = [];
    for (const [key, v] of Object.entries(value)) {
      const item = toNumeric(v);
      if (typeof item === 'string') return `an object whose field '${key}' is ${item}`;
      entries.push([key, item]);
    }
    return { kind: 'record', entries };
  }
  return typeName(value);
}

/** A number in at most 6 significant digits. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e9) return String(x);
  return String(Number(x.toPrecision(6)));
}

function formatFlat(values: ArrayLike<number>, shape: readonly number[], maxItems: number): string {
  if (shape.length === 0) return formatNumber(values[0]);
  const stride = shape.slice(1).reduce((a, b) => a * b, 1);
  const parts: string[] = [];
  const shown = Math.min(shape[0], maxItems);
  for (let i = 0; i < shown; i++) {
    const sub = Array.prototype.slice.call(values, i * stride, (i + 1) * stride) as number[];
    parts.push(formatFlat(sub, shape.slice(1), Math.max(2, Math.floor(maxItems / 2))));
  }
  if (shape[0] > shown) parts.push('...');
  return `[${parts.join(', ')}]`;
}

/**
 * A compact one-line rendering of an input or output value, e.g. `tensor float32 [2, 3] [[1, 2,
 * ...], ...]`.
 */
export function formatValue(value: unknown, maxItems = 4): string {
  if (value instanceof tf.Tensor) {
    if (value.isDisposed) return `tensor ${value.dtype} ${formatShape(value.shape)} (disposed)`;
    const numeric = toNumeric(value);
    const body =
      typeof numeric === 'string' || numeric.kind !== 'dense'
        ? ''
        : ` ${formatFlat(numeric.values, numeric.shape, maxItems)}`;
    return `tensor ${value.dtype} ${formatShape(value.shape)}${body}`;
  }
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  const numeric = toNumeric(value);
  if (typeof numeric === 'string') return typeName(value);
  if (numeric.kind === 'dense') return formatFlat(numeric.values, numeric.shape, maxItems);
  if (numeric.kind === 'tuple')
    return `[${(value as unknown[]).map((v) => formatValue(v, maxItems)).join(', ')}]`;
  return `{ ${Object.entries(value as object)
    .map(([k, v]) => `${k}: ${formatValue(v, maxItems)}`)
    .join(', ')} }`;
}

/** The index of flat position `flat` in an array of `shape`, e.g. `[1, 0]`. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length).fill(0);
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = rest % shape[d];
    rest = Math.floor(rest / shape[d]);
  }
  return index;
}
