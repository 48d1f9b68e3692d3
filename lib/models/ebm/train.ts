/**
 * What every way of training an energy network shares: Adam on a loss over random mini-batches of
 * the data, one asynchronous loop that yields to the event loop after every update (so a notebook
 * redraws its progress and can be interrupted), metrics per step.
 */
import * as tf from '@tensorflow/tfjs';
import { checkFiniteValues, checkOptionNames } from '../../runtime/checks';
import { progress } from '../../runtime/progress';
import { random } from '../../runtime/random';
import { adam } from '../../training/adam';
import { History } from '../../training/history';
import { checkPoints } from './checks';
import { EnergyNetwork } from './energy';

export type EnergyMetrics = Record<string, number>;

export interface EnergyTrainerOptions {
  /** Adam's step size (default 1e-3). */
  learningRate?: number;
  /** Adam's β1 (default 0.9; Du & Mordatch use 0 for the contrastive loss). */
  beta1?: number;
  /** Adam's β2 (default 0.999). */
  beta2?: number;
}

export const TRAINER_OPTION_NAMES = ['learningRate', 'beta1', 'beta2'];

export interface EnergyFitOptions {
  /** Updates. */
  steps: number;
  /** Points per mini-batch, drawn at random with replacement (default 128). */
  batchSize?: number;
  /** Label of a progress bar, or false for none (default: the trainer's name). */
  progress?: string | false;
  /** Receives { step, ...metrics } every `historyEvery` steps. */
  history?: History;
  /** Steps between two history rows (default 10). */
  historyEvery?: number;
}

/** `batchSize` rows of data [n, d] drawn uniformly at random with replacement. */
export function randomBatch(data: tf.Tensor2D, batchSize: number): tf.Tensor2D {
  checkPoints('randomBatch(data)', data);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`randomBatch: batchSize must be a positive integer, got ${batchSize}`);
  const n = data.shape[0];
  return tf.tidy(() => {
    const rows = Int32Array.from({ length: batchSize }, () => Math.floor(random() * n));
    return tf.gather(data, tf.tensor1d(rows, 'int32')) as tf.Tensor2D;
  });
}

export abstract class EnergyTrainer {
  readonly optimizer: tf.Optimizer;
  readonly learningRate: number;
  /** Updates done so far. */
  stepsDone = 0;
  /** Shown on the progress bar. */
  abstract readonly name: string;

  constructor(
    readonly model: EnergyNetwork,
    options: EnergyTrainerOptions,
  ) {
    const { learningRate = 1e-3, beta1 = 0.9, beta2 = 0.999 } = options;
    if (!(learningRate > 0) || !Number.isFinite(learningRate))
      throw new Error(`${new.target.name}: learningRate must be a number > 0, got ${learningRate}`);
    for (const [name, beta] of [
      ['beta1', beta1],
      ['beta2', beta2],
    ] as const) {
      if (!(beta >= 0 && beta < 1))
        throw new Error(`${new.target.name}: ${name} must be in [0, 1), got ${beta}`);
    }
    this.learningRate = learningRate;
    this.optimizer = adam(learningRate, beta1, beta2);
  }

  /** One update on a batch x [B, d]; returns the step's metrics (the first one is the loss). */
  abstract step(x: tf.Tensor2D): EnergyMetrics;

  /**
   * One Adam step on `loss`, which may also put scalar tensors in `metrics` (read after the update,
   * with the loss first).
   */
  protected minimize(loss: (metrics: Record<string, tf.Scalar>) => tf.Scalar): EnergyMetrics {
    const kept: Record<string, tf.Scalar> = {};
    const cost = this.optimizer.minimize(
      () => {
        const value = loss(kept);
        for (const name of Object.keys(kept)) kept[name] = tf.keep(kept[name]);
        kept.loss = tf.keep(value.clone());
        return value;
      },
      false,
      this.model.variables(),
    );
    cost?.dispose();
    const metrics: EnergyMetrics = {};
    for (const [name, t] of Object.entries(kept)) {
      metrics[name] = t.dataSync()[0];
      t.dispose();
    }
    this.stepsDone++;
    if (!Object.values(metrics).every(Number.isFinite))
      throw new Error(
        `${this.name}: training diverged at step ${this.stepsDone} (${JSON.stringify(metrics)}); ` +
          `lower the learning rate`,
      );
    return metrics;
  }

  /** `options.steps` updates on random mini-batches of data [n, d]; returns each step's metrics. */
  async fit(data: tf.Tensor2D, options: EnergyFitOptions): Promise<EnergyMetrics[]> {
    checkOptionNames(`${this.name}.fit`, options, [
      'steps',
      'batchSize',
      'progress',
      'history',
      'historyEvery',
    ]);
    checkPoints(`${this.name}.fit(data)`, data, this.model.dim);
    checkFiniteValues(`${this.name}.fit`, 'data', data);
    const { steps, batchSize = 128, historyEvery = 10 } = options;
    for (const [name, value] of [
      ['steps', steps],
      ['batchSize', batchSize],
      ['historyEvery', historyEvery],
    ] as const) {
      if (!Number.isInteger(value) || value < 1)
        throw new Error(`${this.name}.fit: ${name} must be a positive integer, got ${value}`);
    }
    const bar =
      options.progress === false
        ? undefined
        : progress(steps, {
            label: options.progress ?? this.name,
          });
    const all: EnergyMetrics[] = [];
    for (let s = 0; s < steps; s++) {
      const batch = randomBatch(data, batchSize);
      let metrics: EnergyMetrics;
      try {
        metrics = this.step(batch);
      } finally {
        batch.dispose();
      }
      all.push(metrics);
      bar?.tick(metrics);
      if (options.history && this.stepsDone % historyEvery === 0)
        options.history.push({ step: this.stepsDone, ...metrics });
      await new Promise((resolve) => setImmediate(resolve));
    }
    bar?.done();
    return all;
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
