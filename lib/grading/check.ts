/**
 * Checks students run in the notebooks: compare their function with the library's reference on
 * random inputs, and say what is wrong (which input, which entry, expected vs got), not just
 * "failed".
 */
import * as tf from '@tensorflow/tfjs';
import { inNotebook } from '../runtime/display';
import { CheckError, isNotImplemented } from './errors';
import {
  Numeric,
  formatNumber,
  formatShape,
  formatValue,
  toNumeric,
  typeName,
  unravel,
} from './values';

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

export interface CheckOptions extends Tolerance {
  /** Draws the arguments of one trial, e.g. `() => [runtime.randn(), 0.5 + runtime.random()]`. */
  inputs: () => unknown[];
  /** Number of random inputs to try (default 20). */
  trials?: number;
  /** Name of the exercise in messages (default: the student's function name). */
  name?: string;
}

interface Problem {
  kind: 'type' | 'shape' | 'nonfinite' | 'value';
  message: string;
}

function validateTolerance(where: string, tolerance: Tolerance): void {
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

function structure(value: Numeric): string {
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
): Problem | null {
  const prefix = label === '' ? '' : `${label}: `;
  if (expected.kind === 'tuple') {
    if (actual.kind !== 'tuple' || actual.items.length !== expected.items.length) {
      return {
        kind: 'type',
        message: `${prefix}wrong type: expected ${structure(expected)}, got ${structure(actual)}`,
      };
    }
    for (let i = 0; i < expected.items.length; i++) {
      const p = compare(actual.items[i], expected.items[i], tol, `${prefix}element ${i}`);
      if (p) return p;
    }
    return null;
  }
  if (expected.kind === 'record') {
    if (actual.kind !== 'record') {
      return {
        kind: 'type',
        message: `${prefix}wrong type: expected ${structure(expected)}, got ${structure(actual)}`,
      };
    }
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
  if (actual.kind !== 'dense') {
    return {
      kind: 'type',
      message: `${prefix}wrong type: expected ${structure(expected)}, got ${structure(actual)}`,
    };
  }
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

/**
 * Compares a value with the expected one (numbers, nested arrays, typed arrays, tensors, lists or
 * objects of them) and throws a `CheckError` naming `what` and the first difference: wrong type,
 * wrong shape, NaN/Infinity, or the first entry outside `atol + rtol * |expected|`. Does not
 * dispose its arguments.
 */
export function checkClose(
  actual: unknown,
  expected: unknown,
  options: Tolerance & { what?: string } = {},
): void {
  validateTolerance('checkClose', options);
  const what = options.what ?? 'value';
  const e = toNumeric(expected);
  if (typeof e === 'string') {
    throw new Error(`checkClose: the expected ${what} must be a number, array or tensor, got ${e}`);
  }
  const a = toNumeric(actual);
  if (typeof a === 'string') {
    throw new CheckError('type', `${what}: wrong type: expected ${structure(e)}, got ${a}`);
  }
  const problem = compare(a, e, resolveTolerance(options, a, e), what);
  if (problem) throw new CheckError(problem.kind, problem.message);
}

/**
 * Parameter names of a plain function (from its source), or null when they cannot be read reliably.
 */
function parameterNames(fn: object): string[] | null {
  const source = Function.prototype.toString.call(fn);
  const match =
    /^(?:async\s*)?(?:function\b[^(]*)?\(([^()]*)\)/.exec(source) ??
    /^(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(source);
  if (!match) return null;
  const names = match[1]
    .split(',')
    .map((p) => p.replace(/=.*$/s, '').trim())
    .filter((p) => p !== '');
  return names.every((n) => /^[A-Za-z_$][\w$]*$/.test(n)) ? names : null;
}

function formatArgs(args: unknown[], names: string[] | null): string {
  const labelled = names != null && names.length === args.length;
  return `(${args.map((a, i) => `${labelled ? `${names[i]}=` : ''}${formatValue(a)}`).join(', ')})`;
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

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Calls `student` and `reference` on `trials` random inputs from `inputs()` and throws a
 * `CheckError` on the first disagreement: not implemented yet, threw an error (which), wrong type,
 * wrong shape, NaN/Infinity, or wrong value (expected vs got), each with the input shown compactly.
 * Tensors created during a trial (inputs, results) are disposed. Returns nothing (so a test cell
 * prints nothing else); in a notebook, prints one line on success.
 *
 *   grading.check(gaussianKl, distributions.gaussianKl, {
 *     inputs: () => [runtime.randn(), 0.5 + runtime.random(), 0, 1],
 *   });
 */
export function check(student: unknown, reference: unknown, options: CheckOptions): void {
  if (typeof student !== 'function') {
    throw new CheckError(
      'type',
      `check: the function to check is ${typeName(student)}; run the exercise cell that defines ` +
        `it first`,
    );
  }
  if (typeof reference !== 'function')
    throw new Error(`check: the reference must be a function, got ${typeName(reference)}`);
  if (options == null || typeof options.inputs !== 'function') {
    throw new Error(
      'check: options.inputs must be a function returning the argument list of one trial, e.g. { ' +
        'inputs: () => [runtime.randn()] }',
    );
  }
  const trials = options.trials ?? 20;
  if (!Number.isInteger(trials) || trials < 1)
    throw new Error(`check: trials must be a positive integer, got ${trials}`);
  validateTolerance('check', options);
  const name = options.name ?? (student.name || 'your function');
  const names = parameterNames(student) ?? parameterNames(reference);

  for (let trial = 0; trial < trials; trial++) {
    tf.tidy(() => {
      let args: unknown[];
      try {
        args = options.inputs();
      } catch (error) {
        throw new CheckError(
          'test',
          `${name}: the test's input generator threw ${errorText(error)} (a problem with the ` +
            `test, not your answer)`,
        );
      }
      if (!Array.isArray(args)) {
        throw new Error(
          `check: options.inputs must return an array of arguments, got ${typeName(args)}`,
        );
      }
      const input = formatArgs(args, names);
      let expectedValue: unknown;
      try {
        expectedValue = reference(...args);
      } catch (error) {
        throw new CheckError(
          'test',
          `${name}: the reference threw ${errorText(error)} on input ${input} (a problem with ` +
            `the test, not your answer)`,
        );
      }
      const expected = toNumeric(expectedValue);
      if (typeof expected === 'string') {
        throw new CheckError(
          'test',
          `${name}: the reference returned ${expected}, which check cannot compare (a problem ` +
            `with the test)`,
        );
      }
      let actualValue: unknown;
      try {
        actualValue = student(...args);
      } catch (error) {
        if (isNotImplemented(error)) {
          throw new CheckError(
            'not-implemented',
            `${name}: not implemented yet (the exercise cell still throws the stub; write your ` +
              `solution in its place and run the cell)`,
          );
        }
        throw new CheckError('threw', `${name} threw ${errorText(error)} on input ${input}`);
      }
      if (actualValue != null && typeof (actualValue as { then?: unknown }).then === 'function') {
        // An async answer: report it as the wrong type, and keep its rejection from crashing the
        // kernel.
        (actualValue as Promise<unknown>).then(undefined, () => undefined);
      }
      const actual = toNumeric(actualValue);
      if (typeof actual === 'string') {
        throw new CheckError(
          'type',
          `${name}: ${describeWrongType(actual, expected)} on input ${input}`,
        );
      }
      const problem = compare(actual, expected, resolveTolerance(options, actual, expected), '');
      if (problem)
        throw new CheckError(problem.kind, `${name}: ${problem.message} on input ${input}`);
    });
  }
  if (inNotebook())
    console.log(
      `✓ ${name} agrees with the reference on ${trials} random input${trials === 1 ? '' : 's'}`,
    );
}
