/**
 * The linear-Gaussian latent variable model, where everything the ELBO approximates is exact:
 *   z ~ N(0, I_m),  x | z ~ N(W z + b, s^2 I_d)
 *   p(x) = N(x; b, W W^T + s^2 I)
 *   p(z | x) = N(z; A^{-1} W^T (x - b) / s^2, A^{-1}),  A = I + W^T W / s^2
 * and, for a Gaussian q(z) = N(m, S), the ELBO in closed form:
 *   ELBO = E_q[log p(x|z)] - KL(q || p(z)),
 *   E_q[log p(x|z)] = log N(x; W m + b, s^2 I) - tr(W S W^T) / (2 s^2)
 * so that log p(x) - ELBO = KL(q || p(z|x)) can be checked to the last digit.
 */
import * as tf from '@tensorflow/tfjs';
import { checkValues } from '../runtime/checks';
import { Distribution } from './distribution';
import { Independent } from './independent';
import { kl } from './kl';
import { cholesky, solveLowerTriangular } from './linalg';
import { MultivariateNormal } from './mvn';
import { Normal } from './normal';
import { TensorLike, toTensor } from './util';

export interface ElboTerms {
  /** E_q[log p(x|z)] (nats). */
  reconstruction: tf.Scalar;
  /** KL(q(z) || p(z)) (nats). */
  kl: tf.Scalar;
  /** reconstruction - kl. */
  elbo: tf.Scalar;
}

export class LinearGaussianModel {
  readonly w: tf.Tensor2D;
  readonly b: tf.Tensor1D;
  readonly noiseStd: number;
  readonly dataDim: number;
  readonly latentDim: number;

  /** W [d, m], b [d], noise standard deviation s > 0. */
  constructor(w: TensorLike, b: TensorLike, noiseStd: number) {
    const wt = toTensor(w, 'W', 'LinearGaussianModel');
    const bt = toTensor(b, 'b', 'LinearGaussianModel');
    if (wt.rank !== 2)
      throw new Error(`LinearGaussianModel: W must be a [d, m] matrix, got shape [${wt.shape}]`);
    if (bt.rank !== 1 || bt.shape[0] !== wt.shape[0])
      throw new Error(
        `LinearGaussianModel: b must have shape [${wt.shape[0]}] (the rows of W), got ` +
          `[${bt.shape}]`,
      );
    if (!(noiseStd > 0) || !Number.isFinite(noiseStd))
      throw new Error(`LinearGaussianModel: noiseStd must be positive and finite, got ${noiseStd}`);
    checkValues('LinearGaussianModel', 'W', wt, Number.isFinite, 'finite');
    this.w = wt as tf.Tensor2D;
    this.b = bt as tf.Tensor1D;
    this.noiseStd = noiseStd;
    this.dataDim = this.w.shape[0];
    this.latentDim = this.w.shape[1];
  }

  /** p(z) = N(0, I_m). */
  prior(): MultivariateNormal {
    return new MultivariateNormal(tf.zeros([this.latentDim]), {
      scaleTril: tf.eye(this.latentDim),
    });
  }

  /** p(x | z) for z [..., m], a diagonal Gaussian over x [..., d]. */
  likelihood(z: tf.Tensor): Distribution {
    const mean = tf.add(
      tf.matMul(tf.reshape(z, [-1, this.latentDim]), this.w, false, true),
      this.b,
    );
    return new Independent(
      new Normal(tf.reshape(mean, [...z.shape.slice(0, -1), this.dataDim]), this.noiseStd),
      1,
    );
  }

  /** p(x) = N(b, W W^T + s^2 I). */
  marginal(): MultivariateNormal {
    const cov = tf.add(
      tf.matMul(this.w, this.w, false, true),
      tf.mul(this.noiseStd ** 2, tf.eye(this.dataDim)),
    );
    return new MultivariateNormal(this.b, { covariance: cov });
  }

  /** The exact posterior p(z | x) for one data point x [d]. */
  posterior(x: TensorLike): MultivariateNormal {
    const xt = this.checkPoint(x);
    const s2 = this.noiseStd ** 2;
    const [mean, covariance] = tf.tidy(() => {
      const a = tf.add(tf.eye(this.latentDim), tf.div(tf.matMul(this.w, this.w, true, false), s2));
      const lInv = solveLowerTriangular(
        cholesky(a, 'I + W^T W / s^2', 'LinearGaussianModel.posterior'),
        tf.eye(this.latentDim),
      );
      const cov = tf.matMul(lInv, lInv, true, false); // A^{-1} = L^{-T} L^{-1}
      const mu = tf.reshape(
        tf.matMul(
          cov,
          tf.reshape(tf.matMul(tf.reshape(tf.sub(xt, this.b), [1, -1]), this.w), [-1, 1]),
        ),
        [-1],
      );
      return [tf.div(mu, s2), tf.mul(0.5, tf.add(cov, tf.transpose(cov)))];
    });
    return new MultivariateNormal(mean, { covariance });
  }

  /** log p(x), exactly. */
  logMarginal(x: TensorLike): tf.Scalar {
    const xt = this.checkPoint(x);
    return tf.tidy(() => this.marginal().logProb(xt)) as tf.Scalar;
  }

  /**
   * The ELBO of q(z) = N(m, S) for one data point, in closed form, split as reconstruction - KL.
   * Differentiable in q's parameters.
   */
  elbo(x: TensorLike, q: MultivariateNormal): ElboTerms {
    const xt = this.checkPoint(x);
    if (q.dim !== this.latentDim || q.batchShape.length !== 0) {
      throw new Error(
        `LinearGaussianModel.elbo: q must be one Gaussian over the ${this.latentDim} latent ` +
          `dimensions, got batch [${q.batchShape}] event [${q.eventShape}]`,
      );
    }
    return tf.tidy(() => {
      // E_q[log p(x|z)] = log N(x; W m + b, s^2 I) - tr(W S W^T) / (2 s^2),
      // tr(W S W^T) = |W L|_F^2
      const atMean = this.likelihood(tf.reshape(q.loc, [1, -1])).logProb(tf.reshape(xt, [1, -1]));
      const spread = tf.sum(tf.square(tf.matMul(this.w, q.scaleTril)));
      const reconstruction = tf.sub(
        tf.sum(atMean),
        tf.div(spread, 2 * this.noiseStd ** 2),
      ) as tf.Scalar;
      const divergence = tf.sum(kl(q, this.prior())) as tf.Scalar;
      return {
        reconstruction,
        kl: divergence,
        elbo: tf.sub(reconstruction, divergence) as tf.Scalar,
      };
    });
  }

  /**
   * The ELBO estimated from n reparameterized draws z ~ q: mean of log p(x|z) + log p(z) - log
   * q(z).
   */
  elboMonteCarlo(x: TensorLike, q: MultivariateNormal, samples: number): tf.Scalar {
    if (!Number.isInteger(samples) || samples < 1)
      throw new Error(
        `LinearGaussianModel.elboMonteCarlo: samples must be a positive integer, got ${samples}`,
      );
    const xt = this.checkPoint(x);
    return tf.tidy(() => {
      const z = q.rsample(samples);
      // ELBO = E_q[log p(x, z) - log q(z)]
      const logJoint = tf.add(this.likelihood(z).logProb(xt), this.prior().logProb(z));
      return tf.mean(tf.sub(logJoint, q.logProb(z))) as tf.Scalar;
    });
  }

  private checkPoint(x: TensorLike): tf.Tensor {
    const t = toTensor(x, 'x', 'LinearGaussianModel');
    if (t.rank !== 1 || t.shape[0] !== this.dataDim)
      throw new Error(
        `LinearGaussianModel: x must be one data point of shape [${this.dataDim}], got ` +
          `[${t.shape}]`,
      );
    return t;
  }
}
