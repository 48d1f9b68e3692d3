/**
 * Training a VAE (or autoencoder) by stochastic gradient ascent on the ELBO: the setup of PyTorch's
 * classic example (Adam lr 1e-3, batch 128, loss summed over the batch), with per-epoch train and
 * test metrics kept in a `training.History` and a progress display.
 */
import * as tf from '@tensorflow/tfjs';
import { ImageDataset } from '../../data/mnist';
import { checkInteger, checkOptions, OptionKeys } from '../../runtime/checks';
import { progress } from '../../runtime/progress';
import { AdamTrainer, AdamTrainerOptions } from '../../training/trainer';
import { History } from '../../training/history';
import { VAE } from './vae';

/** Average per-image terms over a data set (nats per image). */
export interface VaeMetrics {
  /** reconstruction + klWeight * kl: the training objective. */
  loss: number;
  /** -E_q[log p(x | z)], one sample per image. */
  reconstruction: number;
  /** KL(q(z | x) || p(z)). */
  kl: number;
  /** reconstruction + kl: the negative ELBO (an upper bound on -log p(x)). */
  negElbo: number;
}

/** Adam's learning rate (default 1e-3) and the batch size (default 128). */
export type TrainerOptions = AdamTrainerOptions;

export interface FitOptions {
  epochs: number;
  /** Evaluated after every epoch (test loss, reconstruction, KL). */
  test?: ImageDataset;
  /**
   * Rows { epoch, 'train loss', 'test loss', ... } are pushed here (a LiveHistory redraws its
   * curves).
   */
  history?: History;
  /** Show a progress bar per epoch (default true). */
  progress?: boolean;
}

const FIT_KEYS: OptionKeys<FitOptions> = {
  epochs: true,
  test: true,
  history: true,
  progress: true,
};

function averages(
  sums: { reconstruction: number; kl: number },
  count: number,
  klWeight: number,
): VaeMetrics {
  const reconstruction = sums.reconstruction / count;
  const kl = sums.kl / count;
  return { loss: reconstruction + klWeight * kl, reconstruction, kl, negElbo: reconstruction + kl };
}

/** Per-image averages of the ELBO terms over a data set, in batches, without training. */
export function evaluate(model: VAE, dataset: ImageDataset, batchSize = 500): VaeMetrics {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`evaluate: batchSize must be a positive integer, got ${batchSize}`);
  const sums = { reconstruction: 0, kl: 0 };
  for (const batch of dataset.batches(batchSize, { shuffle: false })) {
    const labels = model.config.classes > 0 ? batch.y : undefined;
    const sumsOfBatch = tf.tidy(() => {
      const terms = model.elboTerms(batch.x, labels);
      return tf.stack([tf.sum(terms.reconstruction), tf.sum(terms.kl)]);
    });
    const [rec, kl] = sumsOfBatch.dataSync() as Float32Array;
    sumsOfBatch.dispose();
    sums.reconstruction += rec;
    sums.kl += kl;
  }
  return averages(sums, dataset.size, model.config.klWeight);
}

/**
 * A model with its Adam optimizer and the count of epochs done: what must be saved to continue
 * training exactly where it stopped.
 */
export class VaeTrainer extends AdamTrainer<VAE> {
  constructor(model: VAE, options: TrainerOptions = {}) {
    super(model, options, 128, 'VaeTrainer');
  }

  /** One Adam step on a batch; returns the batch's summed reconstruction and KL terms. */
  step(x: tf.Tensor2D, labels?: tf.Tensor1D): { reconstruction: number; kl: number } {
    const model = this.model;
    let terms: tf.Tensor | undefined;
    const loss = this.optimizer.minimize(
      () => {
        const elbo = model.elboTerms(x, labels);
        terms = tf.keep(tf.stack([tf.sum(elbo.reconstruction), tf.sum(elbo.kl)]));
        return model.objective(elbo);
      },
      true,
      model.variables(),
    );
    loss?.dispose();
    const [reconstruction, kl] = terms!.dataSync() as Float32Array;
    terms!.dispose();
    if (!Number.isFinite(reconstruction) || !Number.isFinite(kl)) {
      throw new Error(
        `training diverged at step ${this.optimizer.iterations}: reconstruction ` +
          `${reconstruction}, KL ${kl}; lower the learning rate`,
      );
    }
    return { reconstruction, kl };
  }

  /**
   * Trains for `epochs` passes over `train`; returns the metrics of the last epoch. Asynchronous:
   * it yields to the event loop after every step so a notebook kernel can send the progress and
   * curve updates (a kernel blocked for minutes with queued sends can crash).
   */
  async fit(
    train: ImageDataset,
    options: FitOptions,
  ): Promise<{ train: VaeMetrics; test?: VaeMetrics }> {
    checkOptions('VaeTrainer.fit', options, FIT_KEYS);
    checkInteger('VaeTrainer.fit', 'epochs', options.epochs);
    const klWeight = this.model.config.klWeight;
    let last: { train: VaeMetrics; test?: VaeMetrics } | undefined;
    for (let e = 0; e < options.epochs; e++) {
      const epoch = this.epochsDone + 1;
      const start = Date.now();
      const bar =
        options.progress === false
          ? undefined
          : progress(train.batchCount(this.batchSize), { label: `epoch ${epoch}` });
      const sums = { reconstruction: 0, kl: 0 };
      let seen = 0;
      for (const batch of train.batches(this.batchSize)) {
        const step = this.step(batch.x, this.model.config.classes > 0 ? batch.y : undefined);
        sums.reconstruction += step.reconstruction;
        sums.kl += step.kl;
        seen += batch.x.shape[0];
        bar?.tick({ loss: averages(sums, seen, klWeight).loss });
        await new Promise((resolve) => setImmediate(resolve));
      }
      const seconds = (Date.now() - start) / 1000;
      const trainMetrics = averages(sums, seen, klWeight);
      const testMetrics = options.test ? evaluate(this.model, options.test) : undefined;
      bar?.done(testMetrics ? { 'test loss': testMetrics.loss } : undefined);
      this.epochsDone = epoch;
      options.history?.push({
        epoch,
        'train loss': trainMetrics.loss,
        ...(testMetrics
          ? {
              'test loss': testMetrics.loss,
              'test reconstruction': testMetrics.reconstruction,
              'test KL': testMetrics.kl,
            }
          : {}),
        'train seconds': seconds,
      });
      last = { train: trainMetrics, test: testMetrics };
    }
    return last!;
  }
}
