/**
 * KL(p || q) = E_p[log p(x) - log q(x)], in nats, with shape the broadcast batch shape. Closed
 * forms are registered per pair of families (as torch.distributions.kl does); any other pair falls
 * back to a Monte Carlo estimate, and says so with its standard error.
 */
import * as tf from '@tensorflow/tfjs';
import { Bernoulli } from './bernoulli';
import { Categorical } from './categorical';
import { Distribution, lastAxes } from './distribution';
import { Independent } from './independent';
import { logDetFromCholesky, solveLowerTriangular } from './linalg';
import { MultivariateNormal } from './mvn';
import { Normal } from './normal';
import { Uniform } from './uniform';
import { broadcastShapes } from './util';
import { checkInteger, checkOptions } from '../runtime/checks';

type Ctor<T> = abstract new (...args: never[]) => T;
type KlFn = (p: Distribution, q: Distribution) => tf.Tensor;

const registry = new Map<unknown, Map<unknown, KlFn>>();

/** Registers the closed form of KL(p || q) for p of family P and q of family Q. */
export function registerKl<P extends Distribution, Q extends Distribution>(
  p: Ctor<P>,
  q: Ctor<Q>,
  fn: (p: P, q: Q) => tf.Tensor,
): void {
  if (!registry.has(p)) registry.set(p, new Map());
  registry.get(p)!.set(q, fn as KlFn);
}

function lookup(p: Distribution, q: Distribution): KlFn | undefined {
  for (
    let a = Object.getPrototypeOf(p);
    a && a !== Object.prototype;
    a = Object.getPrototypeOf(a)
  ) {
    const row = registry.get(a.constructor);
    if (!row) continue;
    for (
      let b = Object.getPrototypeOf(q);
      b && b !== Object.prototype;
      b = Object.getPrototypeOf(b)
    ) {
      const fn = row.get(b.constructor);
      if (fn) return fn;
    }
  }
  return undefined;
}

/** Whether kl(p, q) is exact (a registered closed form) rather than a Monte Carlo estimate. */
export function hasClosedFormKl(p: Distribution, q: Distribution): boolean {
  return lookup(p, q) !== undefined;
}

/** Throws unless p and q are distributions over the same events with broadcasting batch shapes. */
function checkComparable(who: string, p: Distribution, q: Distribution): void {
  if (!(p instanceof Distribution) || !(q instanceof Distribution)) {
    throw new Error(
      `${who}(p, q): both arguments must be distributions (e.g. new distributions.Normal(0, 1))`,
    );
  }
  if (
    p.eventShape.length !== q.eventShape.length ||
    p.eventShape.some((d, i) => d !== q.eventShape[i])
  ) {
    throw new Error(
      `${who}(p, q): p (${p.name}) has event shape [${p.eventShape}] and q (${q.name}) has ` +
        `[${q.eventShape}]; they must be equal`,
    );
  }
  broadcastShapes(p.batchShape, q.batchShape, `p (${p.name}) and q (${q.name})`, `${who}(p, q)`);
}

export interface MonteCarloKl {
  /** The estimate, shape batchShape. */
  estimate: tf.Tensor;
  /** Its standard error, std(log p - log q) / sqrt(n), shape batchShape. */
  standardError: tf.Tensor;
  samples: number;
}

/** KL(p || q) ~ (1/n) sum_i [log p(x_i) - log q(x_i)], x_i ~ p, with its standard error. */
export function klMonteCarlo(p: Distribution, q: Distribution, samples = 10000): MonteCarloKl {
  checkComparable('klMonteCarlo', p, q);
  checkInteger('klMonteCarlo', 'samples', samples, 2);
  if (p.support.discrete !== q.support.discrete) {
    const kind = (d: Distribution) => (d.support.discrete ? 'discrete' : 'continuous');
    throw new Error(
      `kl(${p.name}, ${q.name}): p is ${kind(p)} and q is ${kind(q)}, so KL(p || q) is not ` +
        `defined (one has a density, the other a probability mass); compare two distributions ` +
        `over the same kind of values`,
    );
  }
  const [estimate, standardError] = tf.tidy(() => {
    const x = p.sample(samples);
    const d = tf.sub(p.logProb(x), q.logProb(x));
    const { mean, variance } = tf.moments(d, 0);
    return [mean, tf.sqrt(tf.div(tf.mul(variance, samples / (samples - 1)), samples))];
  });
  return { estimate, standardError, samples };
}

export interface KlOptions {
  /** Samples of the Monte Carlo fallback (default 10000). */
  samples?: number;
  /** Announce a Monte Carlo fallback on the console (default true). */
  warn?: boolean;
}

/**
 * KL(p || q) in nats: the registered closed form for the pair of families, else a Monte Carlo
 * estimate (announced on the console with its standard error; use klMonteCarlo to get the error as
 * a tensor).
 */
export function kl(p: Distribution, q: Distribution, options: KlOptions = {}): tf.Tensor {
  checkOptions('kl', options, { samples: true, warn: true });
  checkComparable('kl', p, q);
  const fn = lookup(p, q);
  if (fn) return fn(p, q);
  const mc = klMonteCarlo(p, q, options.samples ?? 10000);
  if (options.warn ?? true) {
    const se = tf.max(mc.standardError);
    console.warn(
      `kl(${p.name}, ${q.name}): no closed form registered; Monte Carlo estimate from ` +
        `${mc.samples} samples, standard error up to ${se.dataSync()[0].toPrecision(3)} nats`,
    );
    se.dispose();
  }
  mc.standardError.dispose();
  return mc.estimate;
}

// KL(N(mu1, s1^2) || N(mu2, s2^2)) = log(s2 / s1) + (s1^2 + (mu1 - mu2)^2) / (2 s2^2) - 1/2
registerKl(Normal, Normal, (p, q) =>
  tf.tidy(() => {
    // KL(N(mu, s^2) || N(0, 1)) = (mu^2 + s^2 - 1) / 2 - log s: the VAE's KL term
    if (q.isStandard) {
      const squares = tf.add(tf.square(p.loc), tf.square(p.scale));
      return tf.sub(tf.mul(0.5, tf.sub(squares, 1)), p.logScale);
    }
    const ratio = tf.square(tf.div(p.scale, q.scale));
    const shift = tf.square(tf.div(tf.sub(p.loc, q.loc), q.scale));
    return tf.add(tf.sub(q.logScale, p.logScale), tf.mul(0.5, tf.sub(tf.add(ratio, shift), 1)));
  }),
);

// KL = (tr(S2^-1 S1) + (mu2 - mu1)^T S2^-1 (mu2 - mu1) - d + log det S2 - log det S1) / 2
registerKl(MultivariateNormal, MultivariateNormal, (p, q) =>
  tf.tidy(() => {
    // m = L2^-1 L1, so tr(S2^-1 S1) = |L2^-1 L1|_F^2
    const m = solveLowerTriangular(q.scaleTril, p.scaleTril);
    const trace = tf.sum(tf.square(m), [-2, -1]);
    const diff = tf.sub(q.loc, p.loc);
    const l2 = tf.broadcastTo(q.scaleTril, [...diff.shape, q.dim]);
    const mahalanobis = tf.sum(tf.square(solveLowerTriangular(l2, diff, true)), -1);
    const logDets = tf.sub(logDetFromCholesky(q.scaleTril), logDetFromCholesky(p.scaleTril));
    return tf.mul(0.5, tf.add(tf.add(trace, mahalanobis), tf.sub(logDets, p.dim)));
  }),
);

// KL = p1 (log p1 - log p2) + (1 - p1) (log(1 - p1) - log(1 - p2)), with log p = -softplus(-l)
registerKl(Bernoulli, Bernoulli, (p, q) =>
  tf.tidy(() => {
    const p1 = p.probs;
    const logP1 = tf.neg(tf.softplus(tf.neg(p.logits)));
    const logQ1 = tf.neg(tf.softplus(tf.neg(q.logits)));
    const logP0 = tf.neg(tf.softplus(p.logits));
    const logQ0 = tf.neg(tf.softplus(q.logits));
    return tf.add(tf.mul(p1, tf.sub(logP1, logQ1)), tf.mul(tf.sub(1, p1), tf.sub(logP0, logQ0)));
  }),
);

// KL = sum_k pi_k (log pi_k - log rho_k)
registerKl(Categorical, Categorical, (p, q) => {
  if (p.numCategories !== q.numCategories) {
    throw new Error(
      `kl(Categorical, Categorical): p has ${p.numCategories} categories and q has ` +
        `${q.numCategories}`,
    );
  }
  return tf.tidy(() => tf.sum(tf.mul(p.probs, tf.sub(p.logProbs, q.logProbs)), -1));
});

// KL = log((b2 - a2) / (b1 - a1)) when [a1, b1] lies inside [a2, b2], else +Infinity
registerKl(Uniform, Uniform, (p, q) =>
  tf.tidy(() => {
    const inside = tf.logicalAnd(tf.lessEqual(q.low, p.low), tf.greaterEqual(q.high, p.high));
    const value = tf.sub(tf.log(tf.sub(q.high, q.low)), tf.log(tf.sub(p.high, p.low)));
    return tf.where(inside, value, tf.fill(value.shape, Infinity));
  }),
);

// KL of independent products is the sum of the KLs of the factors.
registerKl(Independent, Independent, (p, q) => {
  if (p.reinterpretedBatchDims !== q.reinterpretedBatchDims) {
    throw new Error(
      `kl(Independent, Independent): p sums over ${p.reinterpretedBatchDims} axes and q over ` +
        `${q.reinterpretedBatchDims}`,
    );
  }
  return tf.tidy(() => {
    const base = kl(p.base, q.base);
    const n = p.reinterpretedBatchDims;
    return n === 0 ? base : tf.sum(base, lastAxes(base.rank, n));
  });
});
