/**
 * Sample quality of generated digits, judged by the kit's MNIST classifier: which classes appear
 * (modes covered) and how evenly (entropy of the class histogram), and MNIST-FID, the Fréchet
 * distance between the classifier's penultimate-layer features of real and generated images.
 */
import * as tf from '@tensorflow/tfjs';
import { MnistClassifier } from './classifier';
import { frechetDistance, gaussianStats, GaussianStats } from './frechet';

export interface ClassHistogram {
  /** Images predicted as each class 0..9. */
  counts: number[];
  /** counts / n. */
  fractions: number[];
  /** Classes holding at least `minFraction` of the images. */
  modesCovered: number;
  /** H = -Σ_c p_c log p_c in nats (log 10 = 2.303 for a uniform histogram). */
  entropy: number;
}

/** Entropy in nats of a histogram of counts. */
export function histogramEntropy(counts: number[]): number {
  const n = counts.reduce((a, b) => a + b, 0);
  if (!(n > 0) || counts.some((c) => c < 0 || !Number.isFinite(c)))
    throw new Error(
      `histogramEntropy: counts must be non-negative with a positive sum, got ` +
        `[${counts.join(', ')}]`,
    );
  // H = -Σ p log p, with 0 log 0 = 0
  return counts.reduce((h, c) => (c > 0 ? h - (c / n) * Math.log(c / n) : h), 0);
}

/**
 * The classifier's class histogram of images [n, 784]; a class counts as covered when at least
 * `minFraction` of the images fall in it (default 0.01, a tenth of its fair share).
 */
export function classHistogram(
  classifier: MnistClassifier,
  images: tf.Tensor2D,
  minFraction = 0.01,
): ClassHistogram {
  if (!(minFraction > 0 && minFraction <= 1))
    throw new Error(`classHistogram: minFraction must be in (0, 1], got ${minFraction}`);
  const pred = classifier.predict(images);
  const counts = new Array<number>(10).fill(0);
  for (const c of pred) counts[c]++;
  const n = pred.length;
  return {
    counts,
    fractions: counts.map((c) => c / n),
    modesCovered: counts.filter((c) => c >= minFraction * n).length,
    entropy: histogramEntropy(counts),
  };
}

/** Gaussian statistics of the classifier's features of images [n, 784]. */
export function featureStats(classifier: MnistClassifier, images: tf.Tensor2D): GaussianStats {
  return gaussianStats({
    values: classifier.featureValues(images),
    rows: images.shape[0],
    cols: classifier.featureDim,
  });
}

/**
 * MNIST-FID: d² between Gaussians fitted to the classifier's penultimate features of `real` and
 * `generated` images. Pass precomputed `GaussianStats` of the real side to avoid recomputing it.
 */
export function mnistFid(
  classifier: MnistClassifier,
  real: tf.Tensor2D | GaussianStats,
  generated: tf.Tensor2D,
): number {
  const realStats = real instanceof tf.Tensor ? featureStats(classifier, real) : real;
  return frechetDistance(realStats, featureStats(classifier, generated));
}
