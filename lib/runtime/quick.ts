/**
 * Quick mode: notebooks shrink epochs and data so the whole collection runs in minutes (the test
 * suite and `npm run notebooks -- --quick` set it). Read it through `quick()` or `quickOr(full,
 * small)` only.
 */
export const QUICK_ENV = 'GENLAB_QUICK';

export function quick(): boolean {
  const value = (process.env[QUICK_ENV] ?? '').trim().toLowerCase();
  return value !== '' && value !== '0' && value !== 'false' && value !== 'no';
}

/** `full` normally, `small` in quick mode. */
export function quickOr<T>(full: T, small: T): T {
  return quick() ? small : full;
}
