/**
 * What an RBM looks like, as plain arrays for figures: its filters and snapshots of its Gibbs
 * chains (binary or Gaussian visible units alike).
 */
import * as tf from '@tensorflow/tfjs';
import { checkInteger } from '../../runtime/checks';
import { runLoop } from '../../runtime/loop';
import { toRows } from '../../runtime/values';
import { ContrastiveModel } from './train';

/** A two-layer machine whose Gibbs chains can be pictured: block Gibbs plus the mean E[v | h]. */
export interface PicturedModel extends ContrastiveModel {
  /** E[v | h], [batch, visible]. */
  visibleMean(h: tf.Tensor2D): tf.Tensor2D;
}

/** The first `count` filters W[:, j] (one image per hidden unit), as rows of `visible` values. */
export function filterImages(model: ContrastiveModel, count: number): number[][] {
  checkInteger('filterImages', 'count', count, 1, model.hidden);
  return toRows(tf.tidy(() => tf.transpose(tf.slice(model.weights, [0, 0], [-1, count]))));
}

/**
 * Snapshots of block-Gibbs chains v -> h ~ p(h | v) -> v ~ p(v | h): for each step count in
 * `after` (increasing; 0 is the start itself), the n chains' E[v | h] of that step, smoother to
 * look at than the sampled v. The chains start at `start` (n images as rows of `visible` values)
 * or, given a number n, at the model's random visible states. Returns the snapshots' images one
 * after another (n per snapshot). A kit loop: an interrupt stops it after the step in progress,
 * and the snapshots taken by then are returned.
 */
export async function gibbsSnapshots(
  model: PicturedModel,
  start: Float32Array | number,
  after: number[],
): Promise<number[][]> {
  if (
    !Array.isArray(after) ||
    after.length === 0 ||
    after.some((s, i) => !Number.isInteger(s) || s < 0 || (i > 0 && s <= after[i - 1]))
  )
    throw new Error(
      `gibbsSnapshots: after must be increasing step counts >= 0, e.g. [0, 1, 10, 100], got ` +
        `${JSON.stringify(after)}`,
    );
  let v: tf.Tensor2D;
  if (typeof start === 'number') {
    checkInteger('gibbsSnapshots', 'the number of chains', start);
    v = model.randomVisible(start);
  } else {
    const n = start.length / model.visible;
    if (!(start instanceof Float32Array) || !Number.isInteger(n) || n < 1)
      throw new Error(
        `gibbsSnapshots: start must be a number of chains or a Float32Array of whole images of ` +
          `${model.visible} values`,
      );
    v = tf.tensor2d(start, [n, model.visible]);
    try {
      model.checkVisible('gibbsSnapshots(start)', v);
    } catch (err) {
      v.dispose();
      throw err;
    }
  }
  const images: number[][] = [];
  const last = after[after.length - 1];
  let done = 0;
  await runLoop('Gibbs sampling', async (loop) => {
    for (const s of after) {
      if (s === 0) {
        images.push(...(v.arraySync() as number[][]));
        continue;
      }
      let mean: tf.Tensor2D | undefined;
      for (; done < s; done++) {
        if (await loop.shouldStop()) {
          mean?.dispose();
          loop.stop(`step ${done}/${last}`, 'the figure shows the snapshots taken before');
          return;
        }
        const next = tf.tidy(() => {
          const h = model.sampleHidden(v);
          return {
            v: model.sampleVisible(h),
            mean: done + 1 === s ? model.visibleMean(h) : undefined,
          };
        });
        v.dispose();
        v = next.v;
        mean = next.mean;
      }
      images.push(...toRows(mean as tf.Tensor2D));
    }
  });
  v.dispose();
  return images;
}
