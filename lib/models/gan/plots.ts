/** Figures of GAN training: panels of 2D samples over training steps. */
import { baseLayout, Figure, PALETTE, Trace } from '../../plot/figure';
import { GanSnapshot } from './trainer';

export interface SnapshotPanelsOptions {
  /** Points drawn in every panel for reference, e.g. the modes of the target. */
  reference?: [number, number][];
  /** Panels per row (default 4). */
  columns?: number;
  /** Each axis spans [-range, range] (default 3). */
  range?: number;
  title?: string;
}

/** One scatter panel of generated 2D samples per snapshot, titled by its training step. */
export function snapshotPanels(
  snapshots: GanSnapshot[],
  options: SnapshotPanelsOptions = {},
): Figure {
  if (snapshots.length === 0) throw new Error('snapshotPanels: no snapshots to show');
  if (snapshots.some((s) => s.samples.length !== 2 * s.n))
    throw new Error('snapshotPanels: snapshots must hold 2D samples');
  const columns = Math.min(options.columns ?? 4, snapshots.length);
  const rows = Math.ceil(snapshots.length / columns);
  const range = options.range ?? 3;
  const size = 230;
  // The first row's step labels sit above its panels: room for them under the figure's title.
  const stepLabelRoom = 24;
  const base = baseLayout({
    title: options.title,
    width: columns * size + 80,
    height: rows * (size + 40) + 90 + stepLabelRoom,
  });
  const layout: Record<string, unknown> = {
    ...base,
    margin: { ...(base.margin as object), t: (base.margin as { t: number }).t + stepLabelRoom },
    showlegend: false,
    grid: { rows, columns, pattern: 'independent', xgap: 0.12, ygap: 0.32 },
    annotations: [] as unknown[],
  };
  const traces: Trace[] = [];
  snapshots.forEach((snap, i) => {
    const suffix = i === 0 ? '' : String(i + 1);
    const xs = Array.from({ length: snap.n }, (_, k) => snap.samples[2 * k]);
    const ys = Array.from({ length: snap.n }, (_, k) => snap.samples[2 * k + 1]);
    traces.push({
      type: 'scatter',
      mode: 'markers',
      x: xs,
      y: ys,
      xaxis: `x${suffix}`,
      yaxis: `y${suffix}`,
      marker: { size: 3, color: PALETTE[0], opacity: 0.5 },
      name: `step ${snap.step}`,
    });
    if (options.reference) {
      traces.push({
        type: 'scatter',
        mode: 'markers',
        x: options.reference.map((p) => p[0]),
        y: options.reference.map((p) => p[1]),
        xaxis: `x${suffix}`,
        yaxis: `y${suffix}`,
        marker: { size: 7, color: PALETTE[3], symbol: 'x' },
        name: 'modes',
      });
    }
    const axis = (title: string, anchor: Record<string, string>) => ({
      ...(base.xaxis as object),
      ...anchor,
      range: [-range, range],
      title: { text: title, font: { size: 12 } },
    });
    layout[`xaxis${suffix}`] = axis('x₁', {});
    layout[`yaxis${suffix}`] = { ...axis('x₂', { scaleanchor: `x${suffix}` }) };
    (layout.annotations as unknown[]).push({
      text: `step ${snap.step}`,
      xref: `x${suffix} domain`,
      yref: `y${suffix} domain`,
      x: 0.5,
      y: 1.12,
      showarrow: false,
      font: { size: 13 },
    });
  });
  return { data: traces, layout };
}

/**
 * Trailing moving average over `window` values (shorter at the start), to see the trend of noisy
 * per-step curves.
 */
export function movingAverage(values: ArrayLike<number>, window: number): number[] {
  if (!Number.isInteger(window) || window < 1)
    throw new Error(`movingAverage: window must be a positive integer, got ${window}`);
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    if (i >= window) sum -= values[i - window];
    out.push(sum / Math.min(i + 1, window));
  }
  return out;
}
