/**
 * Plain numbers out of flows, for notebook cells that need values rather than tensors: a density or
 * any per-point quantity on a 2D grid as rows of numbers, samples and base points as coordinates,
 * the mass of each branch of a two-branch target, and the time of a flow's two directions. Each
 * helper frees the tensors it makes, so a cell needs no dispose, tidy or dataSync of its own.
 */
import * as tf from '@tensorflow/tfjs';
import { checkFunction, checkInteger } from '../../runtime/checks';
import { millisecondsPerCall } from '../../runtime/timing';
import { EnergyName, gridValues, secondBranchShare, target, WINDOW } from './energies';
import { NormalizingFlow } from './flow';

/** Values on the midpoints x × x of a grid: z[i][j] at (x[j], x[i]) (row i: z2, column j: z1). */
export interface GridRows {
  x: number[];
  z: number[][];
  cellArea: number;
}

/** f on the midpoints of an n × n grid over [-L, L]², as rows of numbers (see gridValues). */
export function gridRows(
  f: (z: tf.Tensor2D) => tf.Tensor1D,
  halfWidth: number,
  n: number,
): GridRows {
  checkFunction('gridRows', 'f', f);
  const { values, x, cellArea } = gridValues(f, halfWidth, n);
  const z = Array.from({ length: n }, (_, r) => Array.from(values.subarray(r * n, (r + 1) * n)));
  return { x, z, cellArea };
}

/**
 * The density exp(log p(z)) of a 2D model (a flow, a target) on an n × n grid over [-L, L]², and
 * its mass there (Σ density × cell area: close to 1 when the window holds the model's mass).
 */
export function densityGrid(
  model: { logProb(z: tf.Tensor2D): tf.Tensor1D },
  halfWidth: number,
  n: number,
): GridRows & { mass: number } {
  checkFunction('densityGrid', 'model.logProb', model?.logProb);
  const grid = gridRows((z) => tf.exp(model.logProb(z)) as tf.Tensor1D, halfWidth, n);
  const total = grid.z.reduce((s, row) => row.reduce((t, v) => t + v, s), 0);
  return { ...grid, mass: total * grid.cellArea };
}

/** n samples of a flow as rows of coordinates [n][dim]. */
export function sampleRows(flow: NormalizingFlow, n: number): number[][] {
  checkInteger('sampleRows', 'sample size n', n);
  return tf.tidy(() => flow.sample(n).x.arraySync());
}

function pointsTensor(who: string, points: number[][], dim: number): tf.Tensor2D {
  if (!Array.isArray(points) || points.length === 0)
    throw new Error(`${who}: expected a non-empty list of points [n][${dim}]`);
  const bad = points.findIndex(
    (p) => !Array.isArray(p) || p.length !== dim || p.some((v) => !Number.isFinite(v)),
  );
  if (bad >= 0)
    throw new Error(
      `${who}: point ${bad} must be ${dim} finite numbers, got ${JSON.stringify(points[bad])}`,
    );
  return tf.tensor2d(points);
}

/**
 * The base points z_0 = f^{-1}(x) of data points x [n][dim] and log |det ∂f^{-1}/∂x| at each, as
 * plain arrays.
 */
export function toBase(
  flow: NormalizingFlow,
  points: number[][],
): { z: number[][]; logDet: number[] } {
  const x = pointsTensor('toBase', points, flow.dim);
  const { y, logDet } = flow.inverseWithLogDet(x, 'toBase');
  const out = { z: y.arraySync(), logDet: Array.from(logDet.dataSync()) };
  tf.dispose([x, y, logDet]);
  return out;
}

const SURE = 0.9;

function checkTwoBranches(who: string, name: EnergyName): void {
  if (!['U1', 'U3', 'U4'].includes(name))
    throw new Error(`${who}: expected a two-branch energy 'U1', 'U3' or 'U4', got '${name}'`);
}

/**
 * The fraction of 2D points that lie in each branch of a two-branch target (U1, U3, U4), where
 * that branch holds over 90% of the density: [first, second]. Points in neither are counted in
 * neither.
 */
export function branchMasses(name: EnergyName, points: number[][]): [number, number] {
  checkTwoBranches('branchMasses', name);
  const x = pointsTensor('branchMasses', points, 2);
  const [first, second] = tf.tidy(() => {
    const share = secondBranchShare(name, x);
    const fraction = (inside: tf.Tensor) => tf.mean(tf.cast(inside, 'float32')).dataSync()[0];
    return [fraction(tf.less(share, 1 - SURE)), fraction(tf.greater(share, SURE))];
  });
  x.dispose();
  return [first, second];
}

/**
 * The target's own mass in each branch (as branchMasses), integrated on an n × n grid over the
 * window and one unit beyond it (default 600 per axis).
 */
export function targetBranchMasses(name: EnergyName, n = 600): [number, number] {
  checkTwoBranches('targetBranchMasses', name);
  const p = target(name);
  const mass = (second: boolean) => {
    const { values, cellArea } = gridValues(
      (z) =>
        tf.tidy(() => {
          const share = secondBranchShare(name, z);
          const inside = second ? tf.greater(share, SURE) : tf.less(share, 1 - SURE);
          return tf.mul(tf.exp(p.logProb(z)), tf.cast(inside, 'float32')) as tf.Tensor1D;
        }),
      WINDOW + 1,
      n,
    );
    return values.reduce((s, v) => s + v, 0) * cellArea;
  };
  return [mass(false), mass(true)];
}

/**
 * The time of a flow's two directions through its layers on n points: `density` maps n data
 * points to the base (f⁻¹ and its log-determinant: what log q needs), `sampling` maps n base points
 * to data (f and its log-determinant). The base distribution's own cost, the same either way, is
 * left out. Milliseconds per call, the median of 7 calls after 2 warm-ups.
 */
export function directionTimes(
  flow: NormalizingFlow,
  n: number,
): { densityMs: number; samplingMs: number } {
  checkInteger('directionTimes', 'the number of points n', n);
  const z0 = tf.tidy(() => flow.base.sample(n));
  const x = tf.tidy(() => flow.forward(z0).y);
  const densityMs = millisecondsPerCall(() => flow.inverseWithLogDet(x, 'directionTimes'));
  const samplingMs = millisecondsPerCall(() => flow.forward(z0));
  tf.dispose([z0, x]);
  return { densityMs, samplingMs };
}
