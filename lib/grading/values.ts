/**
 * JavaScript values to and from their wire form (see wire.ts): what a check compares, what the
 * grader sends into a notebook's kernel and what comes back.
 */
import * as tf from '@tensorflow/tfjs';
import { Numeric, formatShape } from './numeric';
import {
  TENSOR_DATA,
  TYPED_ARRAYS,
  TensorDtype,
  TypedArrayName,
  Wire,
  formatWire,
  wireNumber,
  wireToNumeric,
} from './wire';

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

export interface EncodeOptions {
  /** Numbers to send at most; a larger array or tensor is described instead (default 2^24). */
  maxEntries?: number;
}

const MAX_DEPTH = 64;

/**
 * The wire form of a value: numbers, booleans, strings, (nested) arrays, typed arrays, tensors and
 * plain objects of them are copied; anything else is described (`{ other: 'a Promise' }`).
 */
export function encode(value: unknown, options: EncodeOptions = {}): Wire {
  let budget = options.maxEntries ?? 2 ** 24;
  const tooLarge = (what: string, size: number): Wire => ({
    other: `${what} (${size} numbers: too large to send)`,
  });
  const visit = (v: unknown, depth: number): Wire => {
    if (typeof v === 'number') return budget-- > 0 ? wireNumber(v) : tooLarge('a number', 1);
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string') return { string: v };
    if (v instanceof tf.Tensor) {
      if (v.isDisposed)
        return { other: 'a disposed tensor (do not dispose the tensor you return)' };
      if (!(v.dtype in TENSOR_DATA)) return { other: `a ${v.dtype} tensor` };
      const dtype = v.dtype as TensorDtype;
      if (v.size > budget) return { tensor: dtype, shape: v.shape.slice(), data: null };
      budget -= v.size;
      return { tensor: dtype, shape: v.shape.slice(), data: v.dataSync() as ArrayLike<number> };
    }
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const name = (v instanceof Buffer ? 'Uint8Array' : v.constructor.name) as TypedArrayName;
      if (!(name in TYPED_ARRAYS)) return { other: typeName(v) };
      const data = v as unknown as ArrayLike<number>;
      if (data.length > budget) return tooLarge(`a ${name}`, data.length);
      budget -= data.length;
      return { typed: name, data: TYPED_ARRAYS[name].from(data) };
    }
    if (depth >= MAX_DEPTH) return { other: 'a value nested too deeply' };
    if (Array.isArray(v)) {
      if (v.length > budget) return tooLarge('an array', v.length);
      return Array.from(v, (item) => visit(item, depth + 1));
    }
    if (v !== null && typeof v === 'object') {
      const proto = Object.getPrototypeOf(v);
      if (proto === Object.prototype || proto === null)
        return { object: Object.entries(v).map(([k, item]) => [k, visit(item, depth + 1)]) };
    }
    return { other: typeName(v) };
  };
  return visit(value, 0);
}

/**
 * The JavaScript value of a wire form: arrays, typed arrays, tensors (new ones, which the caller
 * disposes) and plain objects. Throws on a description (`other`): it stands for no value.
 */
export function decode(w: Wire): unknown {
  if (typeof w === 'number' || typeof w === 'boolean') return w;
  if (Array.isArray(w)) return w.map(decode);
  if ('special' in w)
    return { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 }[w.special];
  if ('string' in w) return w.string;
  if ('typed' in w) return TYPED_ARRAYS[w.typed].from(w.data);
  if ('tensor' in w) {
    if (w.data === null) throw new Error('decode: the tensor was too large to send');
    const values =
      w.tensor === 'bool' ? Array.from(w.data, Boolean) : (w.data as ArrayLike<number>);
    return tf.tensor(values as number[], w.shape, w.tensor);
  }
  if ('object' in w) return Object.fromEntries(w.object.map(([k, v]) => [k, decode(v)]));
  throw new Error(`decode: ${w.other} is not a value that can be sent`);
}

/**
 * Converts a value to its numeric form, or returns a string saying why it cannot (the wrong-type
 * reason). Reads tensors synchronously; does not dispose them.
 */
export function toNumeric(value: unknown): Numeric | string {
  return wireToNumeric(encode(value));
}

/**
 * A compact one-line rendering of an input or output value, e.g. `tensor float32 [2, 3] [[1, 2,
 * ...], ...]`.
 */
export function formatValue(value: unknown, maxItems = 4): string {
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  return formatWire(encode(value), maxItems);
}
