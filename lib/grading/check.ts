/**
 * Checks students run in the notebooks: compare their function with the library's reference on
 * random inputs, a value with the expected one, an experiment's result with a range, an answer
 * with the right one; and say what is wrong (which input, which entry, expected vs got), not just
 * "failed". When the grader runs the instructor's notebook, the same calls also record the inputs
 * and the reference's results (see session.ts); a submission's answers are judged outside its
 * kernel, by the same rules (judge.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptions } from '../runtime/checks';
import { inNotebook } from '../runtime/display';
import { CheckError } from './errors';
import {
  AnswerOptions,
  Failure,
  Outcome,
  Range,
  Tolerance,
  expectedNumeric,
  formatArgs,
  judgeAnswer,
  judgeRange,
  judgeTrial,
  judgeValue,
  validateAnswer,
  validateRange,
  validateTolerance,
} from './judge';
import { SiteRecorder } from './session';
import { EncodeOptions, decode, encode, typeName } from './values';
import { Wire } from './wire';

export { DEFAULT_TOLERANCE, FLOAT32_TOLERANCE, Tolerance } from './judge';

export interface CheckOptions extends Tolerance {
  /** Draws the arguments of one trial, e.g. `() => [runtime.randn(), 0.5 + runtime.random()]`. */
  inputs: () => unknown[];
  /** Number of random inputs to try (default 20). */
  trials?: number;
  /** Name of the exercise in messages (default: the student's function name). */
  name?: string;
}

function fail(failure: Failure | null): void {
  if (failure) throw new CheckError(failure.kind, failure.message);
}

/**
 * Parameter names of a plain function (from its source), or null when they cannot be read reliably.
 */
export function parameterNames(fn: object): string[] | null {
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

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The error a call threw, as the judge sees it. */
export function errorInfo(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'thrown value', message: String(error) };
}

/** Calls `fn` on `args` and returns what it gave or threw, as the judge sees it. */
export function outcomeOf(
  fn: (...args: unknown[]) => unknown,
  args: unknown[],
  options: EncodeOptions = {},
): Outcome {
  let value: unknown;
  try {
    value = fn(...args);
  } catch (error) {
    return { error: errorInfo(error) };
  }
  if (value != null && typeof (value as { then?: unknown }).then === 'function') {
    // An async answer: judged as the wrong type; keep its rejection from crashing the kernel.
    (value as Promise<unknown>).then(undefined, () => undefined);
  }
  return { value: encode(value, options) };
}

/**
 * Calls `student` and `reference` on `trials` random inputs from `inputs()` and throws a
 * `CheckError` on the first disagreement: not implemented yet, threw an error (which), wrong type,
 * wrong shape, NaN/Infinity, or wrong value (expected vs got), each with the input shown compactly.
 * Tensors created during a trial (inputs, results) are disposed. Returns nothing (so a test cell
 * prints nothing else); in a notebook, prints one line on success.
 *
 *   grading.check(logSumExp, (x: number[]) => tf.logSumExp(x).arraySync(), {
 *     inputs: () => [[runtime.randn(), 100 * runtime.randn()]],
 *   });
 */
export function check(student: unknown, reference: unknown, options: CheckOptions): void {
  checkAt(null, student, reference, options);
}

/** `check`, recording the trials for the grader when `site` is given. */
export function checkAt(
  site: SiteRecorder | null,
  student: unknown,
  reference: unknown,
  options: CheckOptions,
): void {
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
  checkOptions('check', options, {
    inputs: true,
    trials: true,
    name: true,
    rtol: true,
    atol: true,
  });

  const trials = options.trials ?? 20;
  if (!Number.isInteger(trials) || trials < 1)
    throw new Error(`check: trials must be a positive integer, got ${trials}`);
  validateTolerance('check', options);
  const name = options.name ?? (student.name || 'your function');
  const names = parameterNames(student) ?? parameterNames(reference);
  const tolerance = { rtol: options.rtol, atol: options.atol };
  const recorded: Array<{ args: Wire[]; expected: Wire }> = [];

  for (let trial = 0; trial < trials; trial++) {
    tf.tidy(() => {
      let args: unknown[];
      try {
        args = site ? site.seeded(trial, options.inputs) : options.inputs();
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
      const argsWire = args.map((a) => encode(a));
      const input = formatArgs(argsWire, names);
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
      const expected = encode(expectedValue);
      try {
        expectedNumeric(expected, name);
      } catch {
        throw new CheckError(
          'test',
          `${name}: the reference returned ${typeName(expectedValue)}, which check cannot ` +
            `compare (a problem with the test)`,
        );
      }
      if (site) site.sendable(argsWire, `the inputs of ${name}`);
      recorded.push({ args: argsWire, expected });
      // In a grading run the solution gets the inputs as a submission's kernel does: decoded.
      const given = site ? argsWire.map(decode) : args;
      const answer = outcomeOf(student as (...a: unknown[]) => unknown, given);
      fail(judgeTrial(name, input, expected, answer, tolerance));
    });
  }
  site?.record({ method: 'check', name, params: names, trials: recorded, tolerance });
  if (inNotebook())
    console.log(
      `✓ ${name} agrees with the reference on ${trials} random input${trials === 1 ? '' : 's'}`,
    );
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
  checkCloseAt(null, actual, expected, options);
}

export function checkCloseAt(
  site: SiteRecorder | null,
  actual: unknown,
  expected: unknown,
  options: Tolerance & { what?: string } = {},
): void {
  checkOptions('checkClose', options, { rtol: true, atol: true, what: true });
  validateTolerance('checkClose', options);
  const what = options.what ?? 'value';
  const e = encode(expected);
  expectedNumeric(e, 'checkClose', what);
  const tolerance = { rtol: options.rtol, atol: options.atol };
  site?.record({ method: 'checkClose', name: what, expected: e, tolerance });
  fail(judgeValue(encode(actual), e, tolerance, what));
}

/**
 * An experiment's result: throws a `CheckError` unless `actual` is a number (or one-entry array or
 * tensor) within `range` (`{ min, max }`, either end may be left out), e.g.
 * `grading.checkRange(finalLoss, { max: 100, what: 'the final test loss' })`.
 */
export function checkRange(actual: unknown, range: Range & { what?: string }): void {
  checkRangeAt(null, actual, range);
}

export function checkRangeAt(
  site: SiteRecorder | null,
  actual: unknown,
  range: Range & { what?: string },
): void {
  validateRange('checkRange', range);
  checkOptions('checkRange', range, { min: true, max: true, what: true });
  const what = range.what ?? 'result';
  const bounds = { min: range.min, max: range.max };
  site?.record({ method: 'checkRange', name: what, range: bounds });
  fail(judgeRange(encode(actual), bounds, what));
}

/**
 * The answer to a question (an interpretation of a figure): throws a `CheckError` unless `actual`
 * is the expected answer; words are compared ignoring case and spacing, numbers within the
 * tolerance (defaults rtol 1e-6, atol 1e-8); `choices` lists the valid answers of a
 * multiple-choice question. The message never shows the right answer. Put such tests in hidden
 * cells: a visible test would show the answer.
 */
export function checkAnswer(
  actual: unknown,
  expected: string | number,
  options: AnswerOptions & { what?: string } = {},
): void {
  checkAnswerAt(null, actual, expected, options);
}

export function checkAnswerAt(
  site: SiteRecorder | null,
  actual: unknown,
  expected: string | number,
  options: AnswerOptions & { what?: string } = {},
): void {
  checkOptions('checkAnswer', options, { choices: true, rtol: true, atol: true, what: true });
  validateAnswer('checkAnswer', expected, options);
  const what = options.what ?? 'answer';
  const answerOptions = { choices: options.choices, rtol: options.rtol, atol: options.atol };
  site?.record({ method: 'checkAnswer', name: what, answer: expected, answerOptions });
  fail(judgeAnswer(encode(actual), expected, answerOptions, what));
}
