/**
 * Fixed axis ranges for a figure, e.g. one range for several plots that should compare at a glance
 * (plotly otherwise fits each plot's axes to its own data).
 */
import { checkOptions } from '../runtime/checks';
import { Figure } from './figure';

/** [lowest, highest] value an axis shows. */
export type AxisRange = [number, number];

function checkRange(axis: string, range: AxisRange): void {
  const ok =
    Array.isArray(range) &&
    range.length === 2 &&
    range.every((v) => typeof v === 'number' && Number.isFinite(v)) &&
    range[0] < range[1];
  if (!ok)
    throw new Error(
      `withAxisRanges: ${axis} must be [low, high] with finite numbers and low < high, got ` +
        `${JSON.stringify(range)}`,
    );
}

/**
 * The figure with its x and/or y axis fixed to the given ranges (a new figure; the given one is
 * unchanged). A log axis takes its range in data units as well.
 */
export function withAxisRanges(figure: Figure, ranges: { x?: AxisRange; y?: AxisRange }): Figure {
  if (!figure || !Array.isArray(figure.data) || typeof figure.layout !== 'object')
    throw new Error('withAxisRanges: expected a plotly figure { data, layout }');
  checkOptions('withAxisRanges', ranges, { x: true, y: true });
  const layout = { ...figure.layout };
  for (const axis of ['x', 'y'] as const) {
    const range = ranges[axis];
    if (range === undefined) continue;
    checkRange(axis, range);
    const key = `${axis}axis`;
    const current = (layout[key] ?? {}) as Record<string, unknown>;
    const log = current.type === 'log';
    if (log && range[0] <= 0)
      throw new Error(`withAxisRanges: ${axis} is a log axis, its range must be positive`);
    layout[key] = { ...current, range: log ? range.map(Math.log10) : [...range] };
  }
  return { data: figure.data, layout };
}
