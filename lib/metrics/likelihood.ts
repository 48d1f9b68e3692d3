/**
 * A model's log-likelihood of a test set: log p(x) of every image, their mean and the standard
 * error of the mean over images (how much the number would move on another test set of the same
 * size; the spread of any estimator inside log p(x) is part of it).
 */
import * as tf from '@tensorflow/tfjs';
import { ImageDataset } from '../data/mnist';

export interface LogLikelihood {
  /** Mean log p(x) per image (nats), or of its estimate. */
  mean: number;
  /** Standard error of the mean over images. */
  standardError: number;
  /** The value of every image. */
  perImage: Float32Array;
}

/** Mean and standard error of the mean of per-image values. */
export function summarizePerImage(perImage: Float32Array): LogLikelihood {
  const n = perImage.length;
  if (n < 2) throw new Error(`summarizePerImage: need at least 2 values, got ${n}`);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += perImage[i] / n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (perImage[i] - mean) ** 2 / (n - 1);
  if (!Number.isFinite(mean))
    throw new Error(`summarizePerImage: the values hold NaN or infinite entries (mean ${mean})`);
  return { mean, standardError: Math.sqrt(variance / n), perImage };
}

/**
 * log p(x) of every image of `dataset` by `logProb` (a batch [m, pixels] to its values [m]), in
 * batches in the data set's order, summarized.
 */
export function logLikelihoodOfImages(
  dataset: ImageDataset,
  logProb: (x: tf.Tensor2D) => tf.Tensor1D,
  batchSize = 1000,
): LogLikelihood {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  const perImage = new Float32Array(dataset.size);
  let offset = 0;
  for (const batch of dataset.batches(batchSize, { shuffle: false })) {
    const values = logProb(batch.x);
    perImage.set(values.dataSync(), offset);
    values.dispose();
    offset += batch.x.shape[0];
  }
  return summarizePerImage(perImage);
}
