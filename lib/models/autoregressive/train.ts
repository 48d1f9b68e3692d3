/**
 * Training an autoregressive model (MADE, PixelCNN) by maximum likelihood: the exact
 * log-likelihood is the objective, so training is plain stochastic gradient descent on the average
 * negative log-likelihood of a mini-batch (Adam, PyTorch's defaults); MADE draws one of its masks
 * per step when it has several.
 */
import * as tf from '@tensorflow/tfjs';
import { ImageDataset } from '../../data/mnist';
import { LogLikelihood, logLikelihoodOfImages } from '../../metrics/likelihood';
import { checkInteger, checkOneOf, checkOptions, OptionKeys } from '../../runtime/checks';
import { runLoop } from '../../runtime/loop';
import { progress } from '../../runtime/progress';
import { AdamTrainer, AdamTrainerOptions, TrainableModel } from '../../training/trainer';
import { History } from '../../training/history';
import { MADE } from './made';
import { PixelCNN } from './pixelcnn';

/** A model of binary vectors [n, inputDim] with an exact log-likelihood (MADE, PixelCNN). */
export interface ExactBinaryModel extends TrainableModel {
  readonly inputDim: number;
  /** Checks x is [n, inputDim] and returns n. */
  checkInput(x: tf.Tensor): number;
  /** Exact log p(x) [n] of binary x (checked). */
  logProb(x: tf.Tensor2D): tf.Tensor1D;
  /** The log-likelihood [n] a training step maximizes (MADE: of one mask drawn at random). */
  trainingLogProb(x: tf.Tensor2D): tf.Tensor1D;
  variables(): tf.Variable[];
}

function checkDataset(model: ExactBinaryModel, dataset: ImageDataset, what: string): void {
  if (!(dataset instanceof ImageDataset))
    throw new Error(`${what}: expected a data set such as data.loadBinarizedMnist('test')`);
  if (dataset.pixels !== model.inputDim)
    throw new Error(
      `${what}: images have ${dataset.pixels} pixels, the model has ${model.inputDim} inputs`,
    );
}

/** Exact log p(x) of every image of a binary data set (nats), in batches, summarized. */
export function logLikelihoodOf(
  model: ExactBinaryModel,
  dataset: ImageDataset,
  options: { batchSize?: number } = {},
): LogLikelihood {
  checkDataset(model, dataset, 'logLikelihoodOf');
  return logLikelihoodOfImages(dataset, (x) => model.logProb(x), options.batchSize ?? 1000);
}

/** Adam's learning rate (default 1e-3) and the batch size (default 100). */
export type MadeTrainerOptions = AdamTrainerOptions;

export interface AutoregressiveFitOptions {
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

/** MADE's fit options (every autoregressive model of the kit trains with the same). */
export type MadeFitOptions = AutoregressiveFitOptions;

const FIT_KEYS: OptionKeys<AutoregressiveFitOptions> = {
  epochs: true,
  test: true,
  binarize: true,
  history: true,
  progress: true,
};

/**
 * An autoregressive model with its Adam optimizer and the count of epochs done (what a checkpoint
 * must hold). `what` names the trainer and `modelName` the model in messages.
 */
export class AutoregressiveTrainer<M extends ExactBinaryModel> extends AdamTrainer<M> {
  constructor(
    model: M,
    options: AdamTrainerOptions,
    readonly what: string,
    readonly modelName: string,
  ) {
    super(model, options, 100, what);
  }

  /**
   * One Adam step on a batch of binary vectors (for MADE with one mask, drawn uniformly when there
   * are several); returns the batch's mean negative log-likelihood (nats).
   */
  step(x: tf.Tensor2D): number {
    const model = this.model;
    model.checkInput(x);
    // loss = -(1/n) Σ_n log p(x_n), exact (for MADE: of the autoregressive model of the mask drawn)
    const loss = this.optimizer.minimize(
      () => tf.neg(tf.mean(model.trainingLogProb(x))) as tf.Scalar,
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
    options: AutoregressiveFitOptions,
  ): Promise<{ train: number; test?: number; interrupted: boolean }> {
    const who = `${this.what}.fit`;
    checkOptions(who, options, FIT_KEYS);
    checkInteger(who, 'epochs', options.epochs);
    const binarize = checkOneOf(who, 'binarize', options.binarize ?? 'none', [
      'none',
      'dynamic',
    ] as const);
    checkDataset(this.model, train, `${who}(train)`);
    if (binarize === 'none') checkBinaryImages(train, `${who}(train)`, this.modelName);
    if (options.test) {
      checkDataset(this.model, options.test, `${who}(test)`);
      checkBinaryImages(options.test, `${who}(test)`, this.modelName);
    }
    const batchCount = train.batchCount(this.batchSize);
    let last: { train: number; test?: number } | undefined;
    const interrupted = await runLoop(`${this.modelName} training`, async (loop) => {
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

/** A MADE with its Adam optimizer and the count of epochs done. */
export class MadeTrainer extends AutoregressiveTrainer<MADE> {
  constructor(model: MADE, options: MadeTrainerOptions = {}) {
    super(model, options, 'MadeTrainer', 'MADE');
  }
}

/** A PixelCNN with its Adam optimizer (default batch size 100) and the count of epochs done. */
export class PixelCnnTrainer extends AutoregressiveTrainer<PixelCNN> {
  constructor(model: PixelCNN, options: AdamTrainerOptions = {}) {
    super(model, options, 'PixelCnnTrainer', 'PixelCNN');
  }
}

function checkBinaryImages(dataset: ImageDataset, what: string, modelName: string): void {
  const bad = dataset.images.findIndex((v) => v !== 0 && v !== 1);
  if (bad >= 0)
    throw new Error(
      `${what}: pixel ${bad} is ${dataset.images[bad]}, but ${modelName} models binary vectors; ` +
        `binarize first (data.loadBinarizedMnist) or train with binarize: 'dynamic'`,
    );
}
