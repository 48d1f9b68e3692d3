/**
 * Training a VAE (or autoencoder) by stochastic gradient ascent on the ELBO: the setup of PyTorch's
 * classic example (Adam lr 1e-3, batch 128, loss summed over the batch), with per-epoch train and
 * test metrics kept in a `training.History` and a progress display.
 */
import * as tf from '@tensorflow/tfjs';
import { Batch, ImageDataset } from '../../data/mnist';
import { checkInteger, checkOptions, OptionKeys } from '../../runtime/checks';
import { KitLoop, runLoop } from '../../runtime/loop';
import { Progress, progress } from '../../runtime/progress';
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

/**
 * Per-image averages of the ELBO terms over a data set, in batches, without training, as a kit
 * loop; when interrupted, the averages of the images done (`images` says how many).
 */
export async function evaluate(
  model: VAE,
  dataset: ImageDataset,
  batchSize = 500,
): Promise<VaeMetrics & { images: number; interrupted: boolean }> {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`evaluate: batchSize must be a positive integer, got ${batchSize}`);
  const sums = { reconstruction: 0, kl: 0 };
  let images = 0;
  const batchCount = dataset.batchCount(batchSize);
  const interrupted = await runLoop('VAE evaluation', async (loop) => {
    for (const batch of dataset.batches(batchSize, { shuffle: false })) {
      if (await loop.shouldStop()) {
        loop.stop(
          `batch ${batch.index}/${batchCount}`,
          `the averages cover the first ${images} of ${dataset.size} images`,
        );
        return true;
      }
      const labels = model.config.classes > 0 ? batch.y : undefined;
      const sumsOfBatch = tf.tidy(() => {
        const terms = model.elboTerms(batch.x, labels);
        return tf.stack([tf.sum(terms.reconstruction), tf.sum(terms.kl)]);
      });
      const [rec, kl] = sumsOfBatch.dataSync() as Float32Array;
      sumsOfBatch.dispose();
      sums.reconstruction += rec;
      sums.kl += kl;
      images += batch.x.shape[0];
    }
    return false;
  });
  return { ...averages(sums, images, model.config.klWeight), images, interrupted };
}

/** An epoch that an interrupt left unfinished: the next `fit` trains its remaining batches. */
interface UnfinishedEpoch {
  epoch: number;
  dataset: ImageDataset;
  batches: Generator<Batch>;
  /** The last batch trained (its tensors are freed at the interrupt). */
  last: Batch;
  sums: { reconstruction: number; kl: number };
  seen: number;
  seconds: number;
}

/**
 * A model with its Adam optimizer and the count of epochs done: what must be saved to continue
 * training exactly where it stopped.
 */
export class VaeTrainer extends AdamTrainer<VAE> {
  private unfinished: UnfinishedEpoch | undefined;

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
   * Trains for `epochs` passes over `train`; returns the metrics of the last epoch. A kit loop: it
   * lets the event loop run between steps (so a notebook kernel sends the progress and curve
   * updates and receives an interrupt), and an interrupt stops it after the batch in progress, with
   * `interrupted` true. The next `fit` on the same data then first trains the rest of the
   * unfinished epoch (the same batches in the same order) and counts it as the first of its
   * `epochs`: an interrupted fit followed by a second one trains exactly as one fit would.
   */
  async fit(
    train: ImageDataset,
    options: FitOptions,
  ): Promise<{ train: VaeMetrics; test?: VaeMetrics; interrupted: boolean }> {
    checkOptions('VaeTrainer.fit', options, FIT_KEYS);
    checkInteger('VaeTrainer.fit', 'epochs', options.epochs);
    if (this.unfinished && this.unfinished.dataset !== train) this.abandonUnfinishedEpoch();
    const klWeight = this.model.config.klWeight;
    let last: { train: VaeMetrics; test?: VaeMetrics } | undefined;
    const interrupted = await runLoop(
      'VAE training',
      async (loop) => {
        for (let e = 0; e < options.epochs; e++) {
          const epoch = this.epochsDone + 1;
          const bar =
            options.progress === false
              ? undefined
              : progress(train.batchCount(this.batchSize), {
                  label: `epoch ${epoch}${this.unfinished ? ' (continued)' : ''}`,
                });
          const done = await this.trainEpoch(loop, train, epoch, bar);
          const trainMetrics = averages(done.sums, done.seen, klWeight);
          if (done.interrupted) {
            last = { train: trainMetrics };
            return true;
          }
          const test = options.test ? await evaluate(this.model, options.test) : undefined;
          const testMetrics = test && !test.interrupted ? test : undefined;
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
            'train seconds': done.seconds,
          });
          last = { train: trainMetrics, test: testMetrics };
          if (test?.interrupted) return true;
        }
        return false;
      },
      { then: 'calling fit again continues from there' },
    );
    return { ...last!, interrupted };
  }

  /**
   * The batches of one epoch (the rest of the unfinished one, if any); on an interrupt, stops
   * before the next batch and keeps the epoch as unfinished.
   */
  private async trainEpoch(
    loop: KitLoop,
    train: ImageDataset,
    epoch: number,
    bar: Progress | undefined,
  ): Promise<{
    sums: { reconstruction: number; kl: number };
    seen: number;
    seconds: number;
    interrupted: boolean;
  }> {
    const klWeight = this.model.config.klWeight;
    const resumed = this.unfinished;
    this.unfinished = undefined;
    const start = Date.now() - 1000 * (resumed?.seconds ?? 0);
    const batches = resumed?.batches ?? train.batches(this.batchSize);
    const sums = resumed?.sums ?? { reconstruction: 0, kl: 0 };
    let seen = resumed?.seen ?? 0;
    let batch = resumed?.last;
    let done = batch ? batch.index + 1 : 0;
    if (done > 0) bar?.tick({ loss: averages(sums, seen, klWeight).loss }, done);
    try {
      for (;;) {
        if (await loop.shouldStop()) {
          bar?.stop();
          const seconds = (Date.now() - start) / 1000;
          if (batch) {
            tf.dispose([batch.x, batch.y]);
            this.unfinished = { epoch, dataset: train, batches, last: batch, sums, seen, seconds };
          }
          loop.stop(
            `epoch ${epoch}, batch ${done}/${train.batchCount(this.batchSize)}`,
            'the model keeps its last completed batch',
          );
          return { sums, seen, seconds, interrupted: true };
        }
        const next = batches.next();
        if (next.done) break;
        batch = next.value;
        const step = this.step(batch.x, this.model.config.classes > 0 ? batch.y : undefined);
        sums.reconstruction += step.reconstruction;
        sums.kl += step.kl;
        seen += batch.x.shape[0];
        done++;
        bar?.tick({ loss: averages(sums, seen, klWeight).loss });
      }
    } finally {
      if (this.unfinished?.batches !== batches) batches.return(undefined);
    }
    return { sums, seen, seconds: (Date.now() - start) / 1000, interrupted: false };
  }

  /** The epoch an interrupt left unfinished, if any: its number and the batches done. */
  get unfinishedEpoch(): { epoch: number; batches: number } | undefined {
    return (
      this.unfinished && { epoch: this.unfinished.epoch, batches: this.unfinished.last.index + 1 }
    );
  }

  private abandonUnfinishedEpoch(): void {
    this.unfinished?.batches.return(undefined);
    this.unfinished = undefined;
  }

  override dispose(): void {
    this.abandonUnfinishedEpoch();
    super.dispose();
  }
}
