/**
 * Importance-weighted estimate of log p(x) (Burda et al. 2016): with z_k ~ q(z | x), k = 1..K,
 *   log p(x) >= L_K = log (1/K) sum_k p(x | z_k) p(z_k) / q(z_k | x),
 * L_1 is the ELBO (in expectation), L_K increases with K and tends to log p(x). Samples are drawn
 * in chunks of at most `chunkRows` decoded images, so K = 5,000 needs no more memory than a few
 * batches.
 */
import * as tf from '@tensorflow/tfjs';
import { ImageDataset } from '../../data/mnist';
import { checkInteger, checkOptions, OptionKeys } from '../../runtime/checks';
import { runLoop, yieldToEventLoop } from '../../runtime/loop';
import { progress } from '../../runtime/progress';
import { diagonalGaussian, Labels, VAE } from './vae';

export interface IwaeOptions {
  /** Importance samples K per image (default 5000). */
  samples?: number;
  /** Most decoded images held at once (default 5000). */
  chunkRows?: number;
}

export interface IwaeDatasetOptions extends IwaeOptions {
  /** Images per batch (default 100). */
  batchSize?: number;
  /** Show a progress bar (default true). */
  progress?: boolean;
}

const IWAE_KEYS: OptionKeys<IwaeOptions> = { samples: true, chunkRows: true };
const IWAE_DATASET_KEYS: OptionKeys<IwaeDatasetOptions> = {
  ...IWAE_KEYS,
  batchSize: true,
  progress: true,
};

function checkIwae(
  who: string,
  model: VAE,
  options: IwaeOptions,
): { samples: number; chunkRows: number } {
  const samples = options.samples ?? 5000;
  const chunkRows = options.chunkRows ?? 5000;
  if (!model.isVariational)
    throw new Error(
      'importance-weighted log p(x) needs a VAE: an autoencoder defines no q(z | x) or p(x)',
    );
  checkInteger(who, 'samples (K)', samples);
  checkInteger(who, 'chunkRows', chunkRows);
  return { samples, chunkRows };
}

/**
 * L_K per image [n] for a batch x [n, inputDim] (nats; an estimate of log p(x), biased low). It
 * lets the event loop run between chunks of samples.
 */
export async function importanceWeightedLogLikelihood(
  model: VAE,
  x: tf.Tensor2D,
  labels?: Labels,
  options: IwaeOptions = {},
): Promise<Float32Array> {
  const who = 'importanceWeightedLogLikelihood';
  checkOptions(who, options, IWAE_KEYS);
  const { samples, chunkRows } = checkIwae(who, model, options);
  const n = model.checkInput(x);
  const d = model.config.latentDim;
  const perChunk = Math.max(1, Math.min(samples, Math.floor(chunkRows / n)));
  const { mean, logVar } = model.encode(x, labels);
  const oneHot = model.oneHot(labels, n);
  const classLabels = oneHot
    ? tf.tidy(() => tf.tile(tf.argMax(oneHot, 1), [perChunk]) as tf.Tensor1D)
    : undefined;
  let running = tf.fill([n], -Infinity) as tf.Tensor1D;
  try {
    for (let done = 0; done < samples; done += perChunk) {
      await yieldToEventLoop();
      const s = Math.min(perChunk, samples - done);
      const next = tf.tidy(() => {
        // z_k ~ q(z | x), s samples of every image: [s, n, d]
        const q = diagonalGaussian(mean, logVar!);
        const z = q.rsample([s]);
        const chunkLabels =
          classLabels && s !== perChunk ? classLabels.slice(0, s * n) : classLabels;
        const output = tf.reshape(
          model.decoderOutput(tf.reshape(z, [s * n, d]) as tf.Tensor2D, chunkLabels),
          [s, n, model.config.inputDim],
        );
        // log w_k = log p(x | z_k) + log p(z_k) - log q(z_k | x), as [s, n]
        const logW = tf.sub(
          tf.add(model.decoderDistribution(output).logProb(x), model.prior.logProb(z)),
          q.logProb(z),
        );
        return tf.logSumExp(tf.stack([running, tf.logSumExp(logW, 0)]), 0) as tf.Tensor1D;
      });
      running.dispose();
      running = next;
    }
    const estimate = tf.sub(running, Math.log(samples));
    const values = estimate.dataSync() as Float32Array;
    estimate.dispose();
    return values;
  } finally {
    tf.dispose([mean, logVar!, running]);
    if (oneHot) oneHot.dispose();
    if (classLabels) classLabels.dispose();
  }
}

/**
 * L_K averaged over a data set (nats per image), with its standard error over images, as a kit
 * loop: when interrupted, over the images done (`perImage` holds them).
 */
export async function importanceWeightedLogLikelihoodOf(
  model: VAE,
  dataset: ImageDataset,
  options: IwaeDatasetOptions = {},
): Promise<{
  mean: number;
  standardError: number;
  perImage: Float32Array;
  interrupted: boolean;
}> {
  const who = 'importanceWeightedLogLikelihoodOf';
  checkOptions(who, options, IWAE_DATASET_KEYS);
  const iwae = checkIwae(who, model, options);
  const batchSize = options.batchSize ?? 100;
  checkInteger(who, 'batchSize', batchSize);
  const values = new Float32Array(dataset.size);
  const batchCount = dataset.batchCount(batchSize);
  const bar =
    options.progress === false
      ? undefined
      : progress(batchCount, { label: `IWAE K=${iwae.samples}` });
  let offset = 0;
  const interrupted = await runLoop('IWAE', async (loop) => {
    for (const batch of dataset.batches(batchSize, { shuffle: false })) {
      if (await loop.shouldStop()) {
        bar?.stop();
        loop.stop(
          `batch ${batch.index}/${batchCount}`,
          `the estimate covers the first ${offset} of ${dataset.size} images`,
        );
        return true;
      }
      const labels = model.config.classes > 0 ? batch.y : undefined;
      values.set(await importanceWeightedLogLikelihood(model, batch.x, labels, iwae), offset);
      offset += batch.x.shape[0];
      bar?.tick();
    }
    bar?.done();
    return false;
  });
  const perImage = values.subarray(0, offset);
  const mean = perImage.reduce((a, b) => a + b, 0) / perImage.length;
  const variance =
    perImage.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, perImage.length - 1);
  return { mean, standardError: Math.sqrt(variance / perImage.length), perImage, interrupted };
}
