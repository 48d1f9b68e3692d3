/**
 * Numeric values as the checks compare them: a number, a (nested) array of numbers, a typed array
 * or a tensor all become a shape plus flat values (`dense`), so a student may answer with any of
 * them; lists and plain objects of such values become `tuple`s and `record`s. Free of
 * TensorFlow.js, so that the grader's own process compares without loading it.
 */

export type Numeric =
  | { kind: 'dense'; shape: number[]; values: ArrayLike<number>; dtype: string }
  | { kind: 'tuple'; items: Numeric[] }
  | { kind: 'record'; entries: [string, Numeric][] };

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** A number in at most 6 significant digits. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e9) return String(x);
  return String(Number(x.toPrecision(6)));
}

/** Flat values of the given shape as nested brackets, at most `maxItems` per level. */
export function formatFlat(
  values: ArrayLike<number>,
  shape: readonly number[],
  maxItems: number,
): string {
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
