/**
 * The multivariate Normal N(mu, Sigma) with full covariance, parameterized internally by the
 * Cholesky factor L (Sigma = L L^T): sampling is mu + L eps, and log-densities use triangular
 * solves and log det Sigma = 2 sum log L_ii, never an explicit inverse.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptions, checkValues } from '../runtime/checks';
import { Distribution } from './distribution';
import {
  cholesky,
  diagonal,
  logDetFromCholesky,
  lowerTriangular,
  matVec,
  outerSelf,
  solveLowerTriangular,
} from './linalg';
import { ValidationOptions } from './normal';
import {
  broadcastShapes,
  LOG_2PI,
  normalizeSampleShape,
  SampleShape,
  TensorLike,
  toTensor,
} from './util';
import { nextSeed } from '../runtime/random';

export interface MvnParameters extends ValidationOptions {
  /** Sigma, [..., d, d], symmetric positive definite. */
  covariance?: TensorLike;
  /**
   * L, [..., d, d], lower triangular with a positive diagonal (entries above the diagonal are
   * ignored).
   */
  scaleTril?: TensorLike;
}

export class MultivariateNormal extends Distribution {
  readonly hasRsample = true;
  readonly loc: tf.Tensor;
  readonly scaleTril: tf.Tensor;
  readonly dim: number;

  constructor(loc: TensorLike, params: MvnParameters) {
    checkOptions('MultivariateNormal', params, {
      covariance: true,
      scaleTril: true,
      validate: true,
    });
    const mu = toTensor(loc, 'loc', 'MultivariateNormal');
    if (mu.rank < 1)
      throw new Error(
        `MultivariateNormal: loc must have shape [..., d], got a scalar; use Normal for one ` +
          `dimension`,
      );
    if ((params.covariance === undefined) === (params.scaleTril === undefined)) {
      throw new Error('MultivariateNormal: pass exactly one of { covariance } or { scaleTril }');
    }
    const validate = params.validate ?? true;
    let l: tf.Tensor;
    if (params.covariance !== undefined) {
      const cov = toTensor(params.covariance, 'covariance', 'MultivariateNormal');
      checkMatrix(cov, mu, 'covariance');
      if (validate) checkSymmetric(cov);
      l = cholesky(cov, 'covariance', 'MultivariateNormal');
    } else {
      const s = toTensor(params.scaleTril!, 'scaleTril', 'MultivariateNormal');
      checkMatrix(s, mu, 'scaleTril');
      l = lowerTriangular(s);
      if (validate) {
        checkValues(
          'MultivariateNormal',
          'the diagonal of scaleTril',
          diagonal(l),
          (v) => v > 0 && Number.isFinite(v),
          'positive and finite',
          'A Cholesky factor has a positive diagonal.',
        );
      }
    }
    const d = mu.shape[mu.rank - 1];
    const batch = broadcastShapes(
      mu.shape.slice(0, -1),
      l.shape.slice(0, -2),
      'loc and the covariance (batch dimensions)',
      'MultivariateNormal',
    );
    super(batch, [d], validate);
    if (validate) checkValues('MultivariateNormal', 'loc', mu, Number.isFinite, 'finite');
    this.dim = d;
    this.loc = tf.broadcastTo(mu, [...batch, d]);
    this.scaleTril = l;
  }

  override rsample(sampleShape: SampleShape = []): tf.Tensor {
    // x = mu + L eps, eps ~ N(0, I)
    const eps = tf.randomNormal(
      [...normalizeSampleShape(sampleShape), ...this.batchShape, this.dim],
      0,
      1,
      'float32',
      nextSeed(),
    );
    return tf.tidy(() => tf.add(this.loc, matVec(this.scaleTril, eps)));
  }

  logProb(x: TensorLike): tf.Tensor {
    const v = this.checkValue(x);
    return tf.tidy(() => {
      // log N(x; mu, Sigma) = -(d log 2 pi + log det Sigma + |L^{-1}(x - mu)|^2) / 2
      const diff = tf.sub(v, this.loc); // [...sample, ...batch, d]
      // Solve once per batch member with all draws as columns: L [...batch, d, d] X = diff^T
      // [...batch, d, draws]
      const b = this.batchShape.length;
      const sampleShape = diff.shape.slice(0, diff.rank - 1 - b);
      const draws = sampleShape.reduce((p, q) => p * q, 1);
      const columns = tf.transpose(tf.reshape(diff, [draws, ...this.batchShape, this.dim]), [
        ...Array.from({ length: b + 1 }, (_, i) => i + 1),
        0,
      ]);
      const white = solveLowerTriangular(
        tf.broadcastTo(this.scaleTril, [...this.batchShape, this.dim, this.dim]),
        columns,
      );
      const mahalanobis = tf.sum(tf.square(white), -2); // [...batch, draws]
      const perDraw = tf.reshape(
        tf.transpose(mahalanobis, [b, ...Array.from({ length: b }, (_, i) => i)]),
        [...sampleShape, ...this.batchShape],
      );
      return tf.mul(
        -0.5,
        tf.add(tf.add(perDraw, logDetFromCholesky(this.scaleTril)), this.dim * LOG_2PI),
      );
    });
  }

  override get mean(): tf.Tensor {
    return this.loc;
  }

  /** Sigma = L L^T. */
  get covariance(): tf.Tensor {
    return outerSelf(this.scaleTril);
  }

  /** The marginal variances, diag(Sigma). */
  override get variance(): tf.Tensor {
    return tf.tidy(() =>
      tf.broadcastTo(tf.sum(tf.square(this.scaleTril), -1), [...this.batchShape, this.dim]),
    );
  }

  /** H = d (1 + log 2 pi) / 2 + log det Sigma / 2. */
  override entropy(): tf.Tensor {
    return tf.tidy(() =>
      tf.broadcastTo(
        tf.add(tf.mul(0.5, logDetFromCholesky(this.scaleTril)), 0.5 * this.dim * (1 + LOG_2PI)),
        this.batchShape,
      ),
    );
  }
}

function checkMatrix(m: tf.Tensor, mu: tf.Tensor, name: string): void {
  const d = mu.shape[mu.rank - 1];
  if (m.rank < 2 || m.shape[m.rank - 1] !== d || m.shape[m.rank - 2] !== d) {
    throw new Error(
      `MultivariateNormal: ${name} must have shape [..., ${d}, ${d}] to match loc of shape ` +
        `[${mu.shape}], got [${m.shape}]`,
    );
  }
}

function checkSymmetric(cov: tf.Tensor): void {
  const [gap, scale] = tf
    .tidy(() => [
      tf.max(tf.abs(tf.sub(cov, tf.transpose(cov, transposeLast(cov.rank))))),
      tf.max(tf.abs(cov)),
    ])
    .map((t) => {
      const v = t.dataSync()[0];
      t.dispose();
      return v;
    });
  if (!(gap <= 1e-5 * Math.max(1, scale))) {
    throw new Error(
      `MultivariateNormal: covariance must be symmetric, but it differs from its transpose by up ` +
        `to ${gap}; use (S + S^T) / 2.`,
    );
  }
}

function transposeLast(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 1] = rank - 2;
  perm[rank - 2] = rank - 1;
  return perm;
}
