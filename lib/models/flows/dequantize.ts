/**
 * Flows on discrete data. A flow has a density p(y) on R^D, but pixels take L values (L = 256 for
 * 8-bit images); a density can put arbitrarily high values on a finite set of points, so the
 * likelihood of the raw integers is unbounded. Uniform dequantization (Theis et al. 2016, RealNVP)
 * instead models y = (k + u) / L, u ~ U[0, 1)^D: the discrete model is P(k) = ∫_{bin(k)} p(y) dy
 * over the cube of side 1/L at k/L, a proper distribution on {0, ..., L-1}^D, and by Jensen
 *   log P(k) ≥ E_u[log p((k + u)/L)] - D log L,
 * which training maximizes. Reported in bits per dimension: -log₂ P(k) / D = nats / (D ln 2), so
 * 8 bits per dimension is a uniform guess over 256 levels and 0 a perfect one.
 */
import * as tf from '@tensorflow/tfjs';
import { nextSeed } from '../../runtime';
import { checkLevels, checkPoints } from './checks';
import { checkInteger, checkOptionNames } from '../../runtime/checks';
import { Flow, FlowResult, NormalizingFlow } from './flow';

/** Pixels stored as k / (L - 1) in [0, 1] (as loadMnist returns them) back to their levels k. */
export function pixelLevels(pixels: tf.Tensor2D, L = 256): tf.Tensor2D {
  checkInteger('pixelLevels', 'the number of levels L', L);
  return tf.tidy(() => {
    const levels = tf.round(tf.mul(pixels, L - 1)) as tf.Tensor2D;
    checkLevels('pixelLevels', levels, L);
    const off = tf.max(tf.abs(tf.sub(tf.div(levels, L - 1), pixels))).dataSync()[0];
    if (!(off < 1e-3 / L))
      throw new Error(
        `pixelLevels: the pixels are not multiples of 1/${L - 1} in [0, 1] (off by up to ` +
          `${off}); pass images with ${L} levels, scaled to [0, 1]`,
      );
    return levels;
  });
}

/** y = (k + u) / L with fresh u ~ U[0, 1)^D: one continuous point in the bin of each k. */
export function dequantize(levels: tf.Tensor2D, L = 256): tf.Tensor2D {
  if (levels.rank !== 2)
    throw new Error(
      `dequantize: expected levels of shape [n, D], got [${levels.shape.join(', ')}]`,
    );
  checkLevels('dequantize', levels, L);
  return tf.tidy(
    () =>
      tf.div(
        tf.add(levels, tf.randomUniform(levels.shape, 0, 1, 'float32', nextSeed())),
        L,
      ) as tf.Tensor2D,
  );
}

/** Bits per dimension of a negative log-likelihood in nats per point of D numbers. */
export function bitsPerDim(nats: number, D: number): number {
  checkInteger('bitsPerDim', 'the dimension D', D);
  if (!Number.isFinite(nats)) throw new Error(`bitsPerDim: the NLL must be finite, got ${nats}`);
  return nats / (D * Math.LN2);
}

export interface DequantizedOptions {
  /** Number of levels per value (default 256). */
  levels?: number;
  /** Draws of u averaged per point (default 1). */
  samples?: number;
}

/**
 * The lower bound E_u[log p((k + u)/L)] - D log L on log P(k) in nats, per point of k [n, D],
 * estimated with `samples` draws of u.
 */
export function dequantizedLogLikelihood(
  flow: NormalizingFlow,
  k: tf.Tensor2D,
  options: DequantizedOptions = {},
): tf.Tensor1D {
  checkOptionNames('dequantizedLogLikelihood', options, ['levels', 'samples']);
  checkPoints('dequantizedLogLikelihood', k, flow.dim);
  const L = options.levels ?? 256;
  const samples = options.samples ?? 1;
  checkInteger('dequantizedLogLikelihood', 'samples', samples);
  checkLevels('dequantizedLogLikelihood', k, L);
  return tf.tidy(() => {
    let sum = tf.zeros([k.shape[0]]);
    for (let s = 0; s < samples; s++) sum = tf.add(sum, flow.logProb(dequantize(k, L)));
    return tf.sub(tf.div(sum, samples), flow.dim * Math.log(L)) as tf.Tensor1D;
  });
}

/**
 * RealNVP's logit layer, the last step towards the data. Its inverse squeezes [0, 1] into
 * [α, 1 - α] and takes the logit, z = logit(α + (1 - 2α) y); its forward map is
 *   y = (σ(z) - α) / (1 - 2α),
 *   log |det ∂y/∂z| = Σ_i [log σ(z_i) + log(1 - σ(z_i)) - log(1 - 2α)],
 * so the flow's density lives where dequantized pixels do. α (default 0.05) keeps away from the
 * infinite slopes of the logit at 0 and 1; the price is the mass the flow puts on the margins
 * (-α/(1-2α), 0) and (1, 1 + α/(1-2α)), which only lowers the likelihood of [0, 1]-valued data.
 * With α = 0 the density lives exactly on the open cube (0, 1)^D.
 */
export class LogitTransform implements Flow {
  readonly name: string;
  readonly alpha: number;

  constructor(
    readonly dim: number,
    options: { alpha?: number; name?: string } = {},
  ) {
    checkOptionNames('LogitTransform', options, ['alpha', 'name']);
    checkInteger('LogitTransform', 'dim', dim);
    this.alpha = options.alpha ?? 0.05;
    if (!(this.alpha >= 0 && this.alpha < 0.5))
      throw new Error(`LogitTransform: alpha must be in [0, 0.5), got ${this.alpha}`);
    this.name = options.name ?? 'logit';
  }

  forward(z: tf.Tensor2D): FlowResult {
    checkPoints(`${this.name}.forward`, z, this.dim);
    const a = this.alpha;
    return tf.tidy(() => {
      const y = tf.div(tf.sub(tf.sigmoid(z), a), 1 - 2 * a) as tf.Tensor2D;
      // log σ(z) + log(1 - σ(z)) = -softplus(-z) - softplus(z)
      const perCoordinate = tf.neg(tf.add(tf.softplus(tf.neg(z)), tf.softplus(z)));
      const logDet = tf.sub(tf.sum(perCoordinate, 1), this.dim * Math.log(1 - 2 * a));
      return { y, logDet: logDet as tf.Tensor1D };
    });
  }

  inverse(y: tf.Tensor2D): FlowResult {
    checkPoints(`${this.name}.inverse`, y, this.dim);
    const a = this.alpha;
    return tf.tidy(() => {
      const p = tf.add(a, tf.mul(1 - 2 * a, y));
      const logP = tf.log(p);
      const log1mP = tf.log1p(tf.neg(p));
      const logDet = tf.sub(this.dim * Math.log(1 - 2 * a), tf.sum(tf.add(logP, log1mP), 1));
      return { y: tf.sub(logP, log1mP) as tf.Tensor2D, logDet: logDet as tf.Tensor1D };
    });
  }

  namedVariables(): Record<string, tf.Variable> {
    return {};
  }

  dispose(): void {}
}
