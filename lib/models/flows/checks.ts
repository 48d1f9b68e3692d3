/** Input checks shared by the flow modules (not exported from the package). */
import * as tf from '@tensorflow/tfjs';
import { checkInteger } from '../../runtime/checks';

/** Throws unless `x` is a [batch, dim] tensor. */
export function checkPoints(who: string, x: tf.Tensor, dim: number): void {
  if (x.rank !== 2 || x.shape[1] !== dim) {
    throw new Error(
      `${who}: expected points of shape [batch, ${dim}], got [${x.shape.join(', ')}]; reshape to ` +
        `[n, ${dim}]`,
    );
  }
}

/** Throws unless `levels` holds integers in 0..L-1 (one data sync). */
export function checkLevels(who: string, levels: tf.Tensor, L: number): void {
  checkInteger(who, 'the number of levels L', L);
  const bad = tf.tidy(() =>
    tf.any(
      tf.logicalOr(
        tf.logicalOr(tf.less(levels, 0), tf.greater(levels, L - 1)),
        tf.logicalOr(tf.isNaN(levels), tf.notEqual(levels, tf.round(levels))),
      ),
    ),
  );
  const found = bad.dataSync()[0] === 1;
  bad.dispose();
  if (found)
    throw new Error(
      `${who}: expected integer levels 0..${L - 1} (8-bit pixels, say); got a value that is not ` +
        `one. Images scaled to [0, 1] become levels with pixelLevels(x).`,
    );
}
