/**
 * Energy-based models (lecture 001, "Energy-Based Models"): any function E(x; θ) defines
 *   P(x) = exp(-E(x; θ)) / Z(θ),  Z(θ) = ∫ exp(-E(x; θ)) dx.
 * The exponential makes every energy a valid unnormalized density (positive whatever E is) and
 * turns sums of energies into products of probabilities. Sampling and score matching only need
 * the gradient ∇_x E(x): Z does not depend on x.
 */
import * as tf from '@tensorflow/tfjs';
import { Dense } from '../../nn/dense';
import { checkPoints } from './checks';
import { checkOptions } from '../../runtime/checks';

/** E(x) for each row of x [n, d]. */
export type EnergyFunction = (x: tf.Tensor2D) => tf.Tensor1D;

/** An energy that also computes its own input gradient (exactly, and differentiably in θ). */
export interface EnergyModel {
  energy(x: tf.Tensor2D): tf.Tensor1D;
  /** ∇_x E(x) for each row of x [n, d]. */
  gradient(x: tf.Tensor2D): tf.Tensor2D;
}

export type Energy = EnergyFunction | EnergyModel;

/** E(x) of an energy function or model, [n]. */
export function energyOf(energy: Energy, x: tf.Tensor2D): tf.Tensor1D {
  return typeof energy === 'function' ? energy(x) : energy.energy(x);
}

/**
 * ∇_x E(x) for each row of x [n, d]: the model's own gradient, or automatic differentiation of a
 * plain function (rows do not interact, so the gradient of Σ_n E(x_n) is each row's own gradient).
 */
export function energyGradient(energy: Energy, x: tf.Tensor2D): tf.Tensor2D {
  checkPoints('energyGradient', x);
  if (typeof energy !== 'function') return energy.gradient(x);
  return tf.grad((y: tf.Tensor) => tf.sum(energy(y as tf.Tensor2D)))(x) as tf.Tensor2D;
}

/** Smooth activations σ(z) with their slopes σ'(z), for an energy whose ∇_x E is continuous. */
const ACTIVATIONS = {
  /** z·sigmoid(z) (Du & Mordatch 2019, the UvA tutorial). */
  swish: {
    apply: (z: tf.Tensor) => tf.mul(z, tf.sigmoid(z)),
    slope: (z: tf.Tensor) => {
      const s = tf.sigmoid(z);
      return tf.add(s, tf.mul(tf.mul(z, s), tf.sub(1, s)));
    },
  },
  softplus: { apply: (z: tf.Tensor) => tf.softplus(z), slope: (z: tf.Tensor) => tf.sigmoid(z) },
  tanh: {
    apply: (z: tf.Tensor) => tf.tanh(z),
    slope: (z: tf.Tensor) => tf.sub(1, tf.square(tf.tanh(z))),
  },
};

export type EnergyActivation = keyof typeof ACTIVATIONS;
export const ENERGY_ACTIVATIONS = Object.keys(ACTIVATIONS) as EnergyActivation[];

export interface EnergyNetworkOptions {
  /** Activation of the hidden layers (default 'swish'). */
  activation?: EnergyActivation;
  /** Variable name prefix (default 'energy'). */
  name?: string;
}

/**
 * An MLP energy for vectors: E(x; θ) = w^T a_L + c with a_l = σ(a_{l-1} W_l + b_l), a_0 = x. Its
 * input gradient is computed by an explicit backward pass through the layers,
 *   g_L = w,  g_{l-1} = (g_l ⊙ σ'(z_l)) W_l^T,  ∇_x E = g_0,
 * written in ordinary tensor operations, so that its gradient with respect to θ (which denoising
 * score matching needs) is exact first-order autodiff, not a gradient of a gradient.
 */
export class EnergyNetwork implements EnergyModel {
  readonly layers: Dense[];
  readonly activation: EnergyActivation;

  constructor(
    readonly dim: number,
    readonly hidden: number[],
    options: EnergyNetworkOptions = {},
  ) {
    checkOptions('EnergyNetwork', options, { activation: true, name: true });
    if (!Number.isInteger(dim) || dim < 1)
      throw new Error(`EnergyNetwork: dim must be a positive integer, got ${dim}`);
    if (!Array.isArray(hidden) || hidden.some((h) => !Number.isInteger(h) || h < 1))
      throw new Error(
        `EnergyNetwork: hidden must list positive integer layer sizes, e.g. [64, 64], got ` +
          `${JSON.stringify(hidden)}`,
      );
    this.activation = options.activation ?? 'swish';
    if (!ENERGY_ACTIVATIONS.includes(this.activation))
      throw new Error(
        `EnergyNetwork: unknown activation '${this.activation}': use one of ` +
          `${ENERGY_ACTIVATIONS.join(', ')} (smooth, so that ∇_x E is continuous)`,
      );
    const sizes = [dim, ...hidden, 1];
    const name = options.name ?? 'energy';
    this.layers = sizes
      .slice(1)
      .map((out, i) => new Dense(sizes[i], out, { name: `${name}.${i}` }));
  }

  /** The pre-activations z_l of the hidden layers and the energy, for rows x [n, dim]. */
  private forward(x: tf.Tensor2D): { z: tf.Tensor2D[]; energy: tf.Tensor1D } {
    checkPoints('EnergyNetwork', x, this.dim);
    const act = ACTIVATIONS[this.activation];
    const z: tf.Tensor2D[] = [];
    let a = x;
    for (const layer of this.layers.slice(0, -1)) {
      z.push(layer.apply(a));
      a = act.apply(z[z.length - 1]) as tf.Tensor2D;
    }
    const out = this.layers[this.layers.length - 1].apply(a);
    return { z, energy: tf.reshape(out, [-1]) as tf.Tensor1D };
  }

  /** E(x; θ) for each row of x [n, dim]. */
  energy(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => this.forward(x).energy);
  }

  /** ∇_x E(x; θ) for each row of x [n, dim], by the explicit backward pass above. */
  gradient(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const { z } = this.forward(x);
      const act = ACTIVATIONS[this.activation];
      const last = this.layers[this.layers.length - 1];
      // g_L = w for every row: [n, h_L]
      let g: tf.Tensor = tf.tile(tf.transpose(last.w), [x.shape[0], 1]);
      for (let l = z.length - 1; l >= 0; l--)
        g = tf.matMul(tf.mul(g, act.slope(z[l])), this.layers[l].w, false, true);
      return g as tf.Tensor2D;
    });
  }

  variables(): tf.Variable[] {
    return this.layers.flatMap((l) => [l.w, l.b]);
  }

  namedVariables(): Record<string, tf.Variable> {
    return Object.assign({}, ...this.layers.map((l) => l.namedVariables()));
  }

  dispose(): void {
    this.layers.forEach((l) => l.dispose());
  }
}
