/** Densities evaluated on a 2-D grid in one batched call, for contour and heatmap figures. */
import * as tf from '@tensorflow/tfjs';

/**
 * Evaluates a batched log-density at every grid point (x[j], y[i]) and returns z[i][j] (the layout
 * plot.contour and plot.heatmap expect), as densities (default) or log-densities.
 */
export function densityGrid(
  logDensity: (points: tf.Tensor2D) => tf.Tensor,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  options: { log?: boolean } = {},
): number[][] {
  const nx = x.length;
  const ny = y.length;
  if (nx < 2 || ny < 2)
    throw new Error(`densityGrid: needs at least 2 grid values on each axis, got ${nx} x ${ny}`);
  const points = new Float32Array(nx * ny * 2);
  for (let i = 0; i < ny; i++) {
    for (let j = 0; j < nx; j++) {
      points[2 * (i * nx + j)] = x[j];
      points[2 * (i * nx + j) + 1] = y[i];
    }
  }
  const values = tf.tidy(() => {
    const logp = logDensity(tf.tensor2d(points, [nx * ny, 2]));
    if (logp.size !== nx * ny)
      throw new Error(
        `densityGrid: the log-density returned ${logp.size} values for ${nx * ny} points`,
      );
    return options.log ? logp.dataSync() : tf.exp(logp).dataSync();
  });
  return Array.from({ length: ny }, (_, i) => Array.from(values.subarray(i * nx, (i + 1) * nx)));
}
