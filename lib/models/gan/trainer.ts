/**
 * GAN training as in lecture 002: step 1 trains D to call real samples real and fakes fake, step 2 trains
 * G to make D call its fakes real. Every step reports the two losses, mean D(x), mean D(G(z)) and the
 * norm of the generator's gradient (the quantity that vanishes when D wins too easily).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { ImageDataset } from '../../data/mnist';
import { imageGridPng } from '../../plot/image';
import { progress } from '../../runtime';
import { History } from '../../training';
import { GAN } from './gan';
import { discriminatorLoss, generatorLoss, GeneratorLossName } from './losses';

export interface GanTrainerOptions {
  /** Generator objective (default 'nonSaturating'). */
  generatorLoss?: GeneratorLossName;
  /** Adam learning rate of G (default 2e-4). */
  generatorLearningRate?: number;
  /** Adam learning rate of D (default: the generator's). */
  discriminatorLearningRate?: number;
  /** Adam β1 of both optimizers (default 0.5, the DCGAN choice). */
  beta1?: number;
}

/** What one D step + G step measured. */
export interface GanStepStats {
  /** L_D = -mean[log D(x) + log(1 - D(G(z)))] before D's update. */
  discriminatorLoss: number;
  /** The generator loss being minimized, before G's update. */
  generatorLoss: number;
  /** mean D(x) over the real batch. */
  dReal: number;
  /** mean D(G(z)) over the fake batch. */
  dFake: number;
  /** ‖∇_φ L_G‖, the global L2 norm of the generator's gradient. */
  generatorGradNorm: number;
}

/** Global L2 norm of a set of gradients, sqrt(Σ ‖g‖²). */
export function gradientNorm(grads: Record<string, tf.Tensor>): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))) as tf.Scalar);
}

function checkRate(what: string, value: number): void {
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`GanTrainer: ${what} must be a positive number, got ${value}`);
}

/** One Adam optimizer for D and one for G; `step(real)` performs one D step then one G step. */
export class GanTrainer {
  readonly lossName: GeneratorLossName;
  private readonly generatorOptimizer: tf.Optimizer;
  private readonly discriminatorOptimizer: tf.Optimizer;
  private readonly generatorVars: tf.Variable[];
  private readonly discriminatorVars: tf.Variable[];

  constructor(readonly gan: GAN, options: GanTrainerOptions = {}) {
    this.lossName = options.generatorLoss ?? 'nonSaturating';
    generatorLoss(this.lossName);
    const lrG = options.generatorLearningRate ?? 2e-4;
    const lrD = options.discriminatorLearningRate ?? lrG;
    const beta1 = options.beta1 ?? 0.5;
    checkRate('generatorLearningRate', lrG);
    checkRate('discriminatorLearningRate', lrD);
    if (!(beta1 >= 0 && beta1 < 1)) throw new Error(`GanTrainer: beta1 must be in [0, 1), got ${beta1}`);
    this.generatorOptimizer = tf.train.adam(lrG, beta1, 0.999);
    this.discriminatorOptimizer = tf.train.adam(lrD, beta1, 0.999);
    this.generatorVars = gan.generator.variables();
    this.discriminatorVars = gan.discriminator.variables();
  }

  /**
   * One discriminator step then one generator step on a real batch [n, dataDim] (the same z for both).
   * Leaves no tensors behind; the real batch stays owned by the caller.
   */
  step(real: tf.Tensor2D): GanStepStats {
    const { gan } = this;
    if (real.rank !== 2 || real.shape[1] !== gan.dataDim) {
      throw new Error(`GanTrainer.step(real): expected a batch [n, ${gan.dataDim}], got [${real.shape.join(', ')}]`);
    }
    const lossG = generatorLoss(this.lossName);
    // Means of D read inside the gradient function must be kept out of its tidy; disposed below.
    let dReal!: tf.Scalar;
    let dFake!: tf.Scalar;
    const stats = tf.tidy(() => {
      const z = gan.sampleLatent(real.shape[0]);
      const fake = gan.generate(z);
      // Step 1: ascend mean[log D(x) + log(1 - D(G(z)))] in θ, i.e. descend L_D.
      const d = tf.variableGrads(() => {
        const realLogits = gan.logits(real);
        const fakeLogits = gan.logits(fake);
        dReal = tf.keep(tf.mean(tf.sigmoid(realLogits)));
        dFake = tf.keep(tf.mean(tf.sigmoid(fakeLogits)));
        return discriminatorLoss(realLogits, fakeLogits);
      }, this.discriminatorVars);
      this.discriminatorOptimizer.applyGradients(d.grads);
      // Step 2: descend the generator loss in φ against the updated discriminator.
      const g = tf.variableGrads(() => lossG(gan.logits(gan.generate(z))), this.generatorVars);
      const gNorm = gradientNorm(g.grads);
      this.generatorOptimizer.applyGradients(g.grads);
      return tf.stack([d.value, g.value, dReal, dFake, gNorm]);
    });
    const [dl, gl, dr, df, gn] = Array.from(stats.dataSync());
    tf.dispose([stats, dReal, dFake]);
    if (!Number.isFinite(dl) || !Number.isFinite(gl)) {
      throw new Error(`GAN training diverged: discriminator loss ${dl}, generator loss ${gl}; lower the learning rates`);
    }
    return { discriminatorLoss: dl, generatorLoss: gl, dReal: dr, dFake: df, generatorGradNorm: gn };
  }

  dispose(): void {
    this.generatorOptimizer.dispose();
    this.discriminatorOptimizer.dispose();
  }
}

/**
 * ‖∇_φ L_G‖ for a named generator loss at the current parameters, on latent codes z: lets the minimax
 * and non-saturating gradients be compared on the very same G and D.
 */
export function generatorGradientNorm(gan: GAN, lossName: GeneratorLossName, z: tf.Tensor2D): number {
  const lossG = generatorLoss(lossName);
  const norm = tf.tidy(() => gradientNorm(tf.variableGrads(() => lossG(gan.logits(gan.generate(z))), gan.generator.variables()).grads));
  const value = norm.dataSync()[0];
  norm.dispose();
  return value;
}

/** Samples of G at fixed latent codes at one training step. */
export interface GanSnapshot {
  step: number;
  /** [n * dataDim] values, row-major. */
  samples: Float32Array;
  n: number;
}

export interface TrainGanOptions {
  /** Number of D+G steps. */
  steps: number;
  /** Steps after which G's samples at fixed z are recorded (step 0 = before training). */
  snapshotAt?: number[];
  /** Number of samples per snapshot (default 64). */
  snapshotSize?: number;
  /** If set, each snapshot of square images is also saved there as `step-000123.png`. */
  saveDir?: string;
  /** Called after each snapshot (e.g. to compute sample-quality metrics at the end of an epoch). */
  onSnapshot?: (snapshot: GanSnapshot) => void;
  /** Progress label (default 'GAN'). */
  label?: string;
}

export interface GanRun {
  /** One row per step: step, 'D loss', 'G loss', 'D(x)', 'D(G(z))', 'G grad norm'. */
  history: History;
  snapshots: GanSnapshot[];
}

/** Runs `steps` D+G steps on batches drawn from `batches` (which owns and disposes them). */
export function trainGan(trainer: GanTrainer, batches: Iterator<tf.Tensor2D>, options: TrainGanOptions): GanRun {
  const { steps } = options;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`trainGan: steps must be a positive integer, got ${steps}`);
  const snapshotAt = new Set(options.snapshotAt ?? []);
  for (const s of snapshotAt) {
    if (!Number.isInteger(s) || s < 0 || s > steps) throw new Error(`trainGan: snapshot step ${s} is not an integer in [0, ${steps}]`);
  }
  const gan = trainer.gan;
  const fixedZ = gan.sampleLatent(options.snapshotSize ?? 64);
  const history = new History();
  const snapshots: GanSnapshot[] = [];
  const side = Math.round(Math.sqrt(gan.dataDim));
  if (options.saveDir !== undefined) {
    if (side * side !== gan.dataDim) throw new Error(`trainGan: saveDir needs square images, but dataDim is ${gan.dataDim}`);
    fs.mkdirSync(options.saveDir, { recursive: true });
  }
  const snap = (step: number): void => {
    const x = tf.tidy(() => gan.generate(fixedZ));
    const snapshot: GanSnapshot = { step, samples: x.dataSync() as Float32Array, n: x.shape[0] };
    x.dispose();
    snapshots.push(snapshot);
    if (options.saveDir !== undefined) {
      fs.writeFileSync(path.join(options.saveDir, `step-${String(step).padStart(6, '0')}.png`), imageGridPng(snapshot.samples, { imageShape: [side, side], columns: 8 }));
    }
    options.onSnapshot?.(snapshot);
  };
  try {
    if (snapshotAt.has(0)) snap(0);
    const bar = progress(steps, { label: options.label ?? 'GAN' });
    for (let step = 1; step <= steps; step++) {
      const next = batches.next();
      if (next.done) throw new Error(`trainGan: the batch source ran out after ${step - 1} of ${steps} steps`);
      const s = trainer.step(next.value);
      history.push({ step, 'D loss': s.discriminatorLoss, 'G loss': s.generatorLoss, 'D(x)': s.dReal, 'D(G(z))': s.dFake, 'G grad norm': s.generatorGradNorm });
      bar.tick({ 'D loss': s.discriminatorLoss, 'G loss': s.generatorLoss, 'D(G(z))': s.dFake });
      if (snapshotAt.has(step)) snap(step);
    }
    bar.done();
  } finally {
    fixedZ.dispose();
  }
  return { history, snapshots };
}

/** Endless mini-batches of a dataset's images, reshuffled every epoch (last partial batch dropped). */
export function* imageBatches(dataset: ImageDataset, batchSize: number): Generator<tf.Tensor2D> {
  if (dataset.size < batchSize) throw new Error(`imageBatches: batchSize ${batchSize} exceeds the dataset's ${dataset.size} images`);
  for (;;) for (const b of dataset.batches(batchSize, { dropLast: true })) yield b.x;
}
