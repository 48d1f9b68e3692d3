/** Input checks shared by the energy-based models. */
import * as tf from '@tensorflow/tfjs';

/** Throws unless `x` is a [n, dim] tensor (any dim when undefined). */
export function checkPoints(caller: string, x: tf.Tensor, dim?: number): void {
  if (!(x instanceof tf.Tensor) || x.rank !== 2 || (dim !== undefined && x.shape[1] !== dim)) {
    const got = x instanceof tf.Tensor ? `[${x.shape.join(', ')}]` : typeof x;
    throw new Error(`${caller}: expected points [n, ${dim ?? 'd'}], got ${got}`);
  }
}
