/**
 * Training a flow two ways.
 *  - Reverse KL to an unnormalized target p̃(z) = exp(-U(z)) (variational inference, Rezende &
 *    Mohamed 2015):
 *      KL(q_K || p) = E_{z_0 ~ q_0}[log q_0(z_0) - Σ_k log |det ∂f_k/∂z_{k-1}| + U(z_K)] + log Z.
 *  - Maximum likelihood on data: minimize -(1/N) Σ_n log q_K(x_n), which needs the inverse of every
 *    layer.
 */
import * as tf from '@tensorflow/tfjs';
import { adam } from '../../training/adam';
import { nextSeed, Progress, runLoop } from '../../runtime';
import { checkLevels, checkPoints } from './checks';
import { checkInteger, checkOptionNames, checkPositive } from '../../runtime/checks';
import { dequantize } from './dequantize';
import { NormalizingFlow } from './flow';

export interface FitOptions {
  steps: number;
  batchSize?: number;
  learningRate?: number;
  /** Called after every step with the step index (from 1) and the loss. */
  onStep?: (step: number, loss: number) => void;
  /** Show a progress bar with this label. */
  progress?: string;
}

const FIT_OPTIONS = ['steps', 'batchSize', 'learningRate', 'onStep', 'progress'];

function checkFit(
  who: string,
  flow: NormalizingFlow,
  options: FitOptions,
): { batchSize: number; learningRate: number } {
  checkInteger(who, 'steps', options.steps);
  const batchSize = options.batchSize ?? 256;
  checkInteger(who, 'batchSize', batchSize);
  const learningRate = options.learningRate ?? 1e-2;
  checkPositive(who, 'learningRate', learningRate);
  if (flow.variables().length === 0)
    throw new Error(`${who}: the flow has no trainable variables to fit`);
  return { batchSize, learningRate };
}

/** The loss of every step done, and whether an interrupt stopped the fit early. */
export interface FitResult {
  losses: number[];
  interrupted: boolean;
}

async function run(
  what: string,
  flow: NormalizingFlow,
  options: FitOptions,
  learningRate: number,
  loss: (step: number) => tf.Scalar,
): Promise<FitResult> {
  const optimizer = adam(learningRate);
  const variables = flow.variables();
  const bar = options.progress
    ? new Progress(options.steps, { label: options.progress })
    : undefined;
  const losses: number[] = [];
  try {
    const interrupted = await runLoop(what, async (loop) => {
      for (let step = 1; step <= options.steps; step++) {
        if (await loop.shouldStop()) {
          bar?.stop();
          loop.stop(`step ${step - 1}/${options.steps}`, 'the flow keeps its last completed step');
          return true;
        }
        const cost = optimizer.minimize(() => loss(step), true, variables)!;
        const value = cost.dataSync()[0];
        cost.dispose();
        if (!Number.isFinite(value))
          throw new Error(
            `the loss became ${value} at step ${step}; lower the learning rate (now ` +
              `${learningRate})`,
          );
        losses.push(value);
        options.onStep?.(step, value);
        bar?.tick({ loss: value });
      }
      bar?.done();
      return false;
    });
    return { losses, interrupted };
  } finally {
    optimizer.dispose();
  }
}

export interface ReverseKlOptions extends FitOptions {
  /**
   * Steps over which the energy's weight β rises linearly from 0.01 to 1 (the paper's annealing); 0
   * = none (default).
   */
  annealSteps?: number;
}

/**
 * E_{q_0}[log q_0(z_0) - Σ log|det| + β U(z_K)]: the reverse KL up to log Z (β = 1), estimated on
 * `n` samples.
 */
export function reverseKlLoss(
  flow: NormalizingFlow,
  energy: (z: tf.Tensor2D) => tf.Tensor1D,
  n: number,
  beta = 1,
): tf.Scalar {
  checkInteger('reverseKlLoss', 'sample size n', n);
  return tf.tidy(() => {
    const { x, logProb } = flow.sample(n);
    return tf.mean(tf.add(logProb, tf.mul(beta, energy(x)))) as tf.Scalar;
  });
}

/**
 * Fits the flow to exp(-U) by minimizing the reverse KL with Adam; returns the loss per step (KL -
 * log Z at β = 1). A kit loop: an interrupt stops it after the step in progress.
 */
export async function fitReverseKl(
  flow: NormalizingFlow,
  energy: (z: tf.Tensor2D) => tf.Tensor1D,
  options: ReverseKlOptions,
): Promise<FitResult> {
  checkOptionNames('fitReverseKl', options, [...FIT_OPTIONS, 'annealSteps']);
  const { batchSize, learningRate } = checkFit('fitReverseKl', flow, options);
  const anneal = options.annealSteps ?? 0;
  if (!Number.isInteger(anneal) || anneal < 0)
    throw new Error(`annealSteps must be a non-negative integer, got ${anneal}`);
  const beta = (step: number) => (anneal === 0 ? 1 : Math.min(1, 0.01 + step / anneal));
  return run('reverse-KL fit', flow, options, learningRate, (step) =>
    reverseKlLoss(flow, energy, batchSize, beta(step)),
  );
}

/**
 * KL(q || p) in nats = E_q[log q(z) + U(z)] + log Z by Monte Carlo on n samples, with its standard
 * error.
 */
export function reverseKl(
  flow: NormalizingFlow,
  target: { energy: (z: tf.Tensor2D) => tf.Tensor1D; logZ: number },
  n = 20000,
): { kl: number; standardError: number } {
  checkInteger('reverseKl', 'sample size n', n);
  const terms = tf.tidy(() => {
    const { x, logProb } = flow.sample(n);
    return tf.add(logProb, target.energy(x));
  });
  const values = terms.dataSync();
  terms.dispose();
  let mean = 0;
  for (const v of values) mean += v / n;
  let variance = 0;
  for (const v of values) variance += (v - mean) ** 2 / (n - 1);
  return { kl: mean + target.logZ, standardError: Math.sqrt(variance / n) };
}

/** -(1/N) Σ log q(x_n): the negative log-likelihood per point. */
export function negativeLogLikelihood(flow: NormalizingFlow, x: tf.Tensor2D): tf.Scalar {
  checkPoints('negativeLogLikelihood', x, flow.dim);
  return tf.tidy(() => tf.neg(tf.mean(flow.logProb(x))) as tf.Scalar);
}

export interface MaximumLikelihoodOptions extends FitOptions {
  /**
   * The data are integer levels 0..L-1 (L = 256 for 8-bit pixels): every minibatch is dequantized
   * afresh, y = (k + u)/L, and the loss is minus the bound E_u[log p(y)] - D log L on log P(k), in
   * nats per point (see dequantize).
   */
  levels?: number;
}

/**
 * Fits the flow to data x [N, d] by maximum likelihood with Adam on random minibatches; returns the
 * NLL per step. Layers started from data (actnorm) are started on the first minibatch. A kit loop:
 * an interrupt stops it after the step in progress.
 */
export async function fitMaximumLikelihood(
  flow: NormalizingFlow,
  x: tf.Tensor2D,
  options: MaximumLikelihoodOptions,
): Promise<FitResult> {
  checkOptionNames('fitMaximumLikelihood', options, [...FIT_OPTIONS, 'levels']);
  checkPoints('fitMaximumLikelihood', x, flow.dim);
  const { batchSize, learningRate } = checkFit('fitMaximumLikelihood', flow, options);
  const L = options.levels;
  const n = x.shape[0];
  const minibatch = () =>
    tf.tidy(() => {
      const index = tf.randomUniform([Math.min(batchSize, n)], 0, n, 'int32', nextSeed());
      const batch = tf.gather(x, index) as tf.Tensor2D;
      return L === undefined ? batch : dequantize(batch, L);
    });
  if (L !== undefined) checkLevels('fitMaximumLikelihood', x, L);
  if (flow.flows.some((f) => f.initializeFromData)) {
    const first = minibatch();
    flow.initializeFromData(first);
    first.dispose();
  }
  // a dequantized point's bin has volume L^-D: log P(k) >= log p(y) - D log L
  const binLogVolume = L === undefined ? 0 : flow.dim * Math.log(L);
  return run('maximum-likelihood fit', flow, options, learningRate, () =>
    tf.tidy(() => tf.add(negativeLogLikelihood(flow, minibatch()), binLogVolume) as tf.Scalar),
  );
}
