/**
 * Plotly figures as plain objects: `{ data, layout }` exactly as plotly.js takes them, so a figure
 * can be shown, tweaked (it is just data) and exported. The builders apply one look to every
 * notebook: readable fonts, labeled axes, legends, and the Okabe-Ito palette, which stays
 * distinguishable under the common forms of color blindness.
 */
import { checkOptions, OptionKeys } from '../runtime/checks';

/** MIME type of plotly figures in notebook outputs. */
export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

export type Trace = Record<string, unknown>;
export type Layout = Record<string, unknown>;

export interface Figure {
  data: Trace[];
  layout: Layout;
}

/** Okabe & Ito (2008) color-blind-safe palette, black last. */
export const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#D55E00',
  '#CC79A7',
  '#56B4E9',
  '#F0E442',
  '#000000',
];

/** Sequential color scale for densities and heatmaps (perceptually uniform, color-blind safe). */
export const SEQUENTIAL = 'Viridis';

/**
 * Plotly typesets a label as LaTeX only when the whole label is one `$...$` formula (text outside
 * it is dropped). This turns mixed labels like 'KL $q(z|x)$ (nats)' into one formula with the text
 * in \\text{}, and leaves labels without a `$...$` pair as they are. Rendering needs MathJax in the
 * page (export adds it).
 */
export function texLabel(label: string): string;
export function texLabel(label: string | undefined): string | undefined;
export function texLabel(label: string | undefined): string | undefined {
  if (label === undefined || !/\$[^$]+\$/.test(label) || /^\$[^$]+\$$/.test(label)) return label;
  // MathJax shows \text{} content literally; only braces need escaping (a backslash becomes U+2216
  // '∖').
  const text = (t: string) =>
    t === '' ? '' : `\\text{${t.replace(/\\/g, '\u2216').replace(/[{}]/g, (c) => '\\' + c)}}`;
  const parts = label.split(/\$([^$]+)\$/);
  return '$' + parts.map((p, i) => (i % 2 === 1 ? p : text(p))).join('') + '$';
}

export interface AxesOptions {
  title?: string;
  /** x-axis label, with units where the quantity has them, e.g. 'iterations' or 'μ (cm)'. */
  xTitle?: string;
  yTitle?: string;
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
  /** Keep one unit on x equal to one unit on y (for 2D densities and samples). */
  equalAxes?: boolean;
  showLegend?: boolean;
}

const AXES_KEYS: OptionKeys<AxesOptions> = {
  title: true,
  xTitle: true,
  yTitle: true,
  logX: true,
  logY: true,
  width: true,
  height: true,
  equalAxes: true,
  showLegend: true,
};

/** Height of plotly's mode bar (the toolbar drawn at the top right of a live figure), in px. */
export const MODE_BAR_HEIGHT = 30;
/** Space between a title and the plot area, in px. */
const TITLE_PAD = 10;
/** Height of one title line in px (a typeset formula is taller than its font). */
const TITLE_LINE = 24;

/**
 * The top margin: room for the mode bar and, under it, the title's lines (`<br>` breaks them) and
 * its padding, so that the toolbar never covers a title.
 */
export function topMargin(title: string | undefined): number {
  if (!title) return MODE_BAR_HEIGHT;
  const lines = title.split(/<br\s*\/?>/i).length;
  return MODE_BAR_HEIGHT + lines * TITLE_LINE + TITLE_PAD;
}

/** The kit's base layout; `options` fill in titles and axis types. */
export function baseLayout(options: AxesOptions = {}): Layout {
  const axis = (title: string | undefined, log: boolean | undefined) => ({
    title: { text: texLabel(title) ?? '', font: { size: 15 } },
    // Only a log axis is forced: plotly picks linear, category (string labels) or date from the
    // data.
    ...(log ? { type: 'log' } : {}),
    showline: true,
    linecolor: '#444',
    mirror: true,
    ticks: 'outside',
    gridcolor: '#e5e5e5',
    zeroline: false,
    exponentformat: 'power',
  });
  const height = options.height ?? 420;
  const layout: Layout = {
    // The title hangs from the bottom of the band where plotly draws its mode bar.
    title: options.title
      ? {
          text: texLabel(options.title),
          x: 0.5,
          xanchor: 'center',
          yref: 'container',
          y: 1 - MODE_BAR_HEIGHT / height,
          yanchor: 'top',
          font: { size: 17 },
        }
      : undefined,
    font: { family: 'Helvetica, Arial, sans-serif', size: 14, color: '#222' },
    colorway: PALETTE,
    paper_bgcolor: 'white',
    plot_bgcolor: 'white',
    width: options.width ?? 640,
    height,
    margin: { l: 70, r: 30, t: topMargin(options.title), b: 60 },
    xaxis: axis(options.xTitle, options.logX),
    yaxis: {
      ...axis(options.yTitle, options.logY),
      ...(options.equalAxes ? { scaleanchor: 'x', scaleratio: 1 } : {}),
    },
    legend: { bgcolor: 'rgba(255,255,255,0.8)', bordercolor: '#ccc', borderwidth: 1 },
    showlegend: options.showLegend,
  };
  return JSON.parse(JSON.stringify(layout));
}

/**
 * A figure from traces and axes options; traces get palette colors in order unless they set their
 * own.
 */
export function figure(data: Trace[], options: AxesOptions = {}): Figure {
  checkOptions('plot.figure', options, AXES_KEYS);
  return build(data, options);
}

/** `figure` for the builders, whose options were checked against their own keys. */
function build(data: Trace[], options: AxesOptions): Figure {
  const layout = baseLayout(options);
  for (const key of ['x', 'y'] as const) {
    const axis = layout[`${key}axis`] as Layout;
    // Across a decade or more, only powers of ten are labeled (plotly would label 2, 3, ..., 9 in
    // every decade and crowd the axis); within one decade the minor labels are all there is.
    if (axis.type === 'log' && decadesSpanned(data, key) >= 1) axis.minorloglabels = 'none';
  }
  return { data, layout };
}

/** How many decades the positive values of the traces' x (or y) arrays span; 0 without any. */
export function decadesSpanned(data: Trace[], key: 'x' | 'y'): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (const trace of data) {
    const values = trace[key];
    if (!Array.isArray(values)) continue;
    for (const v of values) {
      if (typeof v !== 'number' || !(v > 0) || v === Infinity) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  return hi >= lo ? Math.log10(hi / lo) : 0;
}

function checkSameLength(what: string, x: ArrayLike<number>, y: ArrayLike<number>): void {
  if (x.length !== y.length)
    throw new Error(`${what}: x has ${x.length} values but y has ${y.length}`);
}

export interface Series {
  name?: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** 'lines' (default), 'markers' or 'lines+markers'. */
  mode?: string;
  dash?: 'solid' | 'dash' | 'dot' | 'dashdot';
  color?: string;
  /** Symmetric error bars. */
  error?: ArrayLike<number>;
}

const SERIES_KEYS: OptionKeys<Series> = {
  name: true,
  x: true,
  y: true,
  mode: true,
  dash: true,
  color: true,
  error: true,
};

/**
 * A horizontal reference line at `value` across the x values `x` (e.g. an exact log p(x) beside its
 * estimates), dotted grey unless `style` says otherwise.
 */
export function levelSeries(
  name: string,
  x: ArrayLike<number>,
  value: number,
  style: Pick<Series, 'dash' | 'color'> = { dash: 'dot', color: PALETTE[7] },
): Series {
  if (!Number.isFinite(value))
    throw new Error(`levelSeries: the level of '${name}' must be a finite number, got ${value}`);
  return { name, x, y: Array.from(x, () => value), ...style };
}

/** Line trace for one series. */
export function lineTrace(s: Series): Trace {
  checkOptions(`series '${s.name ?? ''}'`, s, SERIES_KEYS);
  checkSameLength(`series '${s.name ?? ''}'`, s.x, s.y);
  return {
    type: 'scatter',
    mode: s.mode ?? 'lines',
    name: texLabel(s.name),
    x: Array.from(s.x),
    y: Array.from(s.y),
    line: { width: 2.5, dash: s.dash ?? 'solid', ...(s.color ? { color: s.color } : {}) },
    ...(s.color ? { marker: { color: s.color } } : {}),
    ...(s.error ? { error_y: { type: 'data', array: Array.from(s.error), visible: true } } : {}),
  };
}

/** Line chart of one or more series. */
export function lines(series: Series[], options: AxesOptions = {}): Figure {
  checkOptions('plot.lines', options, AXES_KEYS);
  return build(series.map(lineTrace), { showLegend: series.length > 1, ...options });
}

export interface Points {
  name?: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  color?: string | ArrayLike<number>;
  size?: number;
  opacity?: number;
  /** Hover text per point. */
  text?: string[];
}

const POINTS_KEYS: OptionKeys<Points> = {
  name: true,
  x: true,
  y: true,
  color: true,
  size: true,
  opacity: true,
  text: true,
};

/** Marker trace for one point set. */
export function scatterTrace(p: Points): Trace {
  checkOptions(`points '${p.name ?? ''}'`, p, POINTS_KEYS);
  checkSameLength(`points '${p.name ?? ''}'`, p.x, p.y);
  const numericColor = p.color !== undefined && typeof p.color !== 'string';
  return {
    type: p.x.length > 5000 ? 'scattergl' : 'scatter',
    mode: 'markers',
    name: texLabel(p.name),
    x: Array.from(p.x),
    y: Array.from(p.y),
    text: p.text,
    marker: {
      size: p.size ?? 5,
      opacity: p.opacity ?? 0.7,
      ...(p.color === undefined
        ? {}
        : { color: numericColor ? Array.from(p.color as ArrayLike<number>) : p.color }),
      ...(numericColor ? { colorscale: SEQUENTIAL, showscale: true } : {}),
    },
  };
}

/** Scatter plot of one or more point sets. */
export function scatter(sets: Points[], options: AxesOptions = {}): Figure {
  checkOptions('plot.scatter', options, AXES_KEYS);
  return build(sets.map(scatterTrace), { showLegend: sets.length > 1, ...options });
}

export interface HistogramOptions extends AxesOptions {
  bins?: number;
  name?: string;
  /** A density to draw over the normalized histogram, e.g. the fitted Gaussian. */
  density?: { f: (x: number) => number; name?: string };
}

const HISTOGRAM_KEYS: OptionKeys<HistogramOptions> = {
  ...AXES_KEYS,
  bins: true,
  name: true,
  density: true,
};

/** Histogram normalized to a probability density, with an optional density curve on top. */
export function histogram(values: ArrayLike<number>, options: HistogramOptions = {}): Figure {
  checkOptions('plot.histogram', options, HISTOGRAM_KEYS);
  const v = Array.from(values);
  if (v.length === 0) throw new Error('histogram: no values');
  const finite = v.filter(Number.isFinite);
  if (finite.length !== v.length)
    throw new Error(`histogram: ${v.length - finite.length} values are NaN or infinite`);
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of finite) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  const bins = options.bins ?? Math.min(80, Math.max(10, Math.ceil(Math.sqrt(v.length))));
  const data: Trace[] = [
    {
      type: 'histogram',
      x: v,
      histnorm: 'probability density',
      xbins: { start: lo, end: hi + ((hi - lo) / bins || 1), size: (hi - lo) / bins || 1 },
      name: texLabel(options.name) ?? 'samples',
      marker: { color: PALETTE[0], line: { color: 'white', width: 0.5 } },
      opacity: 0.6,
    },
  ];
  if (options.density) {
    const pad = 0.1 * (hi - lo || 1);
    const xs = linspace(lo - pad, hi + pad, 300);
    data.push(
      lineTrace({
        name: options.density.name ?? 'density',
        x: xs,
        y: xs.map(options.density.f),
        color: PALETTE[3],
      }),
    );
  }
  return build(data, { yTitle: 'density', showLegend: data.length > 1, ...options });
}

export interface GridOptions extends AxesOptions {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Color bar title. */
  zTitle?: string;
  colorscale?: string;
}

const GRID_KEYS: OptionKeys<GridOptions> = {
  ...AXES_KEYS,
  x: true,
  y: true,
  zTitle: true,
  colorscale: true,
};

function gridTrace(type: 'heatmap' | 'contour', z: number[][], options: GridOptions): Trace {
  if (z.length !== options.y.length || z.some((row) => row.length !== options.x.length)) {
    throw new Error(
      `${type}: z must have ${options.y.length} rows (one per y) of ${options.x.length} values ` +
        `(one per x)`,
    );
  }
  return {
    type,
    x: Array.from(options.x),
    y: Array.from(options.y),
    z,
    colorscale: options.colorscale ?? SEQUENTIAL,
    colorbar: { title: { text: texLabel(options.zTitle) ?? '' } },
  };
}

/** Heatmap of z[i][j] at (x[j], y[i]). */
export function heatmap(z: number[][], options: GridOptions): Figure {
  checkOptions('plot.heatmap', options, GRID_KEYS);
  return build([gridTrace('heatmap', z, options)], options);
}

/** Filled contour plot of z[i][j] at (x[j], y[i]). */
export function contour(z: number[][], options: GridOptions & { lines?: boolean }): Figure {
  checkOptions('plot.contour', options, { ...GRID_KEYS, lines: true });
  const trace = gridTrace('contour', z, options);
  if (options.lines) trace.contours = { coloring: 'lines' };
  return build([trace], options);
}

/** Contour-line trace for overlaying a density on samples. */
export function contourLinesTrace(
  z: number[][],
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  name?: string,
  color?: string,
): Trace {
  return {
    type: 'contour',
    x: Array.from(x),
    y: Array.from(y),
    z,
    name: texLabel(name),
    showscale: false,
    contours: { coloring: 'none' },
    line: { color: color ?? PALETTE[3], width: 1.5 },
    showlegend: name !== undefined,
  };
}

/** n evenly spaced numbers from a to b inclusive. */
export function linspace(a: number, b: number, n: number): number[] {
  if (!Number.isInteger(n) || n < 2)
    throw new Error(`linspace: n must be an integer >= 2, got ${n}`);
  return Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
}

/** Evaluates f on the grid (x[j], y[i]) as z[i][j], the layout heatmap and contour expect. */
export function evalGrid(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  f: (x: number, y: number) => number,
): number[][] {
  return Array.from(y, (yi) => Array.from(x, (xj) => f(xj, yi)));
}
