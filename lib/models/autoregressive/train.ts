/**
 * Training MADE by maximum likelihood: the exact log-likelihood is the objective, so training is
 * plain stochastic gradient descent on the average negative log-likelihood of a mini-batch (Adam,
 * PyTorch's defaults), one mask drawn per step when the model has several.
 */
import * as tf from '@tensorflow/tfjs';
import { ImageDataset } from '../../data/mnist';
import { LogLikelihood, logLikelihoodOfImages } from '../../metrics/likelihood';
import { checkInteger, checkOneOf, checkOptions, OptionKeys } from '../../runtime/checks';
import { runLoop } from '../../runtime/loop';
import { progress } from '../../runtime/progress';
import { random } from '../../runtime/random';
import { AdamTrainer, AdamTrainerOptions } from '../../training/trainer';
import { History } from '../../training/history';
import { MADE } from './made';

function checkDataset(model: MADE, dataset: ImageDataset, what: string): void {
  if (!(dataset instanceof ImageDataset))
    throw new Error(`${what}: expected a data set such as data.loadBinarizedMnist('test')`);
  if (dataset.pixels !== model.inputDim)
    throw new Error(
      `${what}: images have ${dataset.pixels} pixels, the model has ${model.inputDim} inputs`,
    );
}

/** Exact log p(x) of every image of a binary data set (nats), in batches, summarized. */
export function logLikelihoodOf(
  model: MADE,
  dataset: ImageDataset,
  options: { batchSize?: number } = {},
): LogLikelihood {
  checkDataset(model, dataset, 'logLikelihoodOf');
  return logLikelihoodOfImages(dataset, (x) => model.logProb(x), options.batchSize ?? 1000);
}

/** Adam's learning rate (default 1e-3) and the batch size (default 100). */
export type MadeTrainerOptions = AdamTrainerOptions;

export interface MadeFitOptions {
  epochs: number;
  /** Evaluated after every epoch: its exact negative log-likelihood per image. */
  test?: ImageDataset;
  /**
   * 'dynamic' draws new binary pixels from the grey levels of `train` at every batch (a strong
   * regularizer); default: `train` is used as it is and must be binary.
   */
  binarize?: 'none' | 'dynamic';
  /** Rows { epoch, 'train NLL', 'test NLL', 'train seconds' } are pushed here. */
  history?: History;
  /** Show a progress bar per epoch (default true). */
  progress?: boolean;
}

const FIT_KEYS: OptionKeys<MadeFitOptions> = {
  epochs: true,
  test: true,
  binarize: true,
  history: true,
  progress: true,
};

/** A MADE with its Adam optimizer and the count of epochs done (what a checkpoint must hold). */
export class MadeTrainer extends AdamTrainer<MADE> {
  constructor(model: MADE, options: MadeTrainerOptions = {}) {
    super(model, options, 100, 'MadeTrainer');
  }

  /**
   * One Adam step on a batch of binary vectors with one mask (drawn uniformly when there are
   * several); returns the batch's mean negative log-likelihood (nats).
   */
  step(x: tf.Tensor2D): number {
    const model = this.model;
    model.checkInput(x);
    const mask = Math.floor(random() * model.maskCount);
    // loss = -(1/n) sum_i log p_k(x_i), exact for the autoregressive model of mask k
    const loss = this.optimizer.minimize(
      () => tf.neg(tf.mean(model.logProbOfMask(x, mask))) as tf.Scalar,
      true,
      model.variables(),
    );
    const value = loss!.dataSync()[0];
    loss!.dispose();
    if (!Number.isFinite(value))
      throw new Error(
        `training diverged at step ${this.optimizer.iterations}: NLL ${value}; lower the ` +
          `learning rate`,
      );
    return value;
  }

  /**
   * Trains for `epochs` passes over `train`; returns the last epoch's train and test NLL. A kit
   * loop: it lets the event loop run between steps (so a notebook kernel sends the progress and
   * receives an interrupt), and an interrupt stops it after the batch in progress, with
   * `interrupted` true and the train NLL of the batches done; the unfinished epoch is not counted
   * in `epochsDone` (its steps stay in the model).
   */
  async fit(
    train: ImageDataset,
    options: MadeFitOptions,
  ): Promise<{ train: number; test?: number; interrupted: boolean }> {
    checkOptions('MadeTrainer.fit', options, FIT_KEYS);
    checkInteger('MadeTrainer.fit', 'epochs', options.epochs);
    const binarize = checkOneOf('MadeTrainer.fit', 'binarize', options.binarize ?? 'none', [
      'none',
      'dynamic',
    ] as const);
    checkDataset(this.model, train, 'MadeTrainer.fit(train)');
    if (binarize === 'none') checkBinaryImages(train, 'MadeTrainer.fit(train)');
    if (options.test) {
      checkDataset(this.model, options.test, 'MadeTrainer.fit(test)');
      checkBinaryImages(options.test, 'MadeTrainer.fit(test)');
    }
    const batchCount = train.batchCount(this.batchSize);
    let last: { train: number; test?: number } | undefined;
    const interrupted = await runLoop('MADE training', async (loop) => {
      for (let e = 0; e < options.epochs; e++) {
        const epoch = this.epochsDone + 1;
        const start = Date.now();
        const bar =
          options.progress === false
            ? undefined
            : progress(batchCount, { label: `epoch ${epoch}` });
        let sum = 0;
        let seen = 0;
        for (const batch of train.batches(this.batchSize, { binarize })) {
          if (await loop.shouldStop()) {
            bar?.stop();
            loop.stop(
              `epoch ${epoch}, batch ${batch.index}/${batchCount}`,
              'the model keeps its last completed batch (the epoch is not counted as done)',
            );
            last = { train: sum / seen };
            return true;
          }
          const n = batch.x.shape[0];
          sum += this.step(batch.x) * n;
          seen += n;
          bar?.tick({ NLL: sum / seen });
        }
        const seconds = (Date.now() - start) / 1000;
        const test = options.test ? -logLikelihoodOf(this.model, options.test).mean : undefined;
        bar?.done(test === undefined ? undefined : { 'test NLL': test });
        this.epochsDone = epoch;
        options.history?.push({
          epoch,
          'train NLL': sum / seen,
          ...(test === undefined ? {} : { 'test NLL': test }),
          'train seconds': seconds,
        });
        last = { train: sum / seen, test };
      }
      return false;
    });
    return { ...last!, interrupted };
  }
}

function checkBinaryImages(dataset: ImageDataset, what: string): void {
  const bad = dataset.images.findIndex((v) => v !== 0 && v !== 1);
  if (bad >= 0)
    throw new Error(
      `${what}: pixel ${bad} is ${dataset.images[bad]}, but MADE models binary vectors; ` +
        `binarize first (data.loadBinarizedMnist) or train with binarize: 'dynamic'`,
    );
}
