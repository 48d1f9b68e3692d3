/**
 * The errors students see. An unsolved exercise throws `NotImplementedError`; a failed check throws
 * `CheckError`, whose `kind` says what went wrong and whose message says where.
 */

/** Thrown by the stub that replaces a solution in the student version of a notebook. */
export class NotImplementedError extends Error {
  override name = 'NotImplementedError';
  constructor(readonly exercise: string) {
    super(`not implemented yet: ${exercise}; write your solution in place of this line`);
  }
}

/**
 * The stub of an exercise: `throw grading.notImplemented('01-gaussian-kl')`.
 * Returns the error (the caller throws it, so TypeScript sees that the function never falls
 * through).
 */
export function notImplemented(exercise: string): NotImplementedError {
  if (typeof exercise !== 'string' || exercise.trim() === '') {
    throw new Error(
      `notImplemented: exercise must be a non-empty string naming the exercise, got ` +
        `${JSON.stringify(exercise)}`,
    );
  }
  return new NotImplementedError(exercise);
}

/** True for the stub's error, also when it comes from another copy of the library. */
export function isNotImplemented(error: unknown): boolean {
  return (
    error instanceof NotImplementedError ||
    (error instanceof Error && error.name === 'NotImplementedError')
  );
}

/**
 * What a failed check found:
 * - `not-implemented`: the student's function still throws the stub;
 * - `threw`: it threw another error;
 * - `type`: it returned something that is not a number, array or tensor of the expected structure;
 * - `shape`: the shapes differ;
 * - `nonfinite`: NaN or Infinity where the reference is finite;
 * - `value`: a value outside the tolerance;
 * - `range`: a number outside the range an experiment's test accepts;
 * - `answer`: a wrong answer to a question (an interpretation);
 * - `forbidden`: the answer calls a library function the exercise does not allow;
 * - `missing`: no answer reached the grader (the cell failed or did not run);
 * - `test`: the test itself is broken (its input generator or reference threw), not the answer.
 */
export type CheckErrorKind =
  | 'not-implemented'
  | 'threw'
  | 'type'
  | 'shape'
  | 'nonfinite'
  | 'value'
  | 'range'
  | 'answer'
  | 'forbidden'
  | 'missing'
  | 'test';

export class CheckError extends Error {
  override name = 'CheckError';
  constructor(
    readonly kind: CheckErrorKind,
    message: string,
  ) {
    super(message);
  }
}
