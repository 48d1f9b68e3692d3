/** Figures for 2-D energy models: Langevin paths drawn over a density. */
import { figure, Figure, PALETTE, SEQUENTIAL, Trace } from '../../plot/figure';
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
