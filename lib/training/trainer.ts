/**
 * What every model of the kit trained by Adam keeps beside the model: the optimizer (the kit's
 * Adam with PyTorch's defaults), its learning rate and batch size, and the count of epochs done. A
 * checkpoint saves all of it (`saveCheckpoint` with `optimizerTensors`, then `restoreTrainer`), so
 * training continues exactly where it stopped.
 */
import * as tf from '@tensorflow/tfjs';
import { checkInteger, checkOptions, checkPositive, OptionKeys } from '../runtime/checks';
import { adam } from './adam';

export interface AdamTrainerOptions {
  /** Adam learning rate (default 1e-3). */
  learningRate?: number;
  /** Mini-batch size (the model's default otherwise). */
  batchSize?: number;
}

const ADAM_TRAINER_KEYS: OptionKeys<AdamTrainerOptions> = { learningRate: true, batchSize: true };

/** A model with trainable variables that a trainer can save and restore. */
export interface TrainableModel {
  namedVariables(): Record<string, tf.Variable>;
  dispose(): void;
}

export class AdamTrainer<M extends TrainableModel> {
  readonly optimizer: tf.AdamOptimizer;
  readonly learningRate: number;
  readonly batchSize: number;
  epochsDone = 0;

  /** `what` names the trainer in error messages; `defaultBatchSize` is the model's usual one. */
  constructor(
    readonly model: M,
    options: AdamTrainerOptions,
    defaultBatchSize: number,
    what: string,
  ) {
    checkOptions(what, options, ADAM_TRAINER_KEYS);
    this.learningRate = options.learningRate ?? 1e-3;
    this.batchSize = options.batchSize ?? defaultBatchSize;
    checkPositive(what, 'learningRate', this.learningRate);
    checkInteger(what, 'batchSize', this.batchSize);
    // PyTorch's Adam defaults (epsilon 1e-8; tfjs would otherwise use 1e-7).
    this.optimizer = adam(this.learningRate, 0.9, 0.999, 1e-8);
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
