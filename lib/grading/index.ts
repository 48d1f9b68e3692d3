/**
 * Coursework support: the stub of an unsolved exercise (`notImplemented`) and the checks that
 * graded test cells run (`check` against a reference on random inputs, `checkClose` for one value,
 * `checkRange` for an experiment's result, `checkAnswer` for a question). The tools that release
 * student versions and grade submissions live in scripts/assignments.ts and scripts/grade.ts;
 * `session` is the kernel's side of a grading run (the grader writes the cells that use it).
 */
export * from './errors';
export {
  CheckOptions,
  DEFAULT_TOLERANCE,
  FLOAT32_TOLERANCE,
  Tolerance,
  check,
  checkAnswer,
  checkClose,
  checkRange,
} from './check';
export { AnswerOptions, Range } from './judge';
export { resolveLibraryFunction } from './forbid';
export { formatValue } from './values';
export * as session from './session';
