/**
 * Verdicts: whether an answer agrees with the reference, and if not, what is wrong in words (which
 * input, which entry, expected vs got). The same functions judge in a notebook (`grading.check`
 * run by a student) and in the grader's own process, which compares the answers a submission's
 * kernel sent with references it computed itself. Free of TensorFlow.js.
 */
import { CheckErrorKind } from './errors';
import { Numeric, formatNumber, formatShape, unravel } from './numeric';
import { Wire, formatWire, wireToNumeric } from './wire';

export interface Tolerance {
  /** Relative tolerance: |got - expected| <= atol + rtol * |expected| entrywise (default 1e-6). */
  rtol?: number;
  /** Absolute tolerance (default 1e-8). */
  atol?: number;
}

/**
 * Default tolerances. float32 tensors carry about 7 significant digits, so a correct answer
 * computed in a different order (or by an equivalent formula) can differ from the reference by
 * ~1e-6 relative; when either side is a float32 tensor and no tolerance is given, the float32
 * defaults apply.
 */
export const DEFAULT_TOLERANCE = { rtol: 1e-6, atol: 1e-8 } as const;
export const FLOAT32_TOLERANCE = { rtol: 1e-4, atol: 1e-6 } as const;

/** What is wrong with an answer. */
export interface Failure {
  kind: CheckErrorKind;
  message: string;
}

/** What running the student's code gave: a value, or the error it threw. */
export type Outcome = { value: Wire } | { error: { name: string; message: string } };

export function validateTolerance(where: string, tolerance: Tolerance): void {
  for (const key of ['rtol', 'atol'] as const) {
    const value = tolerance[key];
    if (
      value !== undefined &&
      !(typeof value === 'number' && value >= 0 && Number.isFinite(value))
    ) {
      throw new Error(`${where}: ${key} must be a finite number >= 0, got ${String(value)}`);
    }
  }
}

function hasFloat32(value: Numeric): boolean {
  if (value.kind === 'dense') return value.dtype === 'float32' || value.dtype === 'Float32Array';
  if (value.kind === 'tuple') return value.items.some(hasFloat32);
  return value.entries.some(([, v]) => hasFloat32(v));
}

function resolveTolerance(
  tolerance: Tolerance,
  actual: Numeric,
  expected: Numeric,
): { rtol: number; atol: number } {
  const defaults =
    hasFloat32(actual) || hasFloat32(expected) ? FLOAT32_TOLERANCE : DEFAULT_TOLERANCE;
  return { rtol: tolerance.rtol ?? defaults.rtol, atol: tolerance.atol ?? defaults.atol };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length === b.length) return a.every((d, i) => d === b[i]);
  // A scalar and a one-entry vector hold the same single value.
  const size = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);
  return (
    Math.min(a.length, b.length) === 0 &&
    Math.max(a.length, b.length) === 1 &&
    size(a) === 1 &&
    size(b) === 1
  );
}

/** The structure of a numeric value in words, e.g. "an array/tensor of shape [3, 2]". */
export function structure(value: Numeric): string {
  if (value.kind === 'dense')
    return value.shape.length === 0
      ? 'a number'
      : `an array/tensor of shape ${formatShape(value.shape)}`;
  if (value.kind === 'tuple') return `a list of ${value.items.length} values`;
  return `an object with fields ${value.entries.map(([k]) => `'${k}'`).join(', ')}`;
}

function at(shape: readonly number[], flat: number): string {
  return shape.length === 0 ? '' : ` at index ${formatShape(unravel(flat, shape))}`;
}

/**
 * The first difference between `actual` and `expected`, or null when they agree within tolerance.
 */
function compare(
  actual: Numeric,
  expected: Numeric,
  tol: { rtol: number; atol: number },
  label: string,
): Failure | null {
  const prefix = label === '' ? '' : `${label}: `;
  const wrongType = (): Failure => ({
    kind: 'type',
    message: `${prefix}wrong type: expected ${structure(expected)}, got ${structure(actual)}`,
  });
  if (expected.kind === 'tuple') {
    if (actual.kind !== 'tuple' || actual.items.length !== expected.items.length)
      return wrongType();
    for (let i = 0; i < expected.items.length; i++) {
      const p = compare(actual.items[i], expected.items[i], tol, `${prefix}element ${i}`);
      if (p) return p;
    }
    return null;
  }
  if (expected.kind === 'record') {
    if (actual.kind !== 'record') return wrongType();
    const fields = new Map(actual.entries);
    for (const [key, value] of expected.entries) {
      const got = fields.get(key);
      if (got === undefined)
        return {
          kind: 'type',
          message:
            `${prefix}wrong type: the result has no field '${key}' (expected ` +
            `${structure(expected)})`,
        };
      const p = compare(got, value, tol, `${prefix}field '${key}'`);
      if (p) return p;
    }
    return null;
  }
  if (actual.kind !== 'dense') return wrongType();
  if (!sameShape(actual.shape, expected.shape)) {
    return {
      kind: 'shape',
      message:
        `${prefix}wrong shape: expected ${formatShape(expected.shape)}, got ` +
        `${formatShape(actual.shape)}`,
    };
  }
  let firstWrong = -1;
  let wrong = 0;
  for (let i = 0; i < expected.values.length; i++) {
    const e = expected.values[i];
    const a = actual.values[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!Number.isFinite(a) && Number.isFinite(e)) {
      return {
        kind: 'nonfinite',
        message:
          `${prefix}got ${a}${at(expected.shape, i)} where the reference gives ` +
          `${formatNumber(e)}`,
      };
    }
    const ok = Number.isFinite(e) ? Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e) : a === e;
    if (!ok) {
      wrong++;
      if (firstWrong < 0) firstWrong = i;
    }
  }
  if (firstWrong < 0) return null;
  const e = expected.values[firstWrong];
  const a = actual.values[firstWrong];
  const error = Math.abs(a - e);
  const relative =
    e !== 0 && Number.isFinite(error) ? `, relative ${formatNumber(error / Math.abs(e))}` : '';
  const count =
    expected.values.length > 1 ? ` (${wrong} of ${expected.values.length} entries differ)` : '';
  return {
    kind: 'value',
    message:
      `${prefix}wrong value${at(expected.shape, firstWrong)}: expected ${formatNumber(e)}, got ` +
      `${formatNumber(a)}` +
      ` (error ${formatNumber(error)}${relative}; tolerance atol ${tol.atol} + rtol ${tol.rtol} ` +
      `x |expected|)${count}`,
  };
}

/** The numeric form of a reference value; throws (a problem with the test) if it has none. */
export function expectedNumeric(expected: Wire, where: string, what = 'value'): Numeric {
  const e = wireToNumeric(expected);
  if (typeof e === 'string')
    throw new Error(`${where}: the expected ${what} must be a number, array or tensor, got ${e}`);
  return e;
}

/** Compares a value with the expected one (`checkClose`): null when they agree. */
export function judgeValue(
  actual: Wire,
  expected: Wire,
  tolerance: Tolerance,
  what: string,
): Failure | null {
  const e = expectedNumeric(expected, what);
  const a = wireToNumeric(actual);
  if (typeof a === 'string')
    return { kind: 'type', message: `${what}: wrong type: expected ${structure(e)}, got ${a}` };
  return compare(a, e, resolveTolerance(tolerance, a, e), what);
}

function describeWrongType(got: string, expected: Numeric): string {
  const hint =
    got === 'undefined'
      ? ' (did you forget to `return` the result?)'
      : got === 'a Promise'
        ? ' (remove `async`: the function should return the value itself)'
        : '';
  return `wrong type: expected ${structure(expected)}, got ${got}${hint}`;
}

/** The failure of code that threw: not implemented yet (the stub), or which error. */
export function thrown(name: string, error: { name: string; message: string }): Failure {
  if (error.name === 'NotImplementedError')
    return {
      kind: 'not-implemented',
      message:
        `${name}: not implemented yet (the exercise cell still throws the stub; write your ` +
        `solution in its place and run the cell)`,
    };
  return { kind: 'threw', message: `${name} threw ${error.name}: ${error.message}` };
}

/**
 * One trial of `check`: the student's outcome on `input` (already formatted) against the
 * reference's result; null when they agree.
 */
export function judgeTrial(
  name: string,
  input: string,
  expected: Wire,
  outcome: Outcome,
  tolerance: Tolerance,
): Failure | null {
  if ('error' in outcome) {
    const failure = thrown(name, outcome.error);
    return failure.kind === 'threw'
      ? { ...failure, message: `${failure.message} on input ${input}` }
      : failure;
  }
  const e = expectedNumeric(expected, name);
  const a = wireToNumeric(outcome.value);
  if (typeof a === 'string')
    return { kind: 'type', message: `${name}: ${describeWrongType(a, e)} on input ${input}` };
  const problem = compare(a, e, resolveTolerance(tolerance, a, e), '');
  return problem && { ...problem, message: `${name}: ${problem.message} on input ${input}` };
}

/** The arguments of one trial as `(x=1, y=[1, 2])`, with parameter names when they are known. */
export function formatArgs(args: Wire[], names: string[] | null): string {
  const labelled = names != null && names.length === args.length;
  return `(${args.map((a, i) => `${labelled ? `${names[i]}=` : ''}${formatWire(a)}`).join(', ')})`;
}

/** The range an experiment's result must fall in; either end may be open. */
export interface Range {
  min?: number;
  max?: number;
}

export function validateRange(where: string, range: Range): void {
  if (range == null || typeof range !== 'object')
    throw new Error(`${where}: give the range as { min, max }`);
  const { min, max } = range;
  for (const [key, value] of [
    ['min', min],
    ['max', max],
  ] as const) {
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value)))
      throw new Error(`${where}: ${key} must be a finite number, got ${String(value)}`);
  }
  if (min === undefined && max === undefined) throw new Error(`${where}: give min, max or both`);
  if (min !== undefined && max !== undefined && !(min <= max))
    throw new Error(`${where}: min ${min} is above max ${max}`);
}

function describeRange({ min, max }: Range): string {
  if (min !== undefined && max !== undefined)
    return `between ${formatNumber(min)} and ${formatNumber(max)}`;
  return min !== undefined ? `at least ${formatNumber(min)}` : `at most ${formatNumber(max!)}`;
}

/** An experiment's number against the accepted range (`checkRange`): null when inside. */
export function judgeRange(actual: Wire, range: Range, what: string): Failure | null {
  const a = wireToNumeric(actual);
  const expectation = `a number ${describeRange(range)}`;
  if (typeof a === 'string' || a.kind !== 'dense' || a.values.length !== 1)
    return {
      kind: 'type',
      message: `${what}: expected ${expectation}, got ${typeof a === 'string' ? a : structure(a)}`,
    };
  const x = a.values[0];
  const inside =
    Number.isFinite(x) &&
    (range.min === undefined || x >= range.min) &&
    (range.max === undefined || x <= range.max);
  if (inside) return null;
  return {
    kind: Number.isFinite(x) ? 'range' : 'nonfinite',
    message: `${what}: got ${formatNumber(x)}, expected ${expectation}`,
  };
}

/** The answer to a question (`checkAnswer`): a choice or word, or a number within a tolerance. */
export interface AnswerOptions extends Tolerance {
  /** The valid answers of a multiple-choice question, e.g. ['a', 'b', 'c']. */
  choices?: string[];
}

/** How answers in words are compared: case, surrounding and repeated spaces do not matter. */
export function normalizeAnswer(text: string): string {
  return text.trim().replace(/\s+/g, ' ').toLowerCase();
}

export function validateAnswer(where: string, expected: unknown, options: AnswerOptions): void {
  validateTolerance(where, options);
  if (typeof expected === 'number') {
    if (!Number.isFinite(expected))
      throw new Error(`${where}: the expected answer must be finite, got ${expected}`);
    if (options.choices !== undefined)
      throw new Error(
        `${where}: choices are for answers in words, the expected answer is a number`,
      );
    return;
  }
  if (typeof expected !== 'string' || normalizeAnswer(expected) === '')
    throw new Error(`${where}: the expected answer must be a number or a non-empty string`);
  if (options.choices !== undefined) {
    const choices = options.choices;
    if (
      !Array.isArray(choices) ||
      choices.length < 2 ||
      !choices.every((c) => typeof c === 'string')
    )
      throw new Error(`${where}: choices must be a list of at least two strings`);
    if (!choices.map(normalizeAnswer).includes(normalizeAnswer(expected)))
      throw new Error(`${where}: the expected answer '${expected}' is not one of the choices`);
  }
}

/**
 * An answer against the expected one; null when right. The message never shows the expected
 * answer (a question has one answer, unlike a function checked on random inputs).
 */
export function judgeAnswer(
  actual: Wire,
  expected: string | number,
  options: AnswerOptions,
  what: string,
): Failure | null {
  if (typeof expected === 'number') {
    const a = wireToNumeric(actual);
    if (typeof a === 'string' || a.kind !== 'dense' || a.values.length !== 1)
      return {
        kind: 'type',
        message: `${what}: expected a number, got ${typeof a === 'string' ? a : structure(a)}`,
      };
    const x = a.values[0];
    const tol = {
      rtol: options.rtol ?? DEFAULT_TOLERANCE.rtol,
      atol: options.atol ?? DEFAULT_TOLERANCE.atol,
    };
    if (Math.abs(x - expected) <= tol.atol + tol.rtol * Math.abs(expected)) return null;
    return { kind: 'answer', message: `${what}: ${formatNumber(x)} is not the right answer` };
  }
  if (!(typeof actual === 'object' && actual !== null && 'string' in actual)) {
    const got = wireToNumeric(actual);
    return {
      kind: 'type',
      message:
        `${what}: expected an answer in words (a string), got ` +
        `${typeof got === 'string' ? got : structure(got)}`,
    };
  }
  const given = normalizeAnswer(actual.string);
  const shown = JSON.stringify(
    actual.string.length > 40 ? `${actual.string.slice(0, 40)}...` : actual.string,
  );
  if (options.choices && !options.choices.map(normalizeAnswer).includes(given))
    return {
      kind: 'answer',
      message: `${what}: ${shown} is not one of the choices ${options.choices.join(', ')}`,
    };
  if (given === normalizeAnswer(expected)) return null;
  return { kind: 'answer', message: `${what}: ${shown} is not the right answer` };
}
