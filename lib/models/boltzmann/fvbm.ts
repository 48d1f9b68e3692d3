/**
 * A fully visible Boltzmann machine on d <= 20 binary units (lecture 001): E(y) = -(1/2 y^T W y +
 * b^T y) with W symmetric and zero on the diagonal, P(y) = exp(-E(y)) / Z. Small enough to
 * enumerate all 2^d states, so log Z, the likelihood and its gradient are exact, and the Gibbs
 * estimate of the gradient can be compared with the truth.
 */
import * as tf from '@tensorflow/tfjs';
import { checkInteger } from '../../runtime/checks';
import { FullConditionals, GibbsSampler } from '../../samplers/gibbs';
import {
  bernoulli,
  binaryStates,
  checkBinaryBatch,
  forEachStateChunk,
  logAddExp,
  MAX_ENUMERATED_UNITS,
} from './binary';
import { sampleCategorical } from '../../samplers/targets';

export interface FvbmGradient {
  /** d log-likelihood / dW (symmetric, zero diagonal), [d, d]. */
  weights: tf.Tensor2D;
  /** d log-likelihood / db, [d]. */
  bias: tf.Tensor1D;
}

export class FullyVisibleBM {
  readonly weights: tf.Variable<tf.Rank.R2>;
  readonly bias: tf.Variable<tf.Rank.R1>;
  readonly units: number;

  /** From a weight matrix (symmetrized, diagonal zeroed) and biases; both are copied. */
  constructor(weights: tf.Tensor2D, bias: tf.Tensor1D) {
    const d = bias.shape[0];
    if (!Number.isInteger(d) || d < 2 || d > MAX_ENUMERATED_UNITS)
      throw new Error(
        `FullyVisibleBM: the number of units must be in [2, ${MAX_ENUMERATED_UNITS}] (states are ` +
          `enumerated), got ${d}`,
      );
    if (weights.rank !== 2 || weights.shape[0] !== d || weights.shape[1] !== d)
      throw new Error(
        `FullyVisibleBM: weights must be [${d}, ${d}] to match bias [${d}], got ` +
          `[${weights.shape.join(', ')}]`,
      );
    this.units = d;
    this.weights = tf.variable(FullyVisibleBM.symmetrize(weights));
    this.bias = tf.variable(bias.clone());
  }

  /** A machine with weights N(0, scale^2) and biases N(0, biasScale^2). */
  static random(units: number, scale = 1, biasScale = 0.5): FullyVisibleBM {
    const w = tf.randomNormal([units, units], 0, scale) as tf.Tensor2D;
    const b = tf.randomNormal([units], 0, biasScale) as tf.Tensor1D;
    const machine = new FullyVisibleBM(w, b);
    tf.dispose([w, b]);
    return machine;
  }

  /**
   * A machine with all parameters zero (the uniform distribution), the usual starting point of
   * learning.
   */
  static zeros(units: number): FullyVisibleBM {
    const w = tf.zeros([units, units]) as tf.Tensor2D;
    const b = tf.zeros([units]) as tf.Tensor1D;
    const machine = new FullyVisibleBM(w, b);
    tf.dispose([w, b]);
    return machine;
  }

  /** (W + W^T) / 2 with the diagonal set to 0. */
  static symmetrize(w: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const d = w.shape[0];
      return tf.mul(tf.div(tf.add(w, tf.transpose(w)), 2), tf.sub(1, tf.eye(d))) as tf.Tensor2D;
    });
  }

  /** E(y) = -(1/2 y^T W y + b^T y), per row of y [n, d]. */
  energy(y: tf.Tensor2D): tf.Tensor1D {
    checkBinaryBatch('energy(y)', y, this.units);
    return tf.tidy(() => {
      const quadratic = tf.sum(tf.mul(tf.matMul(y, this.weights), y), 1);
      return tf.neg(tf.add(tf.mul(quadratic, 0.5), tf.sum(tf.mul(y, this.bias), 1))) as tf.Tensor1D;
    });
  }

  /** log Z = log sum_y exp(-E(y)), by enumerating all 2^d states. */
  logPartition(): number {
    let logZ = -Infinity;
    forEachStateChunk(this.units, (states) => {
      const chunk = tf.logSumExp(tf.neg(this.energy(states))).dataSync()[0];
      logZ = logAddExp(logZ, chunk);
    });
    return logZ;
  }

  /** P(y) for all 2^d states (state k has unit i = bit i of k). */
  probabilities(): Float32Array {
    const logZ = this.logPartition();
    const out = new Float32Array(2 ** this.units);
    forEachStateChunk(this.units, (states, start) => {
      out.set(tf.exp(tf.sub(tf.neg(this.energy(states)), logZ)).dataSync() as Float32Array, start);
    });
    return out;
  }

  /** Average log-likelihood (1/N) sum_n log P(y_n), in nats. */
  logLikelihood(data: tf.Tensor2D): number {
    const logZ = this.logPartition();
    return tf.tidy(() => tf.mean(tf.neg(this.energy(data))).dataSync()[0]) - logZ;
  }

  /**
   * Data statistics <y>, <y y^T> of rows y [n, d], each row weighted equally or by `weights` [n]
   * (summing to 1).
   */
  private static moments(
    y: tf.Tensor2D,
    weights?: tf.Tensor1D,
  ): { first: tf.Tensor1D; second: tf.Tensor2D } {
    return tf.tidy(() => {
      const w = weights ? weights.reshape([-1, 1]) : tf.fill([y.shape[0], 1], 1 / y.shape[0]);
      const weighted = tf.mul(y, w);
      return {
        first: tf.sum(weighted, 0) as tf.Tensor1D,
        second: tf.matMul(tf.transpose(weighted), y) as tf.Tensor2D,
      };
    });
  }

  /** Model statistics E_P[y], E_P[y y^T], by enumeration. */
  modelMoments(): { first: tf.Tensor1D; second: tf.Tensor2D } {
    const logZ = this.logPartition();
    let first = tf.zeros([this.units]) as tf.Tensor1D;
    let second = tf.zeros([this.units, this.units]) as tf.Tensor2D;
    forEachStateChunk(this.units, (states) => {
      const p = tf.exp(tf.sub(tf.neg(this.energy(states)), logZ)) as tf.Tensor1D;
      const m = FullyVisibleBM.moments(states, p);
      const f = tf.add(first, m.first);
      const s = tf.add(second, m.second);
      tf.dispose([first, second]);
      first = tf.keep(f) as tf.Tensor1D;
      second = tf.keep(s) as tf.Tensor2D;
    });
    return { first, second };
  }

  private gradientFrom(
    data: tf.Tensor2D,
    model: { first: tf.Tensor1D; second: tf.Tensor2D },
  ): FvbmGradient {
    return tf.tidy(() => {
      const d = FullyVisibleBM.moments(data);
      const offDiagonal = tf.sub(1, tf.eye(this.units));
      // dL/dW_ij = <y_i y_j>_data - <y_i y_j>_model ; dL/db_i = <y_i>_data - <y_i>_model
      return {
        weights: tf.mul(tf.sub(d.second, model.second), offDiagonal) as tf.Tensor2D,
        bias: tf.sub(d.first, model.first) as tf.Tensor1D,
      };
    });
  }

  /**
   * The exact gradient of the average log-likelihood: data correlations minus model correlations.
   */
  exactGradient(data: tf.Tensor2D): FvbmGradient {
    checkBinaryBatch('exactGradient(data)', data, this.units);
    const model = this.modelMoments();
    const g = this.gradientFrom(data, model);
    tf.dispose([model.first, model.second]);
    return g;
  }

  /**
   * The full conditionals P(y_i = 1 | y_{-i}) = sigmoid(b_i + sum_j W_ij y_j), for the Gibbs
   * sampler.
   */
  conditionals(): FullConditionals {
    return {
      dims: this.units,
      sample: (state: tf.Tensor2D, i: number): tf.Tensor1D =>
        tf.tidy(() => {
          const column = tf.slice(this.weights, [0, i], [-1, 1]);
          const field = tf.add(
            tf.matMul(state, column).reshape([-1]),
            tf.slice(this.bias, [i], [1]),
          );
          return bernoulli(tf.sigmoid(field)) as tf.Tensor1D;
        }),
    };
  }

  /**
   * The gradient with the model term estimated by Monte Carlo: `chains` [C, d] are advanced by
   * `sweeps` Gibbs sweeps and their final states give <y y^T>_model. Returns the gradient and the
   * new chain states (pass them back next time for persistent chains; the caller disposes the old
   * ones).
   */
  gibbsGradient(
    data: tf.Tensor2D,
    chains: tf.Tensor2D,
    sweeps = 1,
  ): FvbmGradient & { chains: tf.Tensor2D } {
    checkBinaryBatch('gibbsGradient(data)', data, this.units);
    checkBinaryBatch('gibbsGradient(chains)', chains, this.units);
    checkInteger('gibbsGradient', 'sweeps', sweeps);
    const sampler = new GibbsSampler(this.conditionals());
    let state = chains.clone();
    for (let s = 0; s < sweeps; s++) {
      const next = sampler.sweep(state);
      state.dispose();
      state = next;
    }
    const model = FullyVisibleBM.moments(state);
    const g = this.gradientFrom(data, model);
    tf.dispose([model.first, model.second]);
    return { ...g, chains: state };
  }

  /** n states with every unit on with probability 1/2 (where Gibbs chains start), [n, d]. */
  randomStates(n: number): tf.Tensor2D {
    checkInteger('randomStates', 'n', n);
    return tf.tidy(() => bernoulli(tf.fill([n, this.units], 0.5)) as tf.Tensor2D);
  }

  /**
   * RMS error of the Gibbs-estimated weight gradient against the exact one, over the d^2 entries of
   * dL/dW, for `chains` chains started at random states and run `sweeps` sweeps.
   */
  gibbsGradientError(data: tf.Tensor2D, chains: number, sweeps: number): number {
    checkInteger('gibbsGradientError', 'sweeps', sweeps);
    checkInteger('gibbsGradientError', 'chains', chains);
    checkBinaryBatch('gibbsGradientError(data)', data, this.units);
    const exact = this.exactGradient(data);
    const start = this.randomStates(chains);
    const estimate = this.gibbsGradient(data, start, sweeps);
    const rms = tf.tidy(
      () => tf.sqrt(tf.mean(tf.square(tf.sub(estimate.weights, exact.weights)))).dataSync()[0],
    );
    tf.dispose([
      exact.weights,
      exact.bias,
      start,
      estimate.weights,
      estimate.bias,
      estimate.chains,
    ]);
    return rms;
  }

  /** Gradient ascent step: theta += learningRate * gradient. Disposes the gradient. */
  applyGradient(g: FvbmGradient, learningRate: number): void {
    if (!(learningRate > 0)) throw new Error(`learningRate must be > 0, got ${learningRate}`);
    tf.tidy(() => {
      this.weights.assign(tf.add(this.weights, tf.mul(g.weights, learningRate)));
      this.bias.assign(tf.add(this.bias, tf.mul(g.bias, learningRate)));
    });
    tf.dispose([g.weights, g.bias]);
  }

  /** n exact samples, drawn from the enumerated distribution. */
  sample(n: number): tf.Tensor2D {
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`sample(n): n must be a positive integer, got ${n}`);
    const p = this.probabilities();
    return tf.tidy(() => {
      const probs = tf.tile(tf.tensor2d(p, [1, p.length]), [n, 1]) as tf.Tensor2D;
      const codes = sampleCategorical(probs).cast('int32');
      return tf.gather(binaryStates(this.units), codes) as tf.Tensor2D;
    });
  }

  /**
   * KL(P_other || P_this) in nats, both enumerated (e.g. from the data-generating machine to the
   * learned one).
   */
  klFrom(other: FullyVisibleBM): number {
    if (other.units !== this.units)
      throw new Error(`klFrom: machines have ${other.units} and ${this.units} units`);
    const p = other.probabilities();
    const q = this.probabilities();
    let kl = 0;
    for (let k = 0; k < p.length; k++)
      if (p[k] > 0) kl += p[k] * Math.log(p[k] / Math.max(q[k], 1e-30));
    return kl;
  }

  dispose(): void {
    tf.dispose([this.weights, this.bias]);
  }
}

/**
 * The Gibbs estimate of a fully visible BM's gradient with persistent chains: `chains` chains start
 * at random states and each `gradient(data)` advances them by `sweeps` sweeps under the machine's
 * current parameters before averaging <y y^T> over them. Biased while the machine changes (the
 * chains lag behind its equilibrium), the more so the larger the steps between calls.
 */
export class PersistentGibbsGradient {
  private states: tf.Tensor2D;

  constructor(
    readonly machine: FullyVisibleBM,
    readonly chains: number,
    readonly sweeps = 1,
  ) {
    checkInteger('PersistentGibbsGradient', 'sweeps', sweeps);
    this.states = machine.randomStates(chains);
  }

  /** Data minus model correlations, the model term from the advanced chains. */
  gradient(data: tf.Tensor2D): FvbmGradient {
    const estimate = this.machine.gibbsGradient(data, this.states, this.sweeps);
    this.states.dispose();
    this.states = estimate.chains;
    return { weights: estimate.weights, bias: estimate.bias };
  }

  dispose(): void {
    this.states.dispose();
  }
}
