/**
 * Coursework support: the stub of an unsolved exercise (`notImplemented`) and the checks that
 * graded test cells run (`check` against a reference on random inputs, `checkClose` for one value).
 * The tools that release student versions and grade submissions live in scripts/assignments.ts and
 * scripts/grade.ts.
 */
export * from './errors';
export * from './check';
export { formatValue } from './values';
