/**
 * Normalizing flows (lecture 001): sample z_0 from an easy base distribution and apply K bijections
 * z_k = f_k(z_{k-1}); the density of x = z_K follows from the change of variables,
 *   log p(x) = log p(z_0) - Σ_k log |det ∂f_k/∂z_{k-1}|.
 */
import * as tf from '@tensorflow/tfjs';
import { Independent, Normal } from '../../distributions';
import { checkPoints } from './checks';
import { checkInteger } from '../../runtime/checks';

/**
 * The output of one direction of a flow: the transformed points and log |det J| of that direction,
 * per point.
 */
export type FlowResult = {
  y: tf.Tensor2D;
  logDet: tf.Tensor1D;
};

/** One bijection f: R^d -> R^d with a cheap log-determinant. */
export interface Flow {
  readonly dim: number;
  readonly name: string;
  /** y = f(z) and log |det ∂f/∂z| at z. */
  forward(z: tf.Tensor2D): FlowResult;
  /**
   * z = f^{-1}(y) and log |det ∂f^{-1}/∂y| = -log |det ∂f/∂z| at z. Absent when the flow has no
   * usable inverse.
   */
  inverse?(y: tf.Tensor2D): FlowResult;
  /**
   * Layers started from data (actnorm): set the parameters from a batch y of the layer's outputs
   * (the data side); only the first call acts.
   */
  initializeFromData?(y: tf.Tensor2D): void;
  namedVariables(): Record<string, tf.Variable>;
  dispose(): void;
}

/** A base distribution q_0 over R^d. */
export interface BaseDistribution {
  readonly dim: number;
  sample(n: number): tf.Tensor2D;
  logProb(z: tf.Tensor2D): tf.Tensor1D;
}

const standardNormals = new Map<number, BaseDistribution>();

/**
 * N(0, I) in d dimensions, the usual base q_0: the library's Normal with its d coordinates as one
 * event. One per dimension, shared by every flow, so that creating and disposing flows leaves no
 * tensors behind.
 */
export function standardNormal(dim: number): BaseDistribution {
  checkInteger('standardNormal', 'dimension', dim);
  const cached = standardNormals.get(dim);
  if (cached) return cached;
  const standard = new Normal(tf.zeros([dim]), tf.ones([dim]));
  // cached for every later call: its tensors must outlive the tidy scope (if any) that made them
  [standard.loc, standard.scale, standard.logScale].forEach((t) => tf.keep(t));
  const normal = new Independent(standard, 1);
  const base: BaseDistribution = {
    dim,
    sample: (n) => {
      checkInteger('standardNormal.sample', 'sample size n', n);
      return normal.sample(n) as tf.Tensor2D;
    },
    logProb: (z) => {
      checkPoints('standardNormal.logProb', z, dim);
      return normal.logProb(z) as tf.Tensor1D;
    },
  };
  standardNormals.set(dim, base);
  return base;
}

/** A flow that is a composition f_K ∘ ... ∘ f_1 over a base distribution q_0. */
export class NormalizingFlow {
  readonly dim: number;
  readonly base: BaseDistribution;

  constructor(
    readonly flows: Flow[],
    base?: BaseDistribution,
  ) {
    if (flows.length === 0 && !base)
      throw new Error(
        'NormalizingFlow needs at least one flow or a base distribution to know its dimension',
      );
    this.dim = base?.dim ?? flows[0].dim;
    flows.forEach((f, i) => {
      if (f.dim !== this.dim)
        throw new Error(
          `flow ${i} ('${f.name}') has dim ${f.dim} but the flow's dimension is ${this.dim}; all ` +
            `layers must share it`,
        );
    });
    this.base = base ?? standardNormal(this.dim);
  }

  get length(): number {
    return this.flows.length;
  }

  /** x = f_K(...f_1(z_0)) and Σ_k log |det ∂f_k/∂z_{k-1}|. */
  forward(z0: tf.Tensor2D): FlowResult {
    checkPoints('NormalizingFlow.forward', z0, this.dim);
    return tf.tidy(() => {
      let y = z0;
      let logDet = tf.zeros([z0.shape[0]]) as tf.Tensor1D;
      for (const f of this.flows) {
        const step = f.forward(y);
        y = step.y;
        logDet = tf.add(logDet, step.logDet);
      }
      return { y, logDet };
    });
  }

  /**
   * n samples x ~ q_K with their log-density: log q_K(x) = log q_0(z_0) - Σ_k log |det
   * ∂f_k/∂z_{k-1}|.
   */
  sample(n: number): { x: tf.Tensor2D; logProb: tf.Tensor1D } {
    checkInteger('NormalizingFlow.sample', 'sample size n', n);
    return tf.tidy(() => {
      const z0 = this.base.sample(n);
      const { y, logDet } = this.forward(z0);
      return { x: y, logProb: tf.sub(this.base.logProb(z0), logDet) as tf.Tensor1D };
    });
  }

  /**
   * z_0 = f^{-1}(x) and log |det ∂f^{-1}/∂x| = Σ_k log |det ∂f_k^{-1}/∂z_k|, by inverting every
   * layer, last first.
   */
  inverseWithLogDet(x: tf.Tensor2D, who = 'NormalizingFlow.inverseWithLogDet'): FlowResult {
    checkPoints(who, x, this.dim);
    const missing = this.flows.filter((f) => !f.inverse).map((f) => f.name);
    if (missing.length > 0)
      throw new Error(
        `${who} needs inverses, but ${missing.join(', ')} ` +
          `ha${missing.length > 1 ? 've' : 's'} none; use sample() for log q of samples`,
      );
    return tf.tidy(() => {
      let z = x;
      let logDet = tf.zeros([x.shape[0]]) as tf.Tensor1D;
      for (let k = this.flows.length - 1; k >= 0; k--) {
        const step = this.flows[k].inverse!(z);
        z = step.y;
        logDet = tf.add(logDet, step.logDet);
      }
      return { y: z, logDet };
    });
  }

  /** log q_K(x) = log q_0(f^{-1}(x)) + Σ_k log |det ∂f_k^{-1}/∂z_k|. */
  logProb(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const { y: z, logDet } = this.inverseWithLogDet(x, 'NormalizingFlow.logProb');
      return tf.add(this.base.logProb(z), logDet) as tf.Tensor1D;
    });
  }

  /**
   * Starts the layers that are started from data (actnorm) on a batch x: each gets the batch as it
   * arrives at that layer on the way from the data to the base, as in Glow. Layers already started
   * keep their parameters.
   */
  initializeFromData(x: tf.Tensor2D): void {
    checkPoints('NormalizingFlow.initializeFromData', x, this.dim);
    const deepest = this.flows.findIndex((f) => f.initializeFromData);
    if (deepest < 0) return;
    tf.tidy(() => {
      let y = x;
      for (let k = this.flows.length - 1; k >= deepest; k--) {
        const f = this.flows[k];
        f.initializeFromData?.(y);
        if (k === deepest) break;
        if (!f.inverse)
          throw new Error(`NormalizingFlow.initializeFromData: layer '${f.name}' has no inverse`);
        y = f.inverse(y).y;
      }
    });
  }

  /** z_0 = f^{-1}(x) (the base point a data point comes from). */
  inverse(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.inverseWithLogDet(x, 'NormalizingFlow.inverse').y);
  }

  namedVariables(): Record<string, tf.Variable> {
    return Object.assign({}, ...this.flows.map((f) => f.namedVariables()));
  }

  variables(): tf.Variable[] {
    return Object.values(this.namedVariables());
  }

  dispose(): void {
    this.flows.forEach((f) => f.dispose());
  }
}
