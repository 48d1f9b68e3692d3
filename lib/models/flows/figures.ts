/**
 * Figures for 2D flows: densities on a grid, side by side (a true density next to what each flow
 * learned).
 */
import { figure, Figure, SEQUENTIAL, Trace } from '../../plot';
import { checkInteger } from '../../runtime/checks';

/**
 * A normalized 2D histogram of points (row-major [n, 2]) on `bins` × `bins` cells over [-L, L]²:
 * z[i][j] is the fraction of points in cell (row i: z2, column j: z1) divided by the cell area,
 * i.e. a density estimate.
 */
export function histogramDensity(
  points: ArrayLike<number>,
  halfWidth: number,
  bins: number,
): { x: number[]; z: number[][] } {
  checkInteger('histogramDensity', 'bins', bins);
  if (!(halfWidth > 0)) throw new Error(`halfWidth must be > 0, got ${halfWidth}`);
  if (points.length % 2 !== 0)
    throw new Error(`points must hold [n, 2] coordinates, got ${points.length} numbers`);
  const n = points.length / 2;
  const h = (2 * halfWidth) / bins;
  const z = Array.from({ length: bins }, () => new Array<number>(bins).fill(0));
  for (let i = 0; i < n; i++) {
    const col = Math.floor((points[2 * i] + halfWidth) / h);
    const row = Math.floor((points[2 * i + 1] + halfWidth) / h);
    if (col >= 0 && col < bins && row >= 0 && row < bins) z[row][col] += 1 / (n * h * h);
  }
  return { x: Array.from({ length: bins }, (_, j) => -halfWidth + (j + 0.5) * h), z };
}

/**
 * Densities z[i][j] on the grid x × x as heatmaps in one row of panels, each with its title; a
 * panel with its own cell centres `x` (a histogram with fewer bins, say) is drawn on those.
 */
export function densityPanels(
  panels: { title: string; z: number[][]; x?: number[] }[],
  x: number[],
  options: { title?: string; height?: number; axisTitles?: [string, string] } = {},
): Figure {
  if (panels.length === 0) throw new Error('densityPanels needs at least one panel');
  for (const p of panels) {
    const n = (p.x ?? x).length;
    if (p.z.length !== n || p.z.some((row) => row.length !== n))
      throw new Error(
        `densityPanels: panel '${p.title}' has a ${p.z.length} x ${p.z[0]?.length ?? 0} grid ` +
          `for ${n} cell centres per axis; give the panel its own x (e.g. histogramDensity's)`,
      );
  }
  const [xTitle, yTitle] = options.axisTitles ?? ['z₁', 'z₂'];
  const P = panels.length;
  const traces: Trace[] = panels.map((p, k) => ({
    type: 'heatmap',
    x: p.x ?? x,
    y: p.x ?? x,
    z: p.z,
    colorscale: SEQUENTIAL,
    showscale: false,
    xaxis: `x${k === 0 ? '' : k + 1}`,
    yaxis: `y${k === 0 ? '' : k + 1}`,
  }));
  const fig = figure(traces, {
    title: options.title,
    width: 230 * P + 60,
    height: options.height ?? 300,
  });
  const gap = 0.04;
  const w = (1 - gap * (P - 1)) / P;
  panels.forEach((p, k) => {
    const suffix = k === 0 ? '' : String(k + 1);
    fig.layout[`xaxis${suffix}`] = {
      domain: [k * (w + gap), k * (w + gap) + w],
      title: { text: xTitle },
      anchor: `y${suffix}`,
    };
    fig.layout[`yaxis${suffix}`] = {
      title: { text: k === 0 ? yTitle : '' },
      anchor: `x${suffix}`,
      scaleanchor: `x${suffix}`,
      showticklabels: k === 0,
    };
  });
  fig.layout.annotations = panels.map((p, k) => ({
    text: p.title,
    x: k * (w + gap) + w / 2,
    y: 1.0,
    xref: 'paper',
    yref: 'paper',
    xanchor: 'center',
    yanchor: 'bottom',
    showarrow: false,
    font: { size: 13 },
  }));
  fig.layout.margin = { l: 50, r: 10, t: options.title ? 70 : 40, b: 50 };
  return fig;
}
