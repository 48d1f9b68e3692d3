/**
 * Affine coupling layer (NICE, Dinh et al. 2014; RealNVP, Dinh et al. 2017). With a binary mask m,
 *   y = m⊙z + (1-m)⊙(z⊙exp(s(m⊙z)) + t(m⊙z)),
 * the Jacobian is triangular (after permuting), so log |det ∂y/∂z| = Σ_i (1-m_i) s_i(m⊙z), and the
 * inverse is exact:
 *   z = m⊙y + (1-m)⊙((y - t(m⊙y))⊙exp(-s(m⊙y))).
 */
import * as tf from '@tensorflow/tfjs';
import { Activation, MLP } from '../../nn';
import { checkCount, checkPoints } from './checks';
import { Flow, FlowResult } from './flow';

export interface CouplingOptions {
  /** Hidden layer sizes of the scale/shift network (default [64, 64]). */
  hidden?: number[];
  /** Hidden activation (default 'relu'). */
  activation?: Activation;
  name?: string;
}

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

export class AffineCoupling implements Flow {
  readonly net: MLP;
  readonly mask: tf.Tensor1D;
  readonly name: string;
  private readonly complement: tf.Tensor1D;

  /**
   * `mask`: 1 for the coordinates that pass through and condition the others, 0 for those
   * transformed.
   */
  constructor(
    readonly dim: number,
    mask: number[],
    options: CouplingOptions = {},
  ) {
    if (!Number.isInteger(dim) || dim < 2)
      throw new Error(`AffineCoupling dim must be an integer >= 2, got ${dim}`);
    if (mask.length !== dim || mask.some((m) => m !== 0 && m !== 1)) {
      throw new Error(
        `AffineCoupling mask must be ${dim} values of 0 or 1, got [${mask.join(', ')}]`,
      );
    }
    if (mask.every((m) => m === 1) || mask.every((m) => m === 0)) {
      throw new Error(
        `AffineCoupling mask [${mask.join(', ')}] must contain both 0s and 1s, or the layer is ` +
          `the identity or unconditioned`,
      );
    }
    const hidden = options.hidden ?? [64, 64];
    hidden.forEach((h) => checkCount('AffineCoupling hidden size', h));
    this.name = options.name ?? 'coupling';
    // One network outputs [s, t]; its last layer starts at zero so the layer starts as the
    // identity.
    this.net = new MLP([dim, ...hidden, 2 * dim], {
      hidden: options.activation ?? 'relu',
      name: `${this.name}.net`,
    });
    const last = this.net.layers[this.net.layers.length - 1];
    last.w.assign(tf.zerosLike(last.w));
    last.b.assign(tf.zerosLike(last.b));
    this.mask = tf.tensor1d(mask);
    this.complement = tf.tensor1d(mask.map((m) => 1 - m));
  }

  /**
   * s (bounded by tanh, masked to the transformed coordinates) and t from the pass-through
   * coordinates.
   */
  private scaleShift(passThrough: tf.Tensor2D): { s: tf.Tensor2D; t: tf.Tensor2D } {
    const out = this.net.apply(passThrough);
    const [rawS, rawT] = tf.split(out, 2, 1);
    return {
      s: tf.mul(tf.tanh(rawS), this.complement) as tf.Tensor2D,
      t: tf.mul(rawT, this.complement) as tf.Tensor2D,
    };
  }

  // y = m⊙z + (1-m)⊙(z⊙exp(s) + t),  log|det| = Σ (1-m)⊙s
  forward(z: tf.Tensor2D): FlowResult {
    checkPoints(`${this.name}.forward`, z, this.dim);
    return tf.tidy(() => {
      const { s, t } = this.scaleShift(tf.mul(z, this.mask) as tf.Tensor2D);
      const y = tf.add(tf.mul(z, tf.exp(s)), t) as tf.Tensor2D;
      return { y, logDet: tf.sum(s, 1) as tf.Tensor1D };
    });
  }

  // z = m⊙y + (1-m)⊙(y - t)⊙exp(-s),  log|det ∂z/∂y| = -Σ (1-m)⊙s
  inverse(y: tf.Tensor2D): FlowResult {
    checkPoints(`${this.name}.inverse`, y, this.dim);
    return tf.tidy(() => {
      const { s, t } = this.scaleShift(tf.mul(y, this.mask) as tf.Tensor2D);
      const z = tf.mul(tf.sub(y, t), tf.exp(tf.neg(s))) as tf.Tensor2D;
      return { y: z, logDet: tf.neg(tf.sum(s, 1)) as tf.Tensor1D };
    });
  }

  namedVariables(): Record<string, tf.Variable> {
    return this.net.namedVariables();
  }

  dispose(): void {
    this.net.dispose();
    tf.dispose([this.mask, this.complement]);
  }
}

/**
 * K affine coupling layers whose masks alternate, so every coordinate is transformed by every other
 * layer.
 */
export function couplingFlows(
  dim: number,
  K: number,
  options: Omit<CouplingOptions, 'name'> = {},
): AffineCoupling[] {
  checkCount('number of coupling layers K', K);
  return Array.from(
    { length: K },
    (_, k) =>
      new AffineCoupling(dim, alternatingMask(dim, k), { ...options, name: `coupling.${k}` }),
  );
}
