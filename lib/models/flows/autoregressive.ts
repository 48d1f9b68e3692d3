/**
 * Affine autoregressive flows with MADE as the conditioner: MAF (masked autoregressive flow,
 * Papamakarios et al. 2017) and its mirror IAF (inverse autoregressive flow, Kingma et al. 2016).
 * In an ordering of the D coordinates, a layer maps u to v by
 *   v_i = u_i exp(α_i) + μ_i,   (μ_i, α_i) = MADE(coordinates before i),
 * where MADE reads the data side in MAF, x_i = z_i exp(α_i(x_<i)) + μ_i(x_<i), and the base side
 * in IAF, x_i = z_i exp(α_i(z_<i)) + μ_i(z_<i). The Jacobian is triangular in the ordering with
 * diagonal exp(α_i), so log |det ∂x/∂z| = Σ_i α_i. The direction that knows what MADE reads runs
 * in one pass; the other must produce the coordinates one after another, D passes:
 *   MAF: density (x → z) one pass, sampling (z → x) D passes;
 *   IAF: sampling one pass, density D passes.
 */
import * as tf from '@tensorflow/tfjs';
import { MADE } from '../autoregressive';
import { checkPoints } from './checks';
import { checkInteger, checkOptionNames } from '../../runtime/checks';
import { Flow, FlowResult } from './flow';

export interface AutoregressiveOptions {
  /** Hidden layer sizes of MADE (default [64, 64]). */
  hidden?: number[];
  /**
   * The order in which coordinates are produced: 'natural' (x_0 first, the default), 'reversed',
   * or a permutation of 0..D-1 listing the coordinates first to last.
   */
  ordering?: 'natural' | 'reversed' | number[];
  name?: string;
}

const AUTOREGRESSIVE_OPTIONS = ['hidden', 'ordering', 'name'];

/** What MAF and IAF share: MADE, the affine map in both directions, and the D-pass solve. */
export abstract class AutoregressiveAffine implements Flow {
  readonly made: MADE;
  readonly name: string;
  /** The coordinates in the order they are produced, first to last. */
  readonly ordering: number[];

  constructor(
    kind: string,
    readonly dim: number,
    options: AutoregressiveOptions,
  ) {
    checkOptionNames(kind, options, AUTOREGRESSIVE_OPTIONS);
    if (!Number.isInteger(dim) || dim < 2)
      throw new Error(
        `${kind} dim must be an integer >= 2 (one coordinate is not a sequence), got ${dim}`,
      );
    const hidden = options.hidden ?? [64, 64];
    hidden.forEach((h) => checkInteger(kind, 'hidden size', h));
    const ordering = options.ordering ?? 'natural';
    if (ordering === 'natural' || ordering === 'reversed') {
      const natural = Array.from({ length: dim }, (_, i) => i);
      this.ordering = ordering === 'natural' ? natural : natural.reverse();
    } else if (Array.isArray(ordering)) this.ordering = [...ordering];
    else
      throw new Error(
        `${kind}: ordering must be 'natural', 'reversed' or a permutation of 0..${dim - 1}, ` +
          `got ${JSON.stringify(ordering)}`,
      );
    this.name = options.name ?? kind.toLowerCase();
    // MADE checks the permutation; two outputs per coordinate: μ in columns 0..D-1, α in D..2D-1
    this.made = new MADE({ inputDim: dim, hidden, outputsPerDim: 2, ordering: this.ordering });
    // the output layer starts at zero, so a new layer is the identity
    const last = this.made.layers[this.made.layers.length - 1];
    last.w.assign(tf.zerosLike(last.w));
    last.b.assign(tf.zerosLike(last.b));
  }

  /** μ(c) and α(c) (bounded by tanh, as in the coupling layers), reading the tensor c. */
  private shiftLogScale(c: tf.Tensor2D): { mu: tf.Tensor2D; alpha: tf.Tensor2D } {
    const [mu, rawAlpha] = tf.split(this.made.outputs(c), 2, 1) as tf.Tensor2D[];
    return { mu, alpha: tf.tanh(rawAlpha) };
  }

  // v = u⊙exp(α(c)) + μ(c),  log|det ∂v/∂u| = Σ α(c)
  protected push(u: tf.Tensor2D, c: tf.Tensor2D): FlowResult {
    const { mu, alpha } = this.shiftLogScale(c);
    return {
      y: tf.add(tf.mul(u, tf.exp(alpha)), mu) as tf.Tensor2D,
      logDet: tf.sum(alpha, 1) as tf.Tensor1D,
    };
  }

  // u = (v - μ(c))⊙exp(-α(c)),  log|det ∂u/∂v| = -Σ α(c)
  protected pull(v: tf.Tensor2D, c: tf.Tensor2D): FlowResult {
    const { mu, alpha } = this.shiftLogScale(c);
    return {
      y: tf.mul(tf.sub(v, mu), tf.exp(tf.neg(alpha))) as tf.Tensor2D,
      logDet: tf.neg(tf.sum(alpha, 1)) as tf.Tensor1D,
    };
  }

  /**
   * Solves out = step(out).y when step's output i depends on out only through the coordinates
   * before i: starting from zeros, pass p makes the first p coordinates of the ordering exact, so
   * after D passes all are, and the last pass's log-determinant is exact too.
   */
  protected sequential(n: number, step: (current: tf.Tensor2D) => FlowResult): FlowResult {
    let result: FlowResult = { y: tf.zeros([n, this.dim]), logDet: tf.zeros([n]) };
    for (let pass = 0; pass < this.dim; pass++) result = step(result.y);
    return result;
  }

  abstract forward(z: tf.Tensor2D): FlowResult;
  abstract inverse(y: tf.Tensor2D): FlowResult;

  namedVariables(): Record<string, tf.Variable> {
    const named = this.made.namedVariables();
    return Object.fromEntries(Object.keys(named).map((k) => [`${this.name}.${k}`, named[k]]));
  }

  dispose(): void {
    this.made.dispose();
  }
}

/** MAF: MADE reads the data side; the density in one pass, a sample in D passes. */
export class MaskedAutoregressiveFlow extends AutoregressiveAffine {
  constructor(dim: number, options: AutoregressiveOptions = {}) {
    super('MAF', dim, options);
  }

  // x_i = z_i exp(α_i(x_<i)) + μ_i(x_<i): D passes
  forward(z: tf.Tensor2D): FlowResult {
    checkPoints(`${this.name}.forward`, z, this.dim);
    return tf.tidy(() => this.sequential(z.shape[0], (x) => this.push(z, x)));
  }

  // z = (x - μ(x))⊙exp(-α(x)): one pass
  inverse(x: tf.Tensor2D): FlowResult {
    checkPoints(`${this.name}.inverse`, x, this.dim);
    return tf.tidy(() => this.pull(x, x));
  }
}

/** IAF: MADE reads the base side; a sample in one pass, the density in D passes. */
export class InverseAutoregressiveFlow extends AutoregressiveAffine {
  constructor(dim: number, options: AutoregressiveOptions = {}) {
    super('IAF', dim, options);
  }

  // x = z⊙exp(α(z)) + μ(z): one pass
  forward(z: tf.Tensor2D): FlowResult {
    checkPoints(`${this.name}.forward`, z, this.dim);
    return tf.tidy(() => this.push(z, z));
  }

  // z_i = (x_i - μ_i(z_<i)) exp(-α_i(z_<i)): D passes
  inverse(x: tf.Tensor2D): FlowResult {
    checkPoints(`${this.name}.inverse`, x, this.dim);
    return tf.tidy(() => this.sequential(x.shape[0], (z) => this.pull(x, z)));
  }
}

/**
 * K MAF (or IAF) layers whose orderings alternate between natural and reversed, so that the
 * coordinate produced first in one layer is produced last in the next (Papamakarios et al. 2017),
 * named maf.0 .. maf.K-1 (iaf.0 ..).
 */
export function autoregressiveFlows(
  type: 'maf' | 'iaf',
  dim: number,
  K: number,
  options: Omit<AutoregressiveOptions, 'name' | 'ordering'> = {},
): AutoregressiveAffine[] {
  checkOptionNames('autoregressiveFlows', options, ['hidden']);
  if (type !== 'maf' && type !== 'iaf')
    throw new Error(`autoregressiveFlows: unknown type '${type}': use maf or iaf`);
  checkInteger('autoregressiveFlows', 'the number of autoregressive layers K', K);
  const Layer = type === 'maf' ? MaskedAutoregressiveFlow : InverseAutoregressiveFlow;
  return Array.from(
    { length: K },
    (_, k) =>
      new Layer(dim, {
        ...options,
        ordering: k % 2 === 0 ? 'natural' : 'reversed',
        name: `${type}.${k}`,
      }),
  );
}
