/**
 * GAN training as in lecture 002: step 1 trains D to call real samples real and fakes fake, step 2
 * trains G to make D call its fakes real. Every step reports the two losses, mean D(x), mean
 * D(G(z)) and the norm of the generator's gradient (the quantity that vanishes when D wins too
 * easily).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { adam } from '../../training/adam';
import { ImageDataset } from '../../data/mnist';
import { imageGridPng } from '../../plot/image';
import { nextSeed, progress, runLoop } from '../../runtime';
import {
  checkInteger,
  checkInterval,
  checkNonNegative,
  checkOptions,
  checkPositive,
  OptionKeys,
} from '../../runtime/checks';
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
  /**
   * Instance noise (Sønderby et al. 2017): D sees x + σε, ε ~ N(0, I), for real and fake samples
   * alike, so the two distributions overlap and D cannot win on details no generator can match,
   * such as MNIST's exactly-0 background pixels against a tanh's outputs (default 0, no noise).
   */
  instanceNoise?: number;
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
  return tf.tidy(
    () => tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))) as tf.Scalar,
  );
}

const TRAINER_KEYS: OptionKeys<GanTrainerOptions> = {
  generatorLoss: true,
  generatorLearningRate: true,
  discriminatorLearningRate: true,
  beta1: true,
  instanceNoise: true,
};

/** One Adam optimizer for D and one for G; `step(real)` performs one D step then one G step. */
export class GanTrainer {
  readonly lossName: GeneratorLossName;
  readonly instanceNoise: number;
  private readonly generatorOptimizer: tf.Optimizer;
  private readonly discriminatorOptimizer: tf.Optimizer;
  private readonly generatorVars: tf.Variable[];
  private readonly discriminatorVars: tf.Variable[];

  constructor(
    readonly gan: GAN,
    options: GanTrainerOptions = {},
  ) {
    checkOptions('GanTrainer', options, TRAINER_KEYS);
    this.lossName = options.generatorLoss ?? 'nonSaturating';
    generatorLoss(this.lossName);
    const lrG = options.generatorLearningRate ?? 2e-4;
    const lrD = options.discriminatorLearningRate ?? lrG;
    const beta1 = options.beta1 ?? 0.5;
    checkPositive('GanTrainer', 'generatorLearningRate', lrG);
    checkPositive('GanTrainer', 'discriminatorLearningRate', lrD);
    checkInterval('GanTrainer', 'beta1', beta1, 0, 1, '[)');
    this.instanceNoise = options.instanceNoise ?? 0;
    checkNonNegative('GanTrainer', 'instanceNoise', this.instanceNoise);
    this.generatorOptimizer = adam(lrG, beta1, 0.999);
    this.discriminatorOptimizer = adam(lrD, beta1, 0.999);
    this.generatorVars = gan.generator.variables();
    this.discriminatorVars = gan.discriminator.variables();
  }

  private checkBatch(what: string, real: tf.Tensor2D): void {
    if (real.rank !== 2 || real.shape[1] !== this.gan.dataDim) {
      throw new Error(
        `GanTrainer.${what}(real): expected a batch [n, ${this.gan.dataDim}], got ` +
          `[${real.shape.join(', ')}]`,
      );
    }
  }

  /**
   * D's logits of samples in training mode (dropout on), through the instance noise when there is
   * some.
   */
  private judged(x: tf.Tensor2D): tf.Tensor2D {
    const training = { training: true };
    if (this.instanceNoise === 0) return this.gan.logits(x, training);
    return tf.tidy(() =>
      this.gan.logits(
        tf.add(
          x,
          tf.randomNormal(x.shape, 0, this.instanceNoise, 'float32', nextSeed()),
        ) as tf.Tensor2D,
        training,
      ),
    );
  }

  /**
   * Step 1 alone: one Adam step of D on a real batch and fakes G(z), descending
   * L_D = -mean[log D(x) + log(1 - D(G(z)))] in θ only (the fakes are constants for it). Returns
   * [L_D, mean D(x), mean D(G(z))] as a tensor [3].
   */
  private discriminatorUpdate(real: tf.Tensor2D, fake: tf.Tensor2D): tf.Tensor1D {
    // The means of D are read inside the gradient function, so they are kept out of its tidy, then
    // freed.
    let dReal!: tf.Scalar;
    let dFake!: tf.Scalar;
    const out = tf.tidy(() => {
      const d = tf.variableGrads(() => {
        const realLogits = this.judged(real);
        const fakeLogits = this.judged(fake);
        dReal = tf.keep(tf.mean(tf.sigmoid(realLogits)));
        dFake = tf.keep(tf.mean(tf.sigmoid(fakeLogits)));
        return discriminatorLoss(realLogits, fakeLogits);
      }, this.discriminatorVars);
      this.discriminatorOptimizer.applyGradients(d.grads);
      return tf.stack([d.value, dReal, dFake]) as tf.Tensor1D;
    });
    tf.dispose([dReal, dFake]);
    return out;
  }

  /** One step of D only (G fixed): lets D grow strong against a fixed G. */
  discriminatorStep(real: tf.Tensor2D): {
    discriminatorLoss: number;
    dReal: number;
    dFake: number;
  } {
    this.checkBatch('discriminatorStep', real);
    const out = tf.tidy(() => this.discriminatorUpdate(real, this.fakes(real.shape[0])));
    const [dl, dr, df] = Array.from(out.dataSync());
    out.dispose();
    return { discriminatorLoss: dl, dReal: dr, dFake: df };
  }

  /** n fakes G(z) in training mode (batch statistics in a DCGAN's batch norm). */
  private fakes(n: number): tf.Tensor2D {
    return tf.tidy(() => this.gan.generate(this.gan.sampleLatent(n), { training: true }));
  }

  /**
   * One discriminator step then one generator step on a real batch [n, dataDim] (the same fakes
   * for both, from one forward pass of G, as in PyTorch's DCGAN example): the "one D step + one G
   * step" unit of GAN training. Leaves no tensors behind; `real` stays the caller's.
   */
  step(real: tf.Tensor2D): GanStepStats {
    this.checkBatch('step', real);
    const { gan } = this;
    const lossG = generatorLoss(this.lossName);
    const stats = tf.tidy(() => {
      const z = gan.sampleLatent(real.shape[0]);
      let d!: tf.Tensor1D;
      const g = tf.variableGrads(() => {
        const fake = gan.generate(z, { training: true });
        // Step 1 inside G's gradient: D's update reads the fakes but sends no gradient to φ.
        d = tf.keep(this.discriminatorUpdate(real, fake));
        // Step 2: descend the generator loss in φ against the updated discriminator.
        return lossG(this.judged(fake));
      }, this.generatorVars);
      const gNorm = gradientNorm(g.grads);
      this.generatorOptimizer.applyGradients(g.grads);
      const out = tf.concat([d, tf.stack([g.value, gNorm])]);
      d.dispose();
      return out;
    });
    const [dl, dr, df, gl, gn] = Array.from(stats.dataSync());
    stats.dispose();
    if (!Number.isFinite(dl) || !Number.isFinite(gl)) {
      throw new Error(
        `GAN training diverged: discriminator loss ${dl}, generator loss ${gl}; lower the ` +
          `learning rates`,
      );
    }
    return {
      discriminatorLoss: dl,
      generatorLoss: gl,
      dReal: dr,
      dFake: df,
      generatorGradNorm: gn,
    };
  }

  dispose(): void {
    this.generatorOptimizer.dispose();
    this.discriminatorOptimizer.dispose();
  }
}

/**
 * ‖∇_φ L_G‖ for a named generator loss at the current parameters, on latent codes z: lets the
 * minimax and non-saturating gradients be compared on the very same G and D.
 */
export function generatorGradientNorm(
  gan: GAN,
  lossName: GeneratorLossName,
  z: tf.Tensor2D,
): number {
  const lossG = generatorLoss(lossName);
  const norm = tf.tidy(() =>
    gradientNorm(
      tf.variableGrads(() => lossG(gan.logits(gan.generate(z))), gan.generator.variables()).grads,
    ),
  );
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
  /**
   * Called after each snapshot with the history so far (e.g. to compute sample-quality metrics per
   * epoch).
   */
  onSnapshot?: (snapshot: GanSnapshot, history: History) => void;
  /** Progress label (default 'GAN'). */
  label?: string;
}

const TRAIN_GAN_KEYS: OptionKeys<TrainGanOptions> = {
  steps: true,
  snapshotAt: true,
  snapshotSize: true,
  saveDir: true,
  onSnapshot: true,
  label: true,
};

export interface GanRun {
  /** One row per step: step, 'D loss', 'G loss', 'D(x)', 'D(G(z))', 'G grad norm'. */
  history: History;
  snapshots: GanSnapshot[];
  /** True when an interrupt stopped training early (the history holds the steps done). */
  interrupted: boolean;
}

/**
 * Runs `steps` D+G steps on batches drawn from `batches` (which owns and disposes them), as a kit
 * loop: it lets the event loop run between steps and stops after the step in progress when
 * interrupted.
 */
export async function trainGan(
  trainer: GanTrainer,
  batches: Iterator<tf.Tensor2D>,
  options: TrainGanOptions,
): Promise<GanRun> {
  checkOptions('trainGan', options, TRAIN_GAN_KEYS);
  const { steps } = options;
  checkInteger('trainGan', 'steps', steps);
  const snapshotAt = new Set(options.snapshotAt ?? []);
  for (const s of snapshotAt) {
    if (!Number.isInteger(s) || s < 0 || s > steps)
      throw new Error(`trainGan: snapshot step ${s} is not an integer in [0, ${steps}]`);
  }
  const gan = trainer.gan;
  const fixedZ = gan.sampleLatent(options.snapshotSize ?? 64);
  const history = new History();
  const snapshots: GanSnapshot[] = [];
  const side = Math.round(Math.sqrt(gan.dataDim));
  if (options.saveDir !== undefined) {
    if (side * side !== gan.dataDim)
      throw new Error(`trainGan: saveDir needs square images, but dataDim is ${gan.dataDim}`);
    fs.mkdirSync(options.saveDir, { recursive: true });
  }
  const snap = (step: number): void => {
    const x = tf.tidy(() => gan.generate(fixedZ));
    const snapshot: GanSnapshot = { step, samples: x.dataSync() as Float32Array, n: x.shape[0] };
    x.dispose();
    snapshots.push(snapshot);
    if (options.saveDir !== undefined) {
      fs.writeFileSync(
        path.join(options.saveDir, `step-${String(step).padStart(6, '0')}.png`),
        imageGridPng(snapshot.samples, { imageShape: [side, side], columns: 8 }),
      );
    }
    options.onSnapshot?.(snapshot, history);
  };
  const label = options.label ?? 'GAN';
  try {
    if (snapshotAt.has(0)) snap(0);
    const interrupted = await runLoop(
      label,
      async (loop) => {
        const bar = progress(steps, { label });
        for (let step = 1; step <= steps; step++) {
          if (await loop.shouldStop()) {
            bar.stop();
            loop.stop(`step ${step - 1}/${steps}`, 'G and D keep their last completed step');
            return true;
          }
          const next = batches.next();
          if (next.done)
            throw new Error(
              `trainGan: the batch source ran out after ${step - 1} of ${steps} steps`,
            );
          const s = trainer.step(next.value);
          history.push({
            step,
            'D loss': s.discriminatorLoss,
            'G loss': s.generatorLoss,
            'D(x)': s.dReal,
            'D(G(z))': s.dFake,
            'G grad norm': s.generatorGradNorm,
          });
          bar.tick({
            'D loss': s.discriminatorLoss,
            'G loss': s.generatorLoss,
            'D(G(z))': s.dFake,
          });
          if (snapshotAt.has(step)) snap(step);
        }
        bar.done();
        return false;
      },
      { then: 'trainGan with the same trainer and batches continues' },
    );
    return { history, snapshots, interrupted };
  } finally {
    fixedZ.dispose();
  }
}

/**
 * Endless mini-batches of a dataset's images, reshuffled every epoch (last partial batch dropped).
 */
export function* imageBatches(dataset: ImageDataset, batchSize: number): Generator<tf.Tensor2D> {
  checkInteger('imageBatches', 'batchSize', batchSize);
  if (dataset.size < batchSize)
    throw new Error(
      `imageBatches: batchSize ${batchSize} exceeds the dataset's ${dataset.size} images`,
    );
  for (;;) for (const b of dataset.batches(batchSize, { dropLast: true })) yield b.x;
}

/**
 * The lecture's "discriminator too strong" failure, measured: G stays fixed while D trains for
 * `steps` steps; before each, record mean D(G(z)) and ‖∇φ L_G‖ of both generator losses on the same
 * latent codes. Rows: 'D steps', 'D(G(z))', 'minimax', 'non-saturating' (fewer when interrupted).
 */
export async function gradientsAsDiscriminatorWins(
  trainer: GanTrainer,
  batches: Iterator<tf.Tensor2D>,
  steps: number,
  latentCount = 64,
): Promise<History> {
  checkInteger('gradientsAsDiscriminatorWins', 'steps', steps);
  const { gan } = trainer;
  const z = gan.sampleLatent(latentCount);
  const history = new History();
  try {
    await runLoop('D against a fixed G', async (loop) => {
      for (let step = 0; step <= steps; step++) {
        if (await loop.shouldStop()) {
          loop.stop(`D step ${step}/${steps}`, 'the rows measured so far are returned');
          return;
        }
        const dFake = tf.tidy(() => tf.mean(gan.discriminate(gan.generate(z))));
        history.push({
          'D steps': step,
          'D(G(z))': dFake.dataSync()[0],
          minimax: generatorGradientNorm(gan, 'minimax', z),
          'non-saturating': generatorGradientNorm(gan, 'nonSaturating', z),
        });
        dFake.dispose();
        if (step === steps) break;
        const next = batches.next();
        if (next.done)
          throw new Error(
            `gradientsAsDiscriminatorWins: the batch source ran out after ${step} steps`,
          );
        trainer.discriminatorStep(next.value);
      }
    });
  } finally {
    z.dispose();
  }
  return history;
}
