/**
 * The form in which values cross the boundary between a notebook's kernel and the grader: the
 * inputs the grader chose, the reference's results, the answers a student's code gave. JSON with
 * exact numbers (NaN, infinities and -0 spelled out; typed arrays and tensors as base64 of their
 * bytes), and a description instead of anything that is not data (a function, a Promise,
 * undefined).
 * Free of TensorFlow.js: the grader's process reads it without loading the library's models.
 */
import { Numeric, formatFlat, formatShape } from './numeric';

export const TYPED_ARRAYS = {
  Float32Array,
  Float64Array,
  Int8Array,
  Int16Array,
  Int32Array,
  Uint8Array,
  Uint8ClampedArray,
  Uint16Array,
  Uint32Array,
} as const;
export type TypedArrayName = keyof typeof TYPED_ARRAYS;

/** The tensor dtypes that carry numbers, with the typed array `dataSync` returns for each. */
export const TENSOR_DATA = { float32: Float32Array, int32: Int32Array, bool: Uint8Array } as const;
export type TensorDtype = keyof typeof TENSOR_DATA;

export type SpecialNumber = 'NaN' | 'Infinity' | '-Infinity' | '-0';

export type Wire =
  | number
  | boolean
  | { special: SpecialNumber }
  | { string: string }
  | Wire[]
  | { typed: TypedArrayName; data: ArrayLike<number> }
  /** `data` is null when the tensor was too large to send (only its shape crossed). */
  | { tensor: TensorDtype; shape: number[]; data: ArrayLike<number> | null }
  | { object: [string, Wire][] }
  /** Not data: the description of what it was, e.g. "undefined", "a Promise". */
  | { other: string };

/** A number as a wire value (NaN, infinities and -0 spelled out, since JSON has none of them). */
export function wireNumber(x: number): Wire {
  if (Number.isNaN(x)) return { special: 'NaN' };
  if (x === Infinity) return { special: 'Infinity' };
  if (x === -Infinity) return { special: '-Infinity' };
  if (Object.is(x, -0)) return { special: '-0' };
  return x;
}

const SPECIAL_VALUES: Record<SpecialNumber, number> = {
  NaN: NaN,
  Infinity: Infinity,
  '-Infinity': -Infinity,
  '-0': -0,
};

function isRecord(w: unknown): w is Record<string, unknown> {
  return typeof w === 'object' && w !== null && !Array.isArray(w);
}

/** The number a scalar wire value holds, or undefined if it is not a number. */
function scalarOf(w: Wire): number | undefined {
  if (typeof w === 'number') return w;
  if (typeof w === 'boolean') return Number(w);
  if (isRecord(w) && 'special' in w) return SPECIAL_VALUES[w.special];
  return undefined;
}

/** The shape of a rectangular nested array of numbers, or null if it is not one. */
function nestedShape(w: Wire): number[] | null {
  if (scalarOf(w) !== undefined) return [];
  if (!Array.isArray(w)) return null;
  if (w.length === 0) return [0];
  const inner = nestedShape(w[0]);
  if (inner == null) return null;
  for (let i = 1; i < w.length; i++) {
    const s = nestedShape(w[i]);
    if (s == null || s.length !== inner.length || s.some((d, k) => d !== inner[k])) return null;
  }
  return [w.length, ...inner];
}

function flatten(w: Wire, out: number[]): number[] {
  if (Array.isArray(w)) for (const item of w) flatten(item, out);
  else out.push(scalarOf(w) as number);
  return out;
}

/**
 * The numeric form of a wire value, or a string saying in words what it is when it is not numeric
 * (the "wrong type" reason), e.g. "a string", "undefined", "an array whose element 2 is null".
 */
export function wireToNumeric(w: Wire): Numeric | string {
  const scalar = scalarOf(w);
  if (scalar !== undefined) return { kind: 'dense', shape: [], values: [scalar], dtype: 'number' };
  if (Array.isArray(w)) {
    const shape = nestedShape(w);
    if (shape != null) return { kind: 'dense', shape, values: flatten(w, []), dtype: 'number' };
    const items: Numeric[] = [];
    for (let i = 0; i < w.length; i++) {
      const item = wireToNumeric(w[i]);
      if (typeof item === 'string') return `an array whose element ${i} is ${item}`;
      items.push(item);
    }
    return { kind: 'tuple', items };
  }
  if (typeof w !== 'object') return `a ${typeof w}`;
  if ('typed' in w)
    return { kind: 'dense', shape: [w.data.length], values: w.data, dtype: w.typed };
  if ('tensor' in w) {
    if (w.data === null) {
      const size = w.shape.reduce((a, b) => a * b, 1);
      const shape = formatShape(w.shape);
      return `a ${w.tensor} tensor of shape ${shape} (${size} entries: too large to compare)`;
    }
    return { kind: 'dense', shape: w.shape, values: w.data, dtype: w.tensor };
  }
  if ('object' in w) {
    const entries: [string, Numeric][] = [];
    for (const [key, value] of w.object) {
      const item = wireToNumeric(value);
      if (typeof item === 'string') return `an object whose field '${key}' is ${item}`;
      entries.push([key, item]);
    }
    return { kind: 'record', entries };
  }
  if ('string' in w) return 'a string';
  return (w as { other: string }).other;
}

/**
 * A compact one-line rendering, e.g. `tensor float32 [2, 3] [[1, 2, ...], ...]`, `[1, 2, 3, 4,
 * ...]`, `{ mean: 0.5, std: 1 }`.
 */
export function formatWire(w: Wire, maxItems = 4): string {
  const numeric = wireToNumeric(w);
  if (typeof numeric !== 'string' && numeric.kind === 'dense') {
    const body = formatFlat(numeric.values, numeric.shape, maxItems);
    return isRecord(w) && 'tensor' in w
      ? `tensor ${w.tensor} ${formatShape(w.shape)} ${body}`
      : body;
  }
  if (Array.isArray(w)) return `[${w.map((item) => formatWire(item, maxItems)).join(', ')}]`;
  if (typeof w !== 'object') return String(w);
  if ('object' in w)
    return `{ ${w.object.map(([k, v]) => `${k}: ${formatWire(v, maxItems)}`).join(', ')} }`;
  if ('string' in w)
    return JSON.stringify(w.string.length > 40 ? `${w.string.slice(0, 40)}...` : w.string);
  if ('tensor' in w) return `tensor ${w.tensor} ${formatShape(w.shape)} (too large to show)`;
  return (w as { other: string }).other;
}

function bytesOf(data: ArrayLike<number>, type: (typeof TYPED_ARRAYS)[TypedArrayName]): string {
  const array = data instanceof type ? data : type.from(data as ArrayLike<number>);
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');
}

/** The JSON form of a wire value (typed data as base64 of its little-endian bytes). */
export function wireToJson(w: Wire): unknown {
  if (Array.isArray(w)) return w.map(wireToJson);
  if (!isRecord(w)) return w;
  if ('typed' in w) return { typed: w.typed, data: bytesOf(w.data, TYPED_ARRAYS[w.typed]) };
  if ('tensor' in w)
    return {
      tensor: w.tensor,
      shape: w.shape,
      data: w.data === null ? null : bytesOf(w.data, TENSOR_DATA[w.tensor]),
    };
  if ('object' in w) return { object: w.object.map(([k, v]) => [k, wireToJson(v)]) };
  return w;
}

/** Limits on a wire value read from an untrusted source. */
export interface WireLimits {
  /** Nesting depth (default 64). */
  maxDepth?: number;
  /** Numbers in all (default 2^24). */
  maxEntries?: number;
  /** Characters of one string (default 100,000). */
  maxString?: number;
}

function decodeBytes(
  b64: unknown,
  type: (typeof TYPED_ARRAYS)[TypedArrayName],
  where: string,
): ArrayLike<number> {
  if (typeof b64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64))
    throw new Error(`${where}: data is not base64`);
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.byteLength % type.BYTES_PER_ELEMENT !== 0)
    throw new Error(`${where}: ${bytes.byteLength} bytes do not make whole ${type.name} entries`);
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new type(copy.buffer);
}

/**
 * Reads a wire value from its JSON form, checking every part of it (the answers of a student's
 * kernel are untrusted): throws an Error naming the first malformed part.
 */
export function wireFromJson(json: unknown, limits: WireLimits = {}): Wire {
  const maxDepth = limits.maxDepth ?? 64;
  const maxString = limits.maxString ?? 100_000;
  let budget = limits.maxEntries ?? 2 ** 24;
  const spend = (n: number, where: string) => {
    budget -= n;
    if (budget < 0) throw new Error(`${where}: too many numbers`);
  };
  const read = (j: unknown, where: string, depth: number): Wire => {
    if (depth > maxDepth) throw new Error(`${where}: nested too deeply`);
    if (typeof j === 'number') {
      spend(1, where);
      return j;
    }
    if (typeof j === 'boolean') return j;
    if (Array.isArray(j)) return j.map((item, i) => read(item, `${where}[${i}]`, depth + 1));
    if (!isRecord(j)) throw new Error(`${where}: ${JSON.stringify(j)} is not a wire value`);
    const keys = Object.keys(j);
    const key = keys[0];
    const only = (...allowed: string[]) => {
      if (keys.some((k) => !allowed.includes(k)))
        throw new Error(`${where}: unexpected fields ${keys.join(', ')}`);
    };
    if (key === 'special') {
      only('special');
      if (!(typeof j.special === 'string' && j.special in SPECIAL_VALUES))
        throw new Error(`${where}: unknown special number ${JSON.stringify(j.special)}`);
      return { special: j.special as SpecialNumber };
    }
    if (key === 'string' || key === 'other') {
      only(key);
      const text = j[key];
      if (typeof text !== 'string' || text.length > maxString)
        throw new Error(`${where}: ${key} must be a string of at most ${maxString} characters`);
      return key === 'string' ? { string: text } : { other: text };
    }
    if (key === 'typed') {
      only('typed', 'data');
      if (!(typeof j.typed === 'string' && j.typed in TYPED_ARRAYS))
        throw new Error(`${where}: unknown typed array ${JSON.stringify(j.typed)}`);
      const typed = j.typed as TypedArrayName;
      const data = decodeBytes(j.data, TYPED_ARRAYS[typed], where);
      spend(data.length, where);
      return { typed, data };
    }
    if (key === 'tensor') {
      only('tensor', 'shape', 'data');
      if (!(typeof j.tensor === 'string' && j.tensor in TENSOR_DATA))
        throw new Error(`${where}: unknown tensor dtype ${JSON.stringify(j.tensor)}`);
      const dtype = j.tensor as TensorDtype;
      const shape = j.shape;
      if (
        !Array.isArray(shape) ||
        shape.length > 16 ||
        !shape.every((d) => Number.isInteger(d) && d >= 0)
      )
        throw new Error(`${where}: tensor shape ${JSON.stringify(shape)} is not a list of sizes`);
      const size = (shape as number[]).reduce((a, b) => a * b, 1);
      if (j.data === null) return { tensor: dtype, shape: shape as number[], data: null };
      const data = decodeBytes(j.data, TENSOR_DATA[dtype], where);
      if (data.length !== size)
        throw new Error(`${where}: ${data.length} values for a tensor of shape [${shape}]`);
      spend(size, where);
      return { tensor: dtype, shape: shape as number[], data };
    }
    if (key === 'object') {
      only('object');
      if (!Array.isArray(j.object)) throw new Error(`${where}: object must be a list of entries`);
      return {
        object: j.object.map((entry, i) => {
          if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string')
            throw new Error(`${where}.object[${i}]: not a [name, value] pair`);
          return [entry[0], read(entry[1], `${where}.${entry[0]}`, depth + 1)] as [string, Wire];
        }),
      };
    }
    throw new Error(`${where}: unknown wire value with fields ${keys.join(', ') || '(none)'}`);
  };
  return read(json, 'value', 0);
}
