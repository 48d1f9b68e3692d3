/**
 * The kit's binarized MNIST: the one data set on which every likelihood in the kit is reported
 * (notebooks 05, 07 and 13, and the leaderboard of lib/metrics/leaderboard).
 *
 * Which binarization: each pixel is drawn once as Bernoulli(intensity) by a fixed generator that
 * does not depend on the notebook's seed (`ImageDataset.binarized('static')`), so every user, every
 * run and every model scores the same 10,000 binary test images. This is the choice of the
 * likelihood references (Salakhutdinov & Murray 2008, whose stochastically binarized MNIST the
 * RBM, DBM, NADE, MADE and PixelCNN numbers use). Thresholding at 0.5 gives another data set (grey
 * edge pixels become certain), whose likelihoods are not comparable with the references; a test
 * set binarized afresh on every run would make every number depend on the run. The pixels are not
 * those of the references' file (no npm package ships it), but they are drawn the same way.
 */
import * as crypto from 'crypto';
import { ImageDataset, LoadOptions, loadMnist, Split } from './mnist';

/**
 * MNIST binarized once by the kit's fixed generator (see above): `loadBinarizedMnist('test')` is
 * the test set of every likelihood in the kit. `limit` keeps the first images (the same pixels as
 * the full set's first images).
 */
export function loadBinarizedMnist(split: Split, options: LoadOptions = {}): ImageDataset {
  return loadMnist(split, options).binarized('static');
}

/**
 * A short fingerprint of a data set's pixels and shape (the first 16 hex digits of a SHA-256): two
 * scores are on the same images exactly when their fingerprints agree.
 */
export function fingerprint(dataset: ImageDataset): string {
  return crypto
    .createHash('sha256')
    .update(`${dataset.size}x${dataset.rows}x${dataset.cols}:`)
    .update(
      new Uint8Array(dataset.images.buffer, dataset.images.byteOffset, dataset.images.byteLength),
    )
    .digest('hex')
    .slice(0, 16);
}
