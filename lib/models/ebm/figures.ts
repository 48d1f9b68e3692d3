/** Figures for energy models: Langevin paths drawn over a density, energies during training. */
import { figure, Figure, lines, PALETTE, SEQUENTIAL, Trace } from '../../plot/figure';
import { checkOptions } from '../../runtime/checks';
import { GridDensity, gridRows } from './grid';

/**
 * The density as a heatmap with each path (a list of [x1, x2] points) drawn over it as a line
 * from a marked start to a marked end.
 */
export function pathsOverDensity(
  density: GridDensity,
  paths: number[][][],
  options: { title?: string; zTitle?: string } = {},
): Figure {
  const traces: Trace[] = [
    {
      type: 'heatmap',
      x: density.axis,
      y: density.axis,
      z: gridRows(density),
      colorscale: SEQUENTIAL,
      colorbar: { title: { text: options.zTitle ?? 'p(x)' } },
    },
  ];
  paths.forEach((path, k) => {
    const color = PALETTE[(k + 1) % PALETTE.length];
    traces.push({
      type: 'scatter',
      mode: 'lines',
      x: path.map((p) => p[0]),
      y: path.map((p) => p[1]),
      line: { color, width: 1.5 },
      name: `chain ${k + 1}`,
    });
    traces.push({
      type: 'scatter',
      mode: 'markers',
      x: [path[0][0], path[path.length - 1][0]],
      y: [path[0][1], path[path.length - 1][1]],
      marker: { color, size: [9, 7], symbol: ['circle-open', 'x'] },
      showlegend: false,
      hoverinfo: 'skip',
    });
  });
  const fig = figure(traces, {
    title: options.title,
    xTitle: 'x₁',
    yTitle: 'x₂',
    equalAxes: true,
    width: 560,
    height: 540,
  });
  // The colour bar takes the right margin; the chains' legend goes in one row under the plot.
  fig.layout.legend = {
    ...(fig.layout.legend as object),
    orientation: 'h',
    x: 0,
    y: -0.2,
    yanchor: 'top',
  };
  fig.layout.margin = { ...(fig.layout.margin as object), b: 110 };
  return fig;
}

/** The columns of a contrastive divergence history that energyCurvesFigure draws. */
const ENERGY_COLUMNS = ['E(data)', 'E(samples)'];

/**
 * Mean energies of the data (solid) and of the samples (dashed) against the update, one colour
 * per training run; each history has the columns 'step', 'E(data)' and 'E(samples)'.
 */
export function energyCurvesFigure(
  runs: { label: string; history: { columns: string[]; column(name: string): number[] } }[],
  options: { title?: string } = {},
): Figure {
  checkOptions('energyCurvesFigure', options, { title: true });
  if (runs.length === 0) throw new Error('energyCurvesFigure: no runs given');
  const series = runs.flatMap(({ label, history }, k) => {
    for (const column of ['step', ...ENERGY_COLUMNS])
      if (!history.columns.includes(column))
        throw new Error(
          `energyCurvesFigure: the history of '${label}' has no column '${column}' ` +
            `(it has: ${history.columns.join(', ') || 'no rows'}); push the metrics of ` +
            'ContrastiveDivergence.update with their step',
        );
    return ENERGY_COLUMNS.map((m) => ({
      name: `${label}: ${m}`,
      x: history.column('step'),
      y: history.column(m),
      color: PALETTE[k % PALETTE.length],
      dash: m === 'E(samples)' ? ('dash' as const) : undefined,
    }));
  });
  return lines(series, { title: options.title, xTitle: 'update', yTitle: 'mean energy' });
}
