/**
 * Pictures of MADE's masks: the network drawn layer by layer with the connections a mask keeps
 * (Germain et al.'s Figure 1), and the input-output dependency matrix they imply.
 */
import { figure, Figure, PALETTE, heatmap } from '../../plot/figure';
import { MADE } from './made';
import { maskMatrix } from './masks';

/** The degrees of every layer of mask k: inputs, hidden layers, outputs (outputs = inputs). */
function layerDegrees(made: MADE, mask: number): number[][] {
  const degrees = made.degrees[mask];
  return [degrees.input, ...degrees.hidden, degrees.input];
}

/**
 * The network of a small MADE under mask k: inputs at the bottom, outputs at the top, each unit
 * labeled with its degree, an edge wherever the mask keeps the weight. For at most 12 inputs and 16
 * units a layer.
 */
export function connectivityFigure(made: MADE, mask = 0): Figure {
  const layers = layerDegrees(made, mask);
  if (made.inputDim > 12 || layers.some((l) => l.length > 16))
    throw new Error(
      'connectivityFigure draws small networks (at most 12 inputs and 16 units a layer); ' +
        'build a small MADE to draw, e.g. { inputDim: 6, hidden: [8, 8] }',
    );
  const x = (layer: number[], i: number) => i - (layer.length - 1) / 2;
  const edges = { x: [] as (number | null)[], y: [] as (number | null)[] };
  for (let l = 0; l + 1 < layers.length; l++) {
    const output = l + 1 === layers.length - 1;
    const keep = maskMatrix(layers[l], layers[l + 1], output);
    const to = layers[l + 1].length;
    for (let i = 0; i < layers[l].length; i++)
      for (let j = 0; j < to; j++)
        if (keep[i * to + j] === 1) {
          edges.x.push(x(layers[l], i), x(layers[l + 1], j), null);
          edges.y.push(l, l + 1, null);
        }
  }
  const names = ['input', ...made.config.hidden.map((_, l) => `hidden ${l + 1}`), 'output'];
  const nodes = layers.map((degrees, l) => ({
    type: 'scatter',
    mode: 'markers+text',
    name: names[l],
    x: degrees.map((_, i) => x(degrees, i)),
    y: degrees.map(() => l),
    text: degrees.map(String),
    textposition: 'middle center',
    textfont: { color: 'white', size: 12 },
    marker: { size: 24, color: PALETTE[l % PALETTE.length] },
    hovertext: degrees.map((d, i) =>
      l === 0
        ? `x_${i}: position ${d} in the ordering`
        : l === layers.length - 1
          ? `p(x_${i} | inputs of degree < ${d})`
          : `unit ${i}: sees inputs of degree ≤ ${d}`,
    ),
    hoverinfo: 'text',
  }));
  const fig = figure(
    [
      {
        type: 'scatter',
        mode: 'lines',
        name: 'kept connections',
        x: edges.x,
        y: edges.y,
        line: { width: 1, color: 'rgba(80,80,80,0.45)' },
        hoverinfo: 'skip',
      },
      ...nodes,
    ],
    {
      title: `MADE's mask ${mask}: unit degrees and the connections they allow`,
      xTitle: 'unit (labels: degree; inputs: position in the ordering)',
      yTitle: 'layer',
      showLegend: true,
      height: 140 + 110 * layers.length,
    },
  );
  const yaxis = fig.layout.yaxis as Record<string, unknown>;
  yaxis.tickvals = layers.map((_, l) => l);
  yaxis.ticktext = names;
  (fig.layout.xaxis as Record<string, unknown>).showticklabels = false;
  return fig;
}

/**
 * Which inputs each output can depend on under mask k: a path of kept connections from input j to
 * output d (d's row, j's column). An autoregressive model gives a strictly triangular matrix once
 * rows and columns are sorted by the ordering.
 */
export function dependencyFigure(made: MADE, mask = 0): Figure {
  const layers = layerDegrees(made, mask);
  const d = made.inputDim;
  // reach[j][u] = 1 if input j reaches unit u of the current layer
  let reach: number[][] = Array.from({ length: d }, (_, j) =>
    layers[0].map((_, u) => (u === j ? 1 : 0)),
  );
  for (let l = 0; l + 1 < layers.length; l++) {
    const keep = maskMatrix(layers[l], layers[l + 1], l + 1 === layers.length - 1);
    const to = layers[l + 1].length;
    reach = reach.map((row) =>
      Array.from({ length: to }, (_, v) =>
        row.some((r, u) => r === 1 && keep[u * to + v] === 1) ? 1 : 0,
      ),
    );
  }
  if (made.config.directConnections) {
    const direct = maskMatrix(layers[0], layers[0], true);
    reach = reach.map((row, j) => row.map((r, v) => Math.max(r, direct[j * d + v])));
  }
  const order = made.ordering(mask);
  const z = order.map((out) => order.map((input) => reach[input][out]));
  const fig = heatmap(z, {
    x: order.map((_, k) => k + 1),
    y: order.map((_, k) => k + 1),
    colorscale: 'Greys',
    title: `Which inputs each output sees (mask ${mask}; dark: depends)`,
    xTitle: 'input: position in the ordering',
    yTitle: 'output: position in the ordering',
    equalAxes: true,
    width: 520,
    height: 480,
  });
  // Greys runs from black at 0 to white at 1: reversed, a dependency is dark; 0/1 needs no bar.
  Object.assign(fig.data[0], { reversescale: true, showscale: false, zmin: 0, zmax: 1 });
  return fig;
}
