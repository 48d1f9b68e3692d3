/**
 * Plain numbers out of energy-based models, for notebook cells that need values rather than
 * tensors: Langevin paths as coordinates, the total variation of drawn points, a histogram of
 * points. Each helper frees the tensors it makes, so a cell needs no dispose, tidy or dataSync of
 * its own.
 */
import * as tf from '@tensorflow/tfjs';
import { histogramDensity } from '../flows/figures';
import { checkFunction } from '../../runtime/checks';
import { checkPoints } from './checks';
import { Energy } from './energy';
import { GridDensity, sampleTotalVariation } from './grid';
import { langevin, LangevinOptions } from './langevin';

/**
 * Langevin chains from the points `starts` [n][d]: the path of every chain, its start first and
 * then the point after each of the `steps` updates, as coordinates [n][steps + 1][d].
 */
export function langevinPaths(
  energy: Energy,
  starts: number[][],
  options: Omit<LangevinOptions, 'onStep'>,
): number[][][] {
  if (!Array.isArray(starts) || starts.length === 0 || !Array.isArray(starts[0]))
    throw new Error('langevinPaths: starts must be a non-empty list of points [n][d]');
  const d = starts[0].length;
  const bad = starts.findIndex(
    (p) => !Array.isArray(p) || p.length !== d || p.some((v) => !Number.isFinite(v)),
  );
  if (bad >= 0)
    throw new Error(
      `langevinPaths: start ${bad} must be ${d} finite numbers like start 0, got ` +
        JSON.stringify(starts[bad]),
    );
  if ('onStep' in options)
    throw new Error('langevinPaths: onStep is not an option here (the paths are returned)');
  const paths = starts.map((p) => [p.slice()]);
  tf.tidy(() => {
    langevin(energy, tf.tensor2d(starts), {
      ...options,
      onStep: (_, x) => x.arraySync().forEach((p, i) => paths[i].push(p)),
    });
  });
  return paths;
}

/**
 * The total variation (sampleTotalVariation) between the points draw() returns [n, 2] and a grid
 * density. draw runs in a tidy scope: its points and everything it made are freed.
 */
export function totalVariationOf(draw: () => tf.Tensor2D, density: GridDensity): number {
  checkFunction('totalVariationOf', 'draw', draw);
  return tf.tidy(() => {
    const points = draw();
    if (!(points instanceof tf.Tensor))
      throw new Error(`totalVariationOf: draw must return a tensor of points [n, 2]`);
    return sampleTotalVariation(points, density);
  });
}

/** A normalized 2D histogram (flows.histogramDensity) of points [n, 2] over [-L, L]². */
export function histogramOf(
  points: tf.Tensor2D,
  halfWidth: number,
  bins: number,
): { x: number[]; z: number[][] } {
  checkPoints('histogramOf(points)', points, 2);
  return histogramDensity(points.dataSync(), halfWidth, bins);
}
