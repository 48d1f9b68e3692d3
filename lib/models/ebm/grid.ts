/**
 * A 2-D density made exact on a grid: an energy model's Z = ∫ exp(-E) is a sum over a fine grid of
 * a window that holds the data, so log Z, the normalized density and KL divergences between
 * densities on the window are exact up to quadrature error (as flows.target does for the energies
 * of notebook 11).
 */
import * as tf from '@tensorflow/tfjs';
import { gridValues } from '../flows/energies';
import { random } from '../../runtime/random';
import { checkPoints } from './checks';

export interface GridDensity {
  /** The window is [-halfWidth, halfWidth]². */
  halfWidth: number;
  /** Cell centres along either axis (the grid is axis × axis over [-halfWidth, halfWidth]²). */
  axis: number[];
  /** log p at each cell centre, row-major with rows along x2, normalized on the window. */
  logDensity: Float64Array;
  /** log ∫_window exp(f): of the unnormalized log-density f that was given. */
  logZ: number;
  cellArea: number;
}

/**
 * Normalizes exp(f) on an n × n grid over [-halfWidth, halfWidth]² for a batched log-density f
 * (e.g. x => -E(x), or a known log p): log p = f - log Σ_cells exp(f) · area.
 */
export function normalizeOnGrid(
  logUnnormalized: (x: tf.Tensor2D) => tf.Tensor1D,
  halfWidth: number,
  n: number,
): GridDensity {
  const { values, x, cellArea } = gridValues(logUnnormalized, halfWidth, n);
  let max = -Infinity;
  for (const f of values) {
    if (Number.isNaN(f))
      throw new Error('normalizeOnGrid: the log-density is NaN somewhere on the grid');
    max = Math.max(max, f);
  }
  if (!Number.isFinite(max))
    throw new Error(`normalizeOnGrid: the largest log-density on the grid is ${max}`);
  let sum = 0;
  for (const f of values) sum += Math.exp(f - max);
  const logZ = max + Math.log(sum * cellArea);
  return {
    halfWidth,
    axis: x,
    logDensity: Float64Array.from(values, (f) => f - logZ),
    logZ,
    cellArea,
  };
}

function checkSameGrid(name: string, p: GridDensity, q: GridDensity): void {
  if (p.logDensity.length !== q.logDensity.length || p.cellArea !== q.cellArea)
    throw new Error(
      `${name}: the densities are on different grids (${p.axis.length} vs ${q.axis.length} ` +
        `cells per axis); normalize both with the same halfWidth and n`,
    );
}

/** KL(p || q) = Σ_cells p (log p - log q) · area, in nats, for two densities on the same grid. */
export function gridKl(p: GridDensity, q: GridDensity): number {
  checkSameGrid('gridKl', p, q);
  let kl = 0;
  for (let c = 0; c < p.logDensity.length; c++) {
    const lp = p.logDensity[c];
    if (lp > -Infinity) kl += Math.exp(lp) * (lp - q.logDensity[c]) * p.cellArea;
  }
  return kl;
}

/** The density of a GridDensity as rows z[i][j] at (axis[j], axis[i]) for plot.heatmap. */
export function gridRows(density: GridDensity): number[][] {
  const n = density.axis.length;
  return Array.from({ length: n }, (_, i) =>
    Array.from(density.logDensity.subarray(i * n, (i + 1) * n), Math.exp),
  );
}

/**
 * Total variation between the empirical distribution of `points` [n, 2] over the grid's cells and
 * the density's cell masses p·area (points outside the window count as mass the density lacks):
 * ½ Σ_cells |n_c / n - p_c · area| + ½ (fraction outside).
 */
export function sampleTotalVariation(points: tf.Tensor2D, density: GridDensity): number {
  checkPoints('sampleTotalVariation(points)', points, 2);
  const xy = points.dataSync();
  const n = points.shape[0];
  if (n < 1) throw new Error('sampleTotalVariation: no points');
  const cells = density.axis.length;
  const h = (2 * density.halfWidth) / cells;
  const counts = new Float64Array(cells * cells);
  let outside = 0;
  for (let k = 0; k < n; k++) {
    const j = Math.floor((xy[2 * k] + density.halfWidth) / h);
    const i = Math.floor((xy[2 * k + 1] + density.halfWidth) / h);
    if (i >= 0 && i < cells && j >= 0 && j < cells) counts[i * cells + j] += 1 / n;
    else outside += 1 / n;
  }
  let tv = outside;
  density.logDensity.forEach((lp, c) => {
    tv += Math.abs(counts[c] - Math.exp(lp) * density.cellArea);
  });
  return tv / 2;
}

/**
 * n points [n, 2] drawn from a grid density: a cell with probability p·area, then a uniform point
 * in it (exact draws of the piecewise-constant density the grid represents).
 */
export function sampleFromGrid(density: GridDensity, n: number): tf.Tensor2D {
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`sampleFromGrid: n must be a positive integer, got ${n}`);
  const cells = density.axis.length;
  const h = (2 * density.halfWidth) / cells;
  const cumulative = new Float64Array(cells * cells);
  let total = 0;
  density.logDensity.forEach((lp, c) => {
    total += Math.exp(lp) * density.cellArea;
    cumulative[c] = total;
  });
  const points = new Float32Array(2 * n);
  for (let k = 0; k < n; k++) {
    const u = random() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    const [i, j] = [Math.floor(lo / cells), lo % cells];
    points[2 * k] = -density.halfWidth + (j + random()) * h;
    points[2 * k + 1] = -density.halfWidth + (i + random()) * h;
  }
  return tf.tensor2d(points, [n, 2]);
}

/**
 * The probability q puts on the cells where p is below `fraction` of its peak: the mass a model
 * spends away from the data (p the data's density, q the model's), which KL(p || q) pays for
 * through the normalization.
 */
export function massAwayFrom(q: GridDensity, p: GridDensity, fraction = 0.01): number {
  checkSameGrid('massAwayFrom', q, p);
  if (!(fraction > 0 && fraction < 1))
    throw new Error(`massAwayFrom: fraction must be in (0, 1), got ${fraction}`);
  let peak = -Infinity;
  for (const lp of p.logDensity) peak = Math.max(peak, lp);
  const threshold = peak + Math.log(fraction);
  let mass = 0;
  q.logDensity.forEach((lq, c) => {
    if (p.logDensity[c] < threshold) mass += Math.exp(lq) * q.cellArea;
  });
  return mass;
}
