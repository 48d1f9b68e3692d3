/**
 * Argument checks shared by the whole library. Public functions check what they are given with
 * these, so a wrong value fails at once, before it trains a different model or flows on as NaN,
 * with one kind of message: `${who}: ${name} must be ${requirement}, got ${value}`. An options
 * object with an unknown key (a typo) is refused with the valid keys listed.
 */
import * as tf from '@tensorflow/tfjs';

/** A value as messages show it: numbers and strings as written, arrays and objects as JSON. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  if (value === undefined || value === null) return String(value);
  if (value instanceof tf.Tensor) return `a ${value.dtype} tensor of shape [${value.shape}]`;
  if (typeof value === 'function') return 'a function';
  let text: string;
  try {
    text = JSON.stringify(value, (_, v) => (typeof v === 'number' && !isFinite(v) ? `${v}` : v));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function fail(who: string, name: string, requirement: string, value: unknown, advice = ''): never {
  const got = describeValue(value);
  throw new Error(
    `${who}: ${name} must be ${requirement}, got ${got}${advice ? `. ${advice}` : ''}`,
  );
}

/**
 * Every key of an options type, each mapped to true: a list the compiler keeps complete (a key
 * added to the type and not here, or listed here and not in the type, is a type error).
 */
export type OptionKeys<T> = { readonly [K in keyof Required<T>]: true };

/** Edit distance of two short strings (for "did you mean"). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * The valid key closest to `key`, if one is close: case-insensitive, where one that starts with the
 * other counts as closer than any edit (the nearer in length the closer).
 */
function nearest(key: string, valid: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of valid) {
    const c = candidate.toLowerCase();
    const prefix = c.startsWith(lower) || lower.startsWith(c);
    const lengths = [c.length, lower.length].sort((a, b) => a - b);
    const d = prefix ? 1 - lengths[0] / lengths[1] : editDistance(lower, c);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(1, Math.floor(key.length / 3)) ? best : undefined;
}

/**
 * Throws unless `options` is undefined or a plain object whose keys are all in `keys`: a misspelled
 * option must never silently fall back to its default. The message names the unknown key, suggests
 * the closest valid one and lists them all.
 */
export function checkOptions<T extends object>(
  who: string,
  options: T | undefined,
  keys: OptionKeys<T>,
): void {
  checkOptionNames(who, options, Object.keys(keys));
}

/** `checkOptions` with the valid keys as a list (for options types built at run time). */
export function checkOptionNames(who: string, options: unknown, valid: readonly string[]): void {
  if (options === undefined) return;
  if (
    options === null ||
    typeof options !== 'object' ||
    Array.isArray(options) ||
    options instanceof tf.Tensor
  )
    fail(who, 'options', `an object with keys among ${valid.join(', ')}`, options);
  const unknown = Object.keys(options).filter((k) => !valid.includes(k));
  if (unknown.length === 0) return;
  const key = unknown[0];
  const guess = nearest(key, valid);
  throw new Error(
    `${who}: unknown option '${key}'${guess ? ` (did you mean '${guess}'?)` : ''}; the options ` +
      `are ${valid.join(', ')}`,
  );
}

export function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

/** Throws unless `value` is an integer >= min (and <= max). */
export function checkInteger(
  who: string,
  name: string,
  value: unknown,
  min = 1,
  max = Infinity,
): void {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return;
  const requirement =
    max !== Infinity
      ? `an integer in [${min}, ${max}]`
      : min === 1
        ? 'a positive integer'
        : min === 0
          ? 'a non-negative integer'
          : `an integer >= ${min}`;
  fail(who, name, requirement, value);
}

/** Throws unless `value` is a finite number. */
export function checkFinite(who: string, name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value))
    fail(who, name, 'a finite number', value);
}

/** Throws unless `value` is a finite number > 0. */
export function checkPositive(who: string, name: string, value: unknown): void {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value))
    fail(who, name, 'a finite number > 0', value);
}

/** Throws unless `value` is a finite number >= 0. */
export function checkNonNegative(who: string, name: string, value: unknown): void {
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value))
    fail(who, name, 'a finite number >= 0', value);
}

/**
 * Throws unless `value` is a number in the interval from `low` to `high`; `bounds` says which ends
 * are included, as written in mathematics ('[]' closed, '()' open, '[)', '(]').
 */
export function checkInterval(
  who: string,
  name: string,
  value: unknown,
  low: number,
  high: number,
  bounds: '[]' | '()' | '[)' | '(]' = '[]',
): void {
  const aboveLow = bounds[0] === '[' ? (value as number) >= low : (value as number) > low;
  const belowHigh = bounds[1] === ']' ? (value as number) <= high : (value as number) < high;
  if (typeof value !== 'number' || !aboveLow || !belowHigh)
    fail(who, name, `a number in ${bounds[0]}${low}, ${high}${bounds[1]}`, value);
}

/** Throws unless `value` is one of `choices`. */
export function checkOneOf<T>(who: string, name: string, value: unknown, choices: readonly T[]): T {
  if (!choices.includes(value as T))
    fail(who, name, `one of ${choices.map(describeValue).join(', ')}`, value);
  return value as T;
}

/** Throws unless `value` is a plain object (not null, not an array); returns it as a record. */
export function checkRecord(who: string, name: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(who, name, 'an object', value);
  return value as Record<string, unknown>;
}

/**
 * Throws unless `value` is an array whose every item passes `isItem`; `item` says what an item must
 * be (e.g. 'a positive integer').
 */
export function checkArray(
  who: string,
  name: string,
  value: unknown,
  isItem: (item: unknown) => boolean,
  item: string,
): void {
  if (!Array.isArray(value)) fail(who, name, `a list, each item ${item}`, value);
  const bad = value.findIndex((v) => !isItem(v));
  if (bad >= 0) fail(who, `${name}[${bad}]`, item, value[bad]);
}

/** Throws unless `value` is a function. */
export function checkFunction(who: string, name: string, value: unknown): void {
  if (typeof value !== 'function') fail(who, name, 'a function', value);
}

/**
 * Whether `shape` matches `expected`: a number is an exact size, a string names a free one (e.g.
 * ['n', 784] matches [128, 784], not [128, 28, 28]).
 */
export function shapeMatches(shape: readonly number[], expected: Array<number | string>): boolean {
  return (
    shape.length === expected.length &&
    expected.every((d, i) => typeof d === 'string' || d === shape[i])
  );
}

/** Throws unless `t` has the expected shape (see `shapeMatches`), e.g. ['n', 784]. */
export function checkShape(
  who: string,
  name: string,
  t: { shape: number[] },
  expected: Array<number | string>,
  advice = '',
): void {
  if (!shapeMatches(t.shape, expected))
    throw new Error(
      `${who}: ${name} must have shape [${expected.join(', ')}], got [${t.shape.join(', ')}]` +
        (advice ? `. ${advice}` : ''),
    );
}

function formatIndex(flat: number, shape: number[]): string {
  if (shape.length === 0) return '';
  const index: number[] = [];
  for (let i = shape.length - 1; i >= 0; i--) {
    index.unshift(flat % shape[i]);
    flat = Math.floor(flat / shape[i]);
  }
  return ` at index [${index.join(', ')}]`;
}

/**
 * Throws `${who}: ${name} must be ${requirement}, got ${v} at index [...]` for the first element
 * of `values` (a tensor, read back once, or an array) failing `ok`; NaN always fails. One pass over
 * the values: check a data set once, not every batch drawn from it.
 */
export function checkValues(
  who: string,
  name: string,
  values: tf.Tensor | ArrayLike<number>,
  ok: (v: number) => boolean,
  requirement: string,
  advice = '',
): void {
  const data = values instanceof tf.Tensor ? values.dataSync() : values;
  const shape = values instanceof tf.Tensor ? values.shape : [data.length];
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (Number.isNaN(v) || !ok(v)) {
      throw new Error(
        `${who}: ${name} must be ${requirement}, got ${v}${formatIndex(i, shape)}` +
          (advice ? `. ${advice}` : ''),
      );
    }
  }
}

/** Throws unless every value is finite (no NaN, no infinity). */
export function checkFiniteValues(
  who: string,
  name: string,
  values: tf.Tensor | ArrayLike<number>,
  advice = '',
): void {
  checkValues(who, name, values, Number.isFinite, 'finite', advice);
}

/** Tensors made from a checked data set, known to hold pixel values in [0, 1]. */
const checkedPixels = new WeakSet<tf.Tensor>();

/**
 * Records that `t` holds pixel values in [0, 1] because it was made from a data set checked once
 * (a batch of an ImageDataset), so that `checkPixels` on it costs nothing in a training loop.
 */
export function vouchForPixels<T extends tf.Tensor>(t: T): T {
  checkedPixels.add(t);
  return t;
}

/**
 * Throws unless every value of `x` is a pixel intensity in [0, 1] (not NaN): read back and checked,
 * unless `x` is a batch of a checked data set (see vouchForPixels).
 */
export function checkPixels(who: string, name: string, x: tf.Tensor): void {
  if (checkedPixels.has(x)) return;
  checkValues(
    who,
    name,
    x,
    (v) => v >= 0 && v <= 1,
    'pixel intensities in [0, 1]',
    'Scale raw bytes by 1/255 (data.loadMnist does)',
  );
}
