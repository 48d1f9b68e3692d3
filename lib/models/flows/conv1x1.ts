/**
 * The invertible 1×1 convolution (Glow, Kingma & Dhariwal 2018): the same invertible c × c matrix
 * W mixes the channels of every pixel. On a vector (a 1 × 1 image) it is a learned invertible
 * linear map; a fixed permutation of the channels, which RealNVP puts between coupling layers, is
 * the special case W = P. Parameterized by its LU decomposition,
 *   W = P L (U + diag(sign ⊙ exp(log|s|))),
 * with P a fixed permutation, L unit lower triangular and U strictly upper triangular, so
 *   log |det W| = Σ_i log|s_i|, and log |det| of the layer = (pixels) × Σ_i log|s_i|.
 * As in Glow, W maps the data toward the base (inverse), so evaluating the density and training by
 * maximum likelihood use W itself, and sampling (forward) uses W⁻¹.
 */
import * as tf from '@tensorflow/tfjs';
import { nextSeed } from '../../runtime';
import { checkPoints } from './checks';
import { checkOptionNames } from '../../runtime/checks';
import { Flow, FlowResult } from './flow';
import { luDecompose } from './jacobian';
import { FlowShape, ImageShape, imageShape, shapeSize } from './shapes';

export interface Conv1x1Options {
  /**
   * The starting W: 'rotation' (a random orthogonal matrix, Glow's choice and the default),
   * 'identity', a permutation of 0..c-1 given as the channel each output channel reads (e.g.
   * [1, 0] swaps two coordinates), or an invertible c × c matrix as rows.
   */
  init?: 'rotation' | 'identity' | number[] | number[][];
  name?: string;
}

/** The starting matrix as rows of numbers. */
function initialMatrix(c: number, init: Conv1x1Options['init']): number[][] {
  const eye = (i: number, j: number) => (i === j ? 1 : 0);
  if (init === undefined || init === 'rotation') {
    const q = tf.tidy(() => tf.linalg.qr(tf.randomNormal([c, c], 0, 1, 'float32', nextSeed()))[0]);
    const rows = q.arraySync() as number[][];
    q.dispose();
    return rows;
  }
  if (init === 'identity')
    return Array.from({ length: c }, (_, i) => Array.from({ length: c }, (_, j) => eye(i, j)));
  const wrong = () =>
    new Error(
      `InvertibleConv1x1: init must be 'rotation', 'identity', a permutation of 0..${c - 1} or ` +
        `a ${c} × ${c} matrix, got ${JSON.stringify(init)}`,
    );
  if (!Array.isArray(init) || init.length !== c) throw wrong();
  if ((init as unknown[]).every((row) => Array.isArray(row))) {
    const rows = init as number[][];
    if (rows.some((row) => row.length !== c || row.some((v) => !Number.isFinite(v)))) throw wrong();
    return rows;
  }
  const order = init as number[];
  if ([...order].sort((a, b) => a - b).some((v, i) => v !== i)) throw wrong();
  return order.map((from) => Array.from({ length: c }, (_, j) => eye(from, j)));
}

/**
 * A⁻¹ of a square matrix, computed in float64 on the host (Gauss-Jordan with partial pivoting),
 * with the gradient dL/dA = -A⁻ᵀ (dL/dA⁻¹) A⁻ᵀ.
 */
const matrixInverse = tf.customGrad(((a: tf.Tensor, save: tf.GradSaveFunc) => {
  const c = a.shape[0];
  const values = a.dataSync();
  // [A | I] reduced to [I | A⁻¹]
  const m = Array.from({ length: c }, (_, i) =>
    Float64Array.from({ length: 2 * c }, (_, j) =>
      j < c ? values[i * c + j] : j - c === i ? 1 : 0,
    ),
  );
  for (let k = 0; k < c; k++) {
    let p = k;
    for (let i = k + 1; i < c; i++) if (Math.abs(m[i][k]) > Math.abs(m[p][k])) p = i;
    if (m[p][k] === 0)
      throw new Error('InvertibleConv1x1: W became singular; lower the learning rate');
    [m[k], m[p]] = [m[p], m[k]];
    const pivot = m[k][k];
    for (let j = 0; j < 2 * c; j++) m[k][j] /= pivot;
    for (let i = 0; i < c; i++) {
      if (i === k || m[i][k] === 0) continue;
      const factor = m[i][k];
      for (let j = 0; j < 2 * c; j++) m[i][j] -= factor * m[k][j];
    }
  }
  const inverse = tf.tensor2d(
    m.flatMap((row) => Array.from(row.subarray(c))),
    [c, c],
  );
  save([inverse]);
  return {
    value: inverse,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const inv = saved[0] as tf.Tensor2D;
      return [tf.neg(tf.matMul(tf.matMul(inv, dy as tf.Tensor2D, true), inv, false, true))];
    },
  };
}) as Parameters<typeof tf.customGrad>[0]) as (a: tf.Tensor2D) => tf.Tensor2D;

export class InvertibleConv1x1 implements Flow {
  readonly dim: number;
  readonly shape: ImageShape;
  readonly name: string;
  /** The entries below L's unit diagonal (the rest of the matrix is unused). */
  readonly lower: tf.Variable<tf.Rank.R2>;
  /** The entries above U's diagonal (the rest is unused). */
  readonly upper: tf.Variable<tf.Rank.R2>;
  /** log|s_i|, U's diagonal in log scale. */
  readonly logScale: tf.Variable<tf.Rank.R1>;
  private readonly permutation: tf.Tensor2D;
  private readonly sign: tf.Tensor1D;
  private readonly lowerMask: tf.Tensor2D;
  private readonly upperMask: tf.Tensor2D;

  constructor(shape: FlowShape, options: Conv1x1Options = {}) {
    checkOptionNames('InvertibleConv1x1', options, ['init', 'name']);
    this.shape = imageShape('InvertibleConv1x1', shape);
    this.dim = shapeSize(this.shape);
    this.name = options.name ?? 'conv1x1';
    const c = this.shape.channels;
    // P W0 = L U; W0 = Pᵀ L U, so the fixed permutation of the layer is Pᵀ
    const { rows, lower, upper } = luDecompose(initialMatrix(c, options.init));
    const diagonal = upper.map((row, i) => row[i]);
    if (diagonal.some((v) => v === 0))
      throw new Error('InvertibleConv1x1: the init matrix is singular (determinant 0)');
    this.permutation = tf.tensor2d(
      Array.from({ length: c }, (_, i) =>
        Array.from({ length: c }, (_, j) => (rows[j] === i ? 1 : 0)),
      ),
    );
    this.sign = tf.tensor1d(diagonal.map(Math.sign));
    this.lowerMask = tf.tidy(() => tf.sub(tf.linalg.bandPart(tf.ones([c, c]), -1, 0), tf.eye(c)));
    this.upperMask = tf.tidy(() => tf.sub(tf.linalg.bandPart(tf.ones([c, c]), 0, -1), tf.eye(c)));
    this.lower = tf.tidy(() => tf.variable(tf.tensor2d(lower)));
    this.upper = tf.tidy(() => tf.variable(tf.tensor2d(upper)));
    this.logScale = tf.tidy(() =>
      tf.variable(tf.tensor1d(diagonal.map((v) => Math.log(Math.abs(v))))),
    );
  }

  /** W = P L (U + diag(sign ⊙ exp(log|s|))), the map from the data side to the base side. */
  matrix(): tf.Tensor2D {
    return tf.tidy(() => {
      const c = this.shape.channels;
      const l = tf.add(tf.mul(this.lower, this.lowerMask), tf.eye(c)) as tf.Tensor2D;
      const u = tf.add(
        tf.mul(this.upper, this.upperMask),
        tf.mul(tf.eye(c), tf.mul(this.sign, tf.exp(this.logScale))),
      ) as tf.Tensor2D;
      return tf.matMul(this.permutation, tf.matMul(l, u));
    });
  }

  /** log |det W| = Σ_i log|s_i| (one pixel's share of the layer's log-determinant). */
  logAbsDetW(): tf.Scalar {
    return tf.sum(this.logScale);
  }

  /** Every pixel's c channels, as rows, times mᵀ: the same matrix m at every pixel. */
  private mix(x: tf.Tensor2D, m: tf.Tensor2D): tf.Tensor2D {
    const pixels = tf.reshape(x, [-1, this.shape.channels]) as tf.Tensor2D;
    return tf.reshape(tf.matMul(pixels, m, false, true), x.shape) as tf.Tensor2D;
  }

  /** log|det| of the data-to-base direction for n points: (pixels) × Σ log|s_i|. */
  private logDet(n: number, sign: 1 | -1): tf.Tensor1D {
    const pixels = this.shape.height * this.shape.width;
    return tf.mul(tf.ones([n]), tf.mul(sign * pixels, this.logAbsDetW())) as tf.Tensor1D;
  }

  // x = W⁻¹ z at every pixel,  log|det| = -(pixels) Σ log|s|
  forward(z: tf.Tensor2D): FlowResult {
    checkPoints(`${this.name}.forward`, z, this.dim);
    return tf.tidy(() => ({
      y: this.mix(z, matrixInverse(this.matrix())),
      logDet: this.logDet(z.shape[0], -1),
    }));
  }

  // z = W x at every pixel,  log|det| = (pixels) Σ log|s|
  inverse(y: tf.Tensor2D): FlowResult {
    checkPoints(`${this.name}.inverse`, y, this.dim);
    return tf.tidy(() => ({
      y: this.mix(y, this.matrix()),
      logDet: this.logDet(y.shape[0], 1),
    }));
  }

  namedVariables(): Record<string, tf.Variable> {
    return {
      [`${this.name}.lower`]: this.lower,
      [`${this.name}.upper`]: this.upper,
      [`${this.name}.logScale`]: this.logScale,
    };
  }

  dispose(): void {
    tf.dispose([this.lower, this.upper, this.logScale]);
    tf.dispose([this.permutation, this.sign, this.lowerMask, this.upperMask]);
  }
}
