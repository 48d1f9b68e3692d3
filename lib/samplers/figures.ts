/** Figures of notebook 06 (Gibbs sampling): chain frequencies, paths, traces, autocorrelation. */
import {
  contourLinesTrace,
  evalGrid,
  figure,
  Figure,
  lines,
  lineTrace,
  linspace,
  PALETTE,
  Trace,
} from '../plot/figure';
import { checkOptions } from '../runtime/checks';

function requireSameLength(what: string, a: ArrayLike<unknown>, b: ArrayLike<unknown>): void {
  if (a.length !== b.length)
    throw new Error(`${what}: expected ${a.length} values, got ${b.length}`);
}

/** Running frequency of each table cell (solid) against its exact probability (dashed). */
export function runningFrequenciesFigure(
  checkpoints: number[],
  running: number[][],
  exact: number[],
  cellNames: string[],
): Figure {
  requireSameLength('runningFrequenciesFigure: cell names for the exact table', exact, cellNames);
  requireSameLength(
    'runningFrequenciesFigure: frequency rows for the checkpoints',
    checkpoints,
    running,
  );
  const span = [checkpoints[0], checkpoints[checkpoints.length - 1]];
  return figure(
    [
      ...cellNames.map((name, k) =>
        lineTrace({
          name: `P̂${name}`,
          x: checkpoints,
          y: running.map((r) => r[k]),
          color: PALETTE[k],
        }),
      ),
      ...cellNames.map((name, k) =>
        lineTrace({
          name: `P${name} exact`,
          x: span,
          y: [exact[k], exact[k]],
          dash: 'dash',
          color: PALETTE[k],
        }),
      ),
    ],
    {
      title: 'Running frequencies of one chain',
      xTitle: 'sweeps t',
      yTitle: 'frequency of cell',
      logX: true,
      showLegend: true,
    },
  );
}

/** A Gibbs path as zig-zag points [xs, ys] over one correlation's panel. */
export interface GibbsPathPanel {
  rho: number;
  xs: number[];
  ys: number[];
}

/**
 * One panel per path, side by side: the path over the contours of the standard bivariate
 * Gaussian with correlation rho, on [-3.5, 3.5]².
 */
export function gibbsPathsFigure(panels: GibbsPathPanel[], options: { title: string }): Figure {
  checkOptions('gibbsPathsFigure', options, { title: true });
  const grid = linspace(-3.5, 3.5, 80);
  const traces: Trace[] = [];
  panels.forEach((p, k) => {
    if (!(Math.abs(p.rho) < 1))
      throw new Error(`gibbsPathsFigure: correlation must lie in (-1, 1), got ${p.rho}`);
    requireSameLength('gibbsPathsFigure: path y values for its x values', p.xs, p.ys);
    const density = evalGrid(grid, grid, (a, b) =>
      Math.exp(-(a * a - 2 * p.rho * a * b + b * b) / (2 * (1 - p.rho * p.rho))),
    );
    const axes = { xaxis: `x${k + 1}`, yaxis: `y${k + 1}` };
    const sweeps = (p.xs.length - 1) / 2;
    traces.push(
      {
        ...contourLinesTrace(density, grid, grid, `ρ = ${p.rho} density`, PALETTE[k + 2]),
        ...axes,
      },
      {
        ...lineTrace({
          name: `ρ = ${p.rho}: ${sweeps} sweeps`,
          x: p.xs,
          y: p.ys,
          mode: 'lines+markers',
          color: PALETTE[k === 0 ? 0 : 3],
        }),
        ...axes,
      },
    );
  });
  const fig = figure(traces, { title: options.title, width: 860, height: 440 });
  fig.layout.grid = { rows: 1, columns: panels.length, pattern: 'independent' };
  panels.forEach((_, k) => {
    const suffix = k === 0 ? '' : `${k + 1}`;
    fig.layout[`xaxis${suffix}`] = {
      ...(fig.layout.xaxis as object),
      title: { text: 'x₁' },
      range: [-3.5, 3.5],
    };
    fig.layout[`yaxis${suffix}`] = {
      ...(fig.layout.yaxis as object),
      title: { text: 'x₂' },
      range: [-3.5, 3.5],
    };
  });
  return fig;
}

/** One trace per correlation, stacked in rows sharing the sweep axis, each row on [-3.5, 3.5]. */
export function stackedTracesFigure(
  traces: { rho: number; values: ArrayLike<number> }[],
  options: { title: string },
): Figure {
  checkOptions('stackedTracesFigure', options, { title: true });
  if (traces.length === 0) throw new Error('stackedTracesFigure: no traces given');
  const fig = figure(
    traces.map((t, k) => ({
      ...lineTrace({
        name: `ρ = ${t.rho}`,
        x: Array.from({ length: t.values.length }, (_, i) => i + 1),
        y: Array.from(t.values),
        color: PALETTE[k],
      }),
      yaxis: k === 0 ? 'y' : `y${k + 1}`,
    })),
    { title: options.title, height: 640 },
  );
  fig.layout.grid = { rows: traces.length, columns: 1, pattern: 'coupled' };
  traces.forEach((t, k) => {
    fig.layout[k === 0 ? 'yaxis' : `yaxis${k + 1}`] = {
      title: { text: `ρ = ${t.rho}` },
      range: [-3.5, 3.5],
    };
  });
  fig.layout.xaxis = { title: { text: 'sweep' } };
  return fig;
}

/** Measured autocorrelation per correlation rho (solid) against the theory ρ^(2k) (dotted). */
export function autocorrelationFigure(
  lags: number[],
  curves: { rho: number; acf: number[] }[],
  chains: number,
): Figure {
  for (const c of curves)
    requireSameLength('autocorrelationFigure: autocorrelations for the lags', lags, c.acf);
  return figure(
    [
      ...curves.map((c, k) =>
        lineTrace({ name: `ρ = ${c.rho}`, x: lags, y: c.acf, color: PALETTE[k] }),
      ),
      ...curves.map((c, k) =>
        lineTrace({
          name: `ρ^(2k), ρ = ${c.rho}`,
          x: lags,
          y: lags.map((l) => c.rho ** (2 * l)),
          dash: 'dot',
          color: PALETTE[k],
        }),
      ),
    ],
    {
      title: `Autocorrelation of x₁ (mean of ${chains} chains) and the theory ρ^(2k)`,
      xTitle: 'lag k (sweeps)',
      yTitle: 'autocorrelation ρ_k',
      showLegend: true,
    },
  );
}

/** Measured effective sample size per sweep against (1 − ρ²)/(1 + ρ²), on a log scale. */
export function essFigure(
  rows: { rho: number; measured: number; theory: number }[],
  chains: number,
): Figure {
  if (rows.length === 0) throw new Error('essFigure: no rows given');
  const rhos = rows.map((r) => r.rho);
  return lines(
    [
      {
        name: `measured (mean of ${chains} chains)`,
        x: rhos,
        y: rows.map((r) => r.measured),
        mode: 'lines+markers',
        color: PALETTE[0],
      },
      {
        name: '(1 - ρ²) / (1 + ρ²)',
        x: rhos,
        y: rows.map((r) => r.theory),
        dash: 'dash',
        color: PALETTE[7],
      },
    ],
    {
      title: 'Effective sample size per sweep collapses as ρ → 1',
      xTitle: 'correlation ρ',
      yTitle: 'ESS / number of sweeps',
      logY: true,
    },
  );
}

/**
 * The first `shown` states of a chain started at x₁ = start: the burn-in (shaded, discarded),
 * the kept states, and the expected path start·ρ^(2t).
 */
export function burnInFigure(
  trace: ArrayLike<number>,
  options: { rho: number; start: number; burnIn: number; shown: number },
): Figure {
  checkOptions('burnInFigure', options, { rho: true, start: true, burnIn: true, shown: true });
  const { rho, start, burnIn, shown } = options;
  if (!(Number.isInteger(burnIn) && burnIn >= 1 && shown > burnIn && shown <= trace.length))
    throw new Error(
      `burnInFigure: need 1 <= burnIn < shown <= ${trace.length} (the trace's length), ` +
        `got burnIn=${burnIn}, shown=${shown}`,
    );
  const values = Array.from(trace);
  const sweepsFrom = (first: number, count: number) =>
    Array.from({ length: count }, (_, t) => t + first);
  const fig = lines(
    [
      {
        name: 'burn-in (discarded)',
        x: sweepsFrom(1, burnIn),
        y: values.slice(0, burnIn),
        color: PALETTE[3],
      },
      {
        name: 'kept',
        x: sweepsFrom(burnIn + 1, shown - burnIn),
        y: values.slice(burnIn, shown),
        color: PALETTE[0],
      },
      {
        name: `${start} ρ^(2t): expected path from the start`,
        x: sweepsFrom(1, burnIn),
        y: sweepsFrom(1, burnIn).map((t) => start * rho ** (2 * t)),
        dash: 'dash',
        color: PALETTE[7],
      },
    ],
    {
      title: `Burn-in: ρ = ${rho}, started at (${start}, ${start})`,
      xTitle: 'sweep',
      yTitle: 'x₁',
    },
  );
  fig.layout.shapes = [
    {
      type: 'rect',
      xref: 'x',
      yref: 'paper',
      x0: 0,
      x1: burnIn,
      y0: 0,
      y1: 1,
      fillcolor: 'rgba(213,94,0,0.08)',
      line: { width: 0 },
    },
  ];
  return fig;
}
