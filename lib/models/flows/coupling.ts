/**
 * Coupling layers: a binary mask m splits the coordinates; those with m_i = 1 pass through
 * unchanged and condition a network that transforms the others. The Jacobian is triangular (after
 * permuting), so its log-determinant is cheap, and the inverse is exact.
 *  - Additive (NICE, Dinh et al. 2014): y = z + (1-m)⊙t(m⊙z), log |det ∂y/∂z| = 0.
 *  - Affine (RealNVP, Dinh et al. 2017): y = m⊙z + (1-m)⊙(z⊙exp(s(m⊙z)) + t(m⊙z)),
 *    log |det ∂y/∂z| = Σ_i (1-m_i) s_i(m⊙z).
 */
import * as tf from '@tensorflow/tfjs';
import { Activation, MLP } from '../../nn';
import { checkPoints } from './checks';
import { checkInteger, checkOptionNames } from '../../runtime/checks';
import { Flow, FlowResult } from './flow';
import { Scaling } from './elementwise';

export interface CouplingOptions {
  /** Hidden layer sizes of the network that conditions the layer (default [64, 64]). */
  hidden?: number[];
  /** Hidden activation (default 'relu'). */
  activation?: Activation;
  name?: string;
}

const NETWORK_OPTIONS = ['hidden', 'activation'] as const;
const COUPLING_OPTIONS = [...NETWORK_OPTIONS, 'name'] as const;

/**
 * The alternating mask of layer `layer`: m_i = 1 when i + layer is even (the coordinates left
 * unchanged).
 */
export function alternatingMask(dim: number, layer: number): number[] {
  if (!Number.isInteger(dim) || dim < 2)
    throw new Error(
      `a coupling layer needs dim >= 2 (it splits the coordinates in two), got ${dim}`,
    );
  if (!Number.isInteger(layer) || layer < 0)
    throw new Error(`layer index must be a non-negative integer, got ${layer}`);
  return Array.from({ length: dim }, (_, i) => ((i + layer) % 2 === 0 ? 1 : 0));
}

/**
 * What the two coupling layers share: the mask, its complement, and a network from the
 * pass-through coordinates to `outputs` values per coordinate. The network's last layer starts at
 * zero, so a new layer is the identity.
 */
export abstract class Coupling implements Flow {
  readonly net: MLP;
  readonly mask: tf.Tensor1D;
  readonly name: string;
  protected readonly complement: tf.Tensor1D;

  /**
   * `mask`: 1 for the coordinates that pass through and condition the others, 0 for those
   * transformed.
   */
  constructor(
    kind: string,
    readonly dim: number,
    mask: number[],
    options: CouplingOptions,
    outputs: number,
  ) {
    checkOptionNames(kind, options, COUPLING_OPTIONS);
    if (!Number.isInteger(dim) || dim < 2)
      throw new Error(`${kind} dim must be an integer >= 2, got ${dim}`);
    if (mask.length !== dim || mask.some((m) => m !== 0 && m !== 1)) {
      throw new Error(`${kind} mask must be ${dim} values of 0 or 1, got [${mask.join(', ')}]`);
    }
    if (mask.every((m) => m === 1) || mask.every((m) => m === 0)) {
      throw new Error(
        `${kind} mask [${mask.join(', ')}] must contain both 0s and 1s, or the layer is the ` +
          `identity or unconditioned`,
      );
    }
    const hidden = options.hidden ?? [64, 64];
    hidden.forEach((h) => checkInteger(kind, 'hidden size', h));
    this.name = options.name ?? 'coupling';
    this.net = new MLP([dim, ...hidden, outputs * dim], {
      hidden: options.activation ?? 'relu',
      name: `${this.name}.net`,
    });
    const last = this.net.layers[this.net.layers.length - 1];
    last.w.assign(tf.zerosLike(last.w));
    last.b.assign(tf.zerosLike(last.b));
    this.mask = tf.tensor1d(mask);
    this.complement = tf.tensor1d(mask.map((m) => 1 - m));
  }

  /** The network's output on the pass-through coordinates m⊙x. */
  protected condition(x: tf.Tensor2D): tf.Tensor2D {
    return this.net.apply(tf.mul(x, this.mask) as tf.Tensor2D);
  }

  abstract forward(z: tf.Tensor2D): FlowResult;
  abstract inverse(y: tf.Tensor2D): FlowResult;

  namedVariables(): Record<string, tf.Variable> {
    return this.net.namedVariables();
  }

  dispose(): void {
    this.net.dispose();
    tf.dispose([this.mask, this.complement]);
  }
}

/** NICE's additive coupling: volume-preserving, so it can move mass but never concentrate it. */
export class AdditiveCoupling extends Coupling {
  constructor(dim: number, mask: number[], options: CouplingOptions = {}) {
    super('AdditiveCoupling', dim, mask, options, 1);
  }

  private shift(x: tf.Tensor2D): tf.Tensor2D {
    return tf.mul(this.condition(x), this.complement) as tf.Tensor2D;
  }

  // y = z + (1-m)⊙t(m⊙z),  log|det| = 0
  forward(z: tf.Tensor2D): FlowResult {
    checkPoints(`${this.name}.forward`, z, this.dim);
    return tf.tidy(() => ({
      y: tf.add(z, this.shift(z)) as tf.Tensor2D,
      logDet: tf.zeros([z.shape[0]]) as tf.Tensor1D,
    }));
  }

  // z = y - (1-m)⊙t(m⊙y),  log|det| = 0
  inverse(y: tf.Tensor2D): FlowResult {
    checkPoints(`${this.name}.inverse`, y, this.dim);
    return tf.tidy(() => ({
      y: tf.sub(y, this.shift(y)) as tf.Tensor2D,
      logDet: tf.zeros([y.shape[0]]) as tf.Tensor1D,
    }));
  }
}

/** RealNVP's affine coupling: the scale s makes the volume change depend on the point. */
export class AffineCoupling extends Coupling {
  constructor(dim: number, mask: number[], options: CouplingOptions = {}) {
    // one network outputs [s, t]
    super('AffineCoupling', dim, mask, options, 2);
  }

  /**
   * s (bounded by tanh, masked to the transformed coordinates) and t from the pass-through
   * coordinates.
   */
  private scaleShift(x: tf.Tensor2D): { s: tf.Tensor2D; t: tf.Tensor2D } {
    const [rawS, rawT] = tf.split(this.condition(x), 2, 1);
    return {
      s: tf.mul(tf.tanh(rawS), this.complement) as tf.Tensor2D,
      t: tf.mul(rawT, this.complement) as tf.Tensor2D,
    };
  }

  // y = m⊙z + (1-m)⊙(z⊙exp(s) + t),  log|det| = Σ (1-m)⊙s
  forward(z: tf.Tensor2D): FlowResult {
    checkPoints(`${this.name}.forward`, z, this.dim);
    return tf.tidy(() => {
      const { s, t } = this.scaleShift(z);
      const y = tf.add(tf.mul(z, tf.exp(s)), t) as tf.Tensor2D;
      return { y, logDet: tf.sum(s, 1) as tf.Tensor1D };
    });
  }

  // z = m⊙y + (1-m)⊙(y - t)⊙exp(-s),  log|det ∂z/∂y| = -Σ (1-m)⊙s
  inverse(y: tf.Tensor2D): FlowResult {
    checkPoints(`${this.name}.inverse`, y, this.dim);
    return tf.tidy(() => {
      const { s, t } = this.scaleShift(y);
      const z = tf.mul(tf.sub(y, t), tf.exp(tf.neg(s))) as tf.Tensor2D;
      return { y: z, logDet: tf.neg(tf.sum(s, 1)) as tf.Tensor1D };
    });
  }
}

export type CouplingType = 'affine' | 'additive';
const COUPLING_TYPES: CouplingType[] = ['affine', 'additive'];

export interface CouplingFlowsOptions extends Omit<CouplingOptions, 'name'> {
  /** 'affine' (RealNVP, the default) or 'additive' (NICE). */
  type?: CouplingType;
}

/**
 * K coupling layers whose masks alternate, so every coordinate is transformed by every other
 * layer, named coupling.0 .. coupling.K-1.
 */
export function couplingFlows(
  dim: number,
  K: number,
  options: CouplingFlowsOptions = {},
): Coupling[] {
  checkOptionNames('couplingFlows', options, ['type', ...NETWORK_OPTIONS]);
  checkInteger('couplingFlows', 'the number of coupling layers K', K);
  const { type = 'affine', ...layerOptions } = options;
  if (!COUPLING_TYPES.includes(type))
    throw new Error(`couplingFlows: unknown type '${type}': use ${COUPLING_TYPES.join(' or ')}`);
  const Layer = type === 'affine' ? AffineCoupling : AdditiveCoupling;
  return Array.from(
    { length: K },
    (_, k) => new Layer(dim, alternatingMask(dim, k), { ...layerOptions, name: `coupling.${k}` }),
  );
}

/**
 * NICE (Dinh et al. 2014): K additive coupling layers with alternating masks and, on the base
 * side, the diagonal scaling layer exp(s) that is its only change of volume (the same everywhere).
 */
export function niceFlows(
  dim: number,
  K: number,
  options: Omit<CouplingOptions, 'name'> = {},
): Flow[] {
  checkOptionNames('niceFlows', options, NETWORK_OPTIONS);
  return [new Scaling(dim), ...couplingFlows(dim, K, { ...options, type: 'additive' })];
}
