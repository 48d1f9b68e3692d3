/**
 * Quick mode: notebooks shrink epochs and data so the whole collection runs in minutes (the test
 * suite and `npm run notebooks -- --quick` set it). Read it through `quick()`, `quickOr(full,
 * small)` or, for the sizes a notebook announces at its top, `runSizes`.
 */
import { displayBundle } from './display';

export const QUICK_ENV = 'GENLAB_QUICK';

export function quick(): boolean {
  const value = (process.env[QUICK_ENV] ?? '').trim().toLowerCase();
  return value !== '' && value !== '0' && value !== 'false' && value !== 'no';
}

/** `full` normally, `small` in quick mode. */
export function quickOr<T>(full: T, small: T): T {
  return quick() ? small : full;
}

/** One size of a run: its full-size and quick-mode values and what it counts, in words. */
export interface RunSize {
  full: number;
  quick: number;
  what: string;
}

const SIZE_KEYS = ['full', 'quick', 'what'];

function checkSize(key: string, size: RunSize): void {
  const where = `runSizes: '${key}'`;
  if (typeof size !== 'object' || size === null || Array.isArray(size))
    throw new Error(`${where} must be { full, quick, what }, got ${JSON.stringify(size)}`);
  const unknown = Object.keys(size).filter((k) => !SIZE_KEYS.includes(k));
  if (unknown.length > 0)
    throw new Error(`${where} has unknown field(s) ${unknown.join(', ')}; use full, quick, what`);
  for (const field of ['full', 'quick'] as const)
    if (typeof size[field] !== 'number' || !Number.isFinite(size[field]) || size[field] < 0)
      throw new Error(`${where}: ${field} must be a number ≥ 0, got ${size[field]}`);
  if (typeof size.what !== 'string' || size.what.trim() === '')
    throw new Error(`${where}: what must say what the number counts, e.g. 'training images'`);
}

const formatCount = (n: number): string => n.toLocaleString('en-US');

/**
 * The note a run shows about its sizes: in quick mode, every size it reduced (with its full
 * value); at full size, the sizes and how to run the quick version. Markdown.
 */
export function runSizesNote(sizes: Record<string, RunSize>, quickMode = quick()): string {
  const entries = Object.values(sizes);
  if (!quickMode)
    return (
      '**Full size**: ' +
      entries.map((s) => `${s.what} ${formatCount(s.full)}`).join('; ') +
      `. Quick mode (\`${QUICK_ENV}=1\`) reduces these so that the notebook runs in a minute.`
    );
  const reduced = entries.filter((s) => s.quick !== s.full);
  return (
    `> **Quick mode** (\`${QUICK_ENV}=1\`): this run is reduced: ` +
    reduced
      .map((s) => `${s.what} ${formatCount(s.quick)} instead of ${formatCount(s.full)}`)
      .join('; ') +
    '. Numbers and figures below come from this reduced run and differ from a full-size one; ' +
    'values marked *full size* are references from a full run. Unset the variable for the ' +
    'full-size notebook.'
  );
}

/**
 * A notebook's sizes in one place at its top: returns each size's value for this run (quick or
 * full) and shows what quick mode reduced, so a reader of a quick run knows it is one.
 *
 *   const size = runtime.runSizes({
 *     trainImages: { full: 60000, quick: 2000, what: 'training images' },
 *     epochs: { full: 10, quick: 2, what: 'VAE epochs' },
 *   });
 */
export function runSizes<K extends string>(sizes: Record<K, RunSize>): Record<K, number> {
  if (typeof sizes !== 'object' || sizes === null || Object.keys(sizes).length === 0)
    throw new Error(
      'runSizes: expected { name: { full, quick, what }, ... } with one size or more',
    );
  const all = sizes as Record<string, RunSize>;
  for (const [key, size] of Object.entries(all)) checkSize(key, size);
  const note = runSizesNote(all);
  if (!displayBundle({ 'text/markdown': note, 'text/plain': note })) console.log(note);
  const mode = quick() ? 'quick' : 'full';
  return Object.fromEntries(Object.entries(all).map(([k, s]) => [k, s[mode]])) as Record<K, number>;
}
