/**
 * A two-layer deep Boltzmann machine (Salakhutdinov & Hinton 2009; lecture 001, "Deep Boltzmann
 * Machine"): binary visible units v [D] and hidden layers h1 [H1], h2 [H2], all links undirected,
 *   E(v, h1, h2) = -(a^T v + b1^T h1 + b2^T h2 + v^T W1 h1 + h1^T W2 h2).
 * Each layer is conditionally independent given its neighbours,
 *   p(v_i = 1 | h1) = σ(a_i + (W1 h1)_i),  p(h1_j = 1 | v, h2) = σ(b1_j + (v^T W1)_j + (W2 h2)_j),
 *   p(h2_k = 1 | h1) = σ(b2_k + (h1^T W2)_k),
 * but the posterior p(h1, h2 | v) does not factorize: inference is by mean field, the factorized
 * q(h1, h2) = Π_j Bern(μ1_j) Π_k Bern(μ2_k) at the fixed point
 *   μ1 = σ(b1 + v^T W1 + W2 μ2),  μ2 = σ(b2 + μ1^T W2),
 * and the likelihood is bounded by the variational lower bound
 *   log P(v) >= a^T v + b1^T μ1 + b2^T μ2 + v^T W1 μ1 + μ1^T W2 μ2 + H(μ1) + H(μ2) - log Z.
 * Given h1, v and h2 are independent, so both sum out in closed form:
 *   log P*(h1) = b1^T h1 + Σ_i softplus(a_i + (W1 h1)_i) + Σ_k softplus(b2_k + (h1^T W2)_k),
 * which gives log Z exactly by enumerating h1 (H1 <= 20) and drives AIS (dbm-ais.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { checkInteger, checkOptions, OptionKeys } from '../../runtime/checks';
import { runLoop } from '../../runtime/loop';
import { toRows } from '../../runtime/values';
import {
  bernoulli,
  binaryStates,
  checkBinaryBatch,
  forEachStateChunk,
  logAddExp,
  MAX_ENUMERATED_UNITS,
} from './binary';

export interface DbmParameters {
  /** W1, [D, H1]. */
  weights1: tf.Tensor2D;
  /** W2, [H1, H2]. */
  weights2: tf.Tensor2D;
  /** a, [D]. */
  visibleBias: tf.Tensor1D;
  /** b1, [H1]. */
  hiddenBias1: tf.Tensor1D;
  /** b2, [H2]. */
  hiddenBias2: tf.Tensor1D;
}

/** A joint state of the three layers (binary), e.g. of persistent chains. */
export interface DbmState {
  v: tf.Tensor2D;
  h1: tf.Tensor2D;
  h2: tf.Tensor2D;
}

export interface MeanFieldOptions {
  /** Largest number of sweeps μ1 ← σ(...), μ2 ← σ(...) (default 10). */
  iterations?: number;
  /** Stop early once no μ moves by more than this in a sweep (default 0: run every sweep). */
  tolerance?: number;
}

const MEAN_FIELD_KEYS: OptionKeys<MeanFieldOptions> = { iterations: true, tolerance: true };

export interface MeanField {
  /** q(h1_j = 1), [batch, H1]. */
  mu1: tf.Tensor2D;
  /** q(h2_k = 1), [batch, H2]. */
  mu2: tf.Tensor2D;
  /** Sweeps done. */
  iterations: number;
}

/** Σ_j of the entropy of Bernoulli(μ_j), per row (0 log 0 = 0). */
function bernoulliEntropy(mu: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const p = tf.clipByValue(mu, 1e-7, 1 - 1e-7);
    return tf.neg(
      tf.sum(tf.add(tf.mul(p, tf.log(p)), tf.mul(tf.sub(1, p), tf.log1p(tf.neg(p)))), 1),
    ) as tf.Tensor1D;
  });
}

export class DeepBoltzmannMachine {
  readonly weights1: tf.Variable<tf.Rank.R2>;
  readonly weights2: tf.Variable<tf.Rank.R2>;
  readonly visibleBias: tf.Variable<tf.Rank.R1>;
  readonly hiddenBias1: tf.Variable<tf.Rank.R1>;
  readonly hiddenBias2: tf.Variable<tf.Rank.R1>;

  /** A DBM with zero parameters (training starts from pretrained layers, see pretrainDbm). */
  constructor(
    readonly visible: number,
    readonly hidden1: number,
    readonly hidden2: number,
  ) {
    checkInteger('DeepBoltzmannMachine', 'visible', visible);
    checkInteger('DeepBoltzmannMachine', 'hidden1', hidden1);
    checkInteger('DeepBoltzmannMachine', 'hidden2', hidden2);
    this.weights1 = tf.variable(tf.zeros([visible, hidden1]));
    this.weights2 = tf.variable(tf.zeros([hidden1, hidden2]));
    this.visibleBias = tf.variable(tf.zeros([visible]));
    this.hiddenBias1 = tf.variable(tf.zeros([hidden1]));
    this.hiddenBias2 = tf.variable(tf.zeros([hidden2]));
  }

  /** A DBM with copies of the given parameters. */
  static fromParameters(p: DbmParameters): DeepBoltzmannMachine {
    const shapes = [p.weights1, p.weights2, p.visibleBias, p.hiddenBias1, p.hiddenBias2].map((t) =>
      t instanceof tf.Tensor ? `[${t.shape.join(', ')}]` : typeof t,
    );
    const [d, h1] = p.weights1?.rank === 2 ? p.weights1.shape : [NaN, NaN];
    const h2 = p.weights2?.rank === 2 ? p.weights2.shape[1] : NaN;
    if (
      !(d > 0) ||
      p.weights2.shape[0] !== h1 ||
      !(h2 > 0) ||
      p.visibleBias.rank !== 1 ||
      p.visibleBias.shape[0] !== d ||
      p.hiddenBias1.rank !== 1 ||
      p.hiddenBias1.shape[0] !== h1 ||
      p.hiddenBias2.rank !== 1 ||
      p.hiddenBias2.shape[0] !== h2
    ) {
      throw new Error(
        `DeepBoltzmannMachine.fromParameters: expected weights1 [D, H1], weights2 [H1, H2], ` +
          `visibleBias [D], hiddenBias1 [H1], hiddenBias2 [H2], got ${shapes.join(', ')}`,
      );
    }
    const dbm = new DeepBoltzmannMachine(d, h1, h2);
    dbm.assign(p);
    return dbm;
  }

  /** A random DBM for tests and demos: weights ~ N(0, weightScale²), biases ~ N(0, biasScale²). */
  static random(
    sizes: [number, number, number],
    weightScale: number,
    biasScale = 0.5,
  ): DeepBoltzmannMachine {
    const [d, h1, h2] = sizes;
    [d, h1, h2].forEach((n, i) =>
      checkInteger('DeepBoltzmannMachine', ['visible', 'hidden1', 'hidden2'][i], n),
    );
    const p = tf.tidy(() => ({
      weights1: tf.randomNormal([d, h1], 0, weightScale) as tf.Tensor2D,
      weights2: tf.randomNormal([h1, h2], 0, weightScale) as tf.Tensor2D,
      visibleBias: tf.randomNormal([d], 0, biasScale) as tf.Tensor1D,
      hiddenBias1: tf.randomNormal([h1], 0, biasScale) as tf.Tensor1D,
      hiddenBias2: tf.randomNormal([h2], 0, biasScale) as tf.Tensor1D,
    }));
    const dbm = DeepBoltzmannMachine.fromParameters(p);
    tf.dispose(Object.values(p));
    return dbm;
  }

  /** Overwrites the parameters with copies of `p` (shapes must match). */
  assign(p: DbmParameters): void {
    for (const [name, v] of Object.entries(this.namedVariables())) {
      const t = p[name as keyof DbmParameters];
      if (t.shape.join() !== v.shape.join())
        throw new Error(
          `DeepBoltzmannMachine.assign: ${name} must have shape [${v.shape}], got [${t.shape}]`,
        );
      v.assign(t);
    }
  }

  /** The parameters by name (the variables themselves; keys as in DbmParameters). */
  namedVariables(): Record<keyof DbmParameters, tf.Variable> {
    return {
      weights1: this.weights1,
      weights2: this.weights2,
      visibleBias: this.visibleBias,
      hiddenBias1: this.hiddenBias1,
      hiddenBias2: this.hiddenBias2,
    };
  }

  /** a + W1 h1, [batch, D]. */
  visibleField(h1: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.add(tf.matMul(h1, this.weights1, false, true), this.visibleBias));
  }

  /** b1 + v^T W1 + W2 h2, [batch, H1]. */
  hidden1Field(v: tf.Tensor2D, h2: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() =>
      tf.add(
        tf.add(tf.matMul(v, this.weights1), tf.matMul(h2, this.weights2, false, true)),
        this.hiddenBias1,
      ),
    );
  }

  /** b2 + h1^T W2, [batch, H2]. */
  hidden2Field(h1: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.add(tf.matMul(h1, this.weights2), this.hiddenBias2));
  }

  /** p(v_i = 1 | h1), [batch, D]. */
  visibleProbs(h1: tf.Tensor2D): tf.Tensor2D {
    checkBinaryBatch('visibleProbs(h1)', h1, this.hidden1);
    return tf.tidy(() => tf.sigmoid(this.visibleField(h1)));
  }

  /** E(v, h1, h2) per row, [batch]. */
  energy(v: tf.Tensor2D, h1: tf.Tensor2D, h2: tf.Tensor2D): tf.Tensor1D {
    checkBinaryBatch('energy(v)', v, this.visible);
    checkBinaryBatch('energy(h1)', h1, this.hidden1);
    checkBinaryBatch('energy(h2)', h2, this.hidden2);
    if (v.shape[0] !== h1.shape[0] || v.shape[0] !== h2.shape[0])
      throw new Error(
        `energy: v, h1 and h2 must have the same number of rows, got ${v.shape[0]}, ` +
          `${h1.shape[0]}, ${h2.shape[0]}`,
      );
    return tf.tidy(() => {
      // -E = a^T v + b1^T h1 + b2^T h2 + v^T W1 h1 + h1^T W2 h2
      const rowDot = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(x, y), 1);
      return tf.neg(
        tf.addN([
          rowDot(v, this.visibleBias),
          rowDot(h1, this.hiddenBias1),
          rowDot(h2, this.hiddenBias2),
          rowDot(tf.matMul(v, this.weights1), h1),
          rowDot(tf.matMul(h1, this.weights2), h2),
        ]),
      ) as tf.Tensor1D;
    });
  }

  /** log P*(h1) with v and h2 summed out (see the file comment), [batch]. */
  logUnnormalizedHidden1(h1: tf.Tensor2D): tf.Tensor1D {
    checkBinaryBatch('logUnnormalizedHidden1(h1)', h1, this.hidden1);
    return tf.tidy(
      () =>
        tf.addN([
          tf.sum(tf.mul(h1, this.hiddenBias1), 1),
          tf.sum(tf.softplus(this.visibleField(h1)), 1),
          tf.sum(tf.softplus(this.hidden2Field(h1)), 1),
        ]) as tf.Tensor1D,
    );
  }

  /** n random joint states (each unit on with probability 1/2): where persistent chains start. */
  randomState(n: number): DbmState {
    checkInteger('randomState', 'n', n);
    return tf.tidy(() => ({
      v: bernoulli(tf.fill([n, this.visible], 0.5)) as tf.Tensor2D,
      h1: bernoulli(tf.fill([n, this.hidden1], 0.5)) as tf.Tensor2D,
      h2: bernoulli(tf.fill([n, this.hidden2], 0.5)) as tf.Tensor2D,
    }));
  }

  /**
   * `steps` sweeps of block Gibbs sampling from `state`: v ~ p(v | h1) and h2 ~ p(h2 | h1)
   * together (independent given h1), then h1 ~ p(h1 | v, h2). Returns the new state and p(v | h1)
   * of the last sweep (smoother to look at); the input state is not disposed.
   */
  gibbs(state: DbmState, steps: number): DbmState & { visibleProbs: tf.Tensor2D } {
    checkInteger('DeepBoltzmannMachine.gibbs', 'steps', steps);
    checkBinaryBatch('gibbs(state.v)', state.v, this.visible);
    checkBinaryBatch('gibbs(state.h1)', state.h1, this.hidden1);
    checkBinaryBatch('gibbs(state.h2)', state.h2, this.hidden2);
    let current = { ...state, visibleProbs: tf.zeros([0, this.visible]) as tf.Tensor2D };
    for (let t = 0; t < steps; t++) {
      const next = tf.tidy(() => {
        const visibleProbs = tf.sigmoid(this.visibleField(current.h1));
        const v = bernoulli(visibleProbs) as tf.Tensor2D;
        const h2 = bernoulli(tf.sigmoid(this.hidden2Field(current.h1))) as tf.Tensor2D;
        const h1 = bernoulli(tf.sigmoid(this.hidden1Field(v, h2))) as tf.Tensor2D;
        return { v, h1, h2, visibleProbs };
      });
      current.visibleProbs.dispose();
      if (t > 0) tf.dispose([current.v, current.h1, current.h2]);
      current = next;
    }
    return current;
  }

  /**
   * Samples for a figure: p(v | h1) after `sweeps` Gibbs sweeps from n random states, as n rows of
   * pixel probabilities. A kit loop: an interrupt stops it after the sweep in progress (the rows
   * are then those of the last completed sweep).
   */
  async sampleImages(n: number, sweeps: number): Promise<number[][]> {
    checkInteger('sampleImages', 'n (chains)', n);
    checkInteger('sampleImages', 'sweeps', sweeps);
    const start = this.randomState(n);
    let state = this.gibbs(start, 1);
    tf.dispose([start.v, start.h1, start.h2]);
    await runLoop('DBM Gibbs sampling', async (loop) => {
      for (let done = 1; done < sweeps; done++) {
        if (await loop.shouldStop()) {
          loop.stop(`sweep ${done}/${sweeps}`, 'the figure shows the last completed sweep');
          return;
        }
        const next = this.gibbs(state, 1);
        tf.dispose([state.v, state.h1, state.h2, state.visibleProbs]);
        state = next;
      }
    });
    tf.dispose([state.v, state.h1, state.h2]);
    return toRows(state.visibleProbs);
  }

  /**
   * Mean-field inference of q(h1, h2 | v) for a batch v [B, D]. Starts from the bottom-up pass μ1 =
   * σ(b1 + 2 v^T W1), μ2 = σ(b2 + μ1^T W2) (the doubled input stands in for the missing top-down
   * signal, as in pretraining), then sweeps μ1 ← σ(b1 + v^T W1 + W2 μ2), μ2 ← σ(b2 + μ1^T W2): each
   * update is the exact minimizer of KL(q || p(h | v)) over one layer given the other.
   */
  meanField(v: tf.Tensor2D, options: MeanFieldOptions = {}): MeanField {
    checkBinaryBatch('meanField(v)', v, this.visible);
    checkOptions('meanField', options, MEAN_FIELD_KEYS);
    const iterations = options.iterations ?? 10;
    checkInteger('meanField', 'iterations', iterations);
    const tolerance = options.tolerance ?? 0;
    if (!(tolerance >= 0))
      throw new Error(`meanField: tolerance must be a number >= 0, got ${tolerance}`);
    const bottomUp = tf.tidy(() => tf.add(tf.matMul(v, this.weights1), this.hiddenBias1));
    let mu1 = tf.tidy(() =>
      tf.sigmoid(tf.sub(tf.mul(bottomUp, 2), this.hiddenBias1)),
    ) as tf.Tensor2D;
    let mu2 = tf.tidy(() => tf.sigmoid(this.hidden2Field(mu1)));
    let done = 0;
    while (done < iterations) {
      const next = tf.tidy(() => {
        const m1 = tf.sigmoid(tf.add(bottomUp, tf.matMul(mu2, this.weights2, false, true)));
        const m2 = tf.sigmoid(this.hidden2Field(m1 as tf.Tensor2D));
        const change =
          tolerance > 0
            ? Math.max(
                tf.max(tf.abs(tf.sub(m1, mu1))).dataSync()[0],
                tf.max(tf.abs(tf.sub(m2, mu2))).dataSync()[0],
              )
            : Infinity;
        return { m1: m1 as tf.Tensor2D, m2, change };
      });
      tf.dispose([mu1, mu2]);
      mu1 = next.m1;
      mu2 = next.m2;
      done++;
      if (next.change <= tolerance) break;
    }
    bottomUp.dispose();
    return { mu1, mu2, iterations: done };
  }

  /**
   * The variational lower bound on log P(v) per row of v [B, D] under mean field q (see the file
   * comment), given log Z (exact, or from dbmAnnealedImportanceSampling).
   */
  variationalBound(v: tf.Tensor2D, logZ: number, options: MeanFieldOptions = {}): tf.Tensor1D {
    if (!Number.isFinite(logZ))
      throw new Error(`variationalBound: logZ must be a finite number, got ${logZ}`);
    const { mu1, mu2 } = this.meanField(v, options);
    const bound = tf.tidy(() => {
      const rowDot = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(x, y), 1);
      // E_q[-E(v, h)] + H(q) - log Z, exact because q factorizes
      return tf.sub(
        tf.addN([
          rowDot(v, this.visibleBias),
          rowDot(mu1, this.hiddenBias1),
          rowDot(mu2, this.hiddenBias2),
          rowDot(tf.matMul(v, this.weights1), mu1),
          rowDot(tf.matMul(mu1, this.weights2), mu2),
          bernoulliEntropy(mu1),
          bernoulliEntropy(mu2),
        ]),
        logZ,
      ) as tf.Tensor1D;
    });
    tf.dispose([mu1, mu2]);
    return bound;
  }

  /** The average variational bound over the rows of `images` [n * D], nats per image. */
  averageVariationalBound(
    images: Float32Array,
    logZ: number,
    options: MeanFieldOptions & { batchSize?: number } = {},
  ): number {
    const n = images.length / this.visible;
    if (!Number.isInteger(n) || n < 1)
      throw new Error(
        `averageVariationalBound: ${images.length} values are not whole images of ` +
          `${this.visible} pixels`,
      );
    checkOptions('averageVariationalBound', options, { ...MEAN_FIELD_KEYS, batchSize: true });
    const { batchSize = 1000, ...meanField } = options;
    checkInteger('averageVariationalBound', 'batchSize', batchSize);
    let total = 0;
    for (let start = 0; start < n; start += batchSize) {
      const m = Math.min(batchSize, n - start);
      total += tf.tidy(() => {
        const v = tf.tensor2d(images.subarray(start * this.visible, (start + m) * this.visible), [
          m,
          this.visible,
        ]);
        return tf.sum(this.variationalBound(v, logZ, meanField)).dataSync()[0];
      });
    }
    return total / n;
  }

  /** Exact log Z by enumerating the 2^H1 states of h1 (H1 <= 20). */
  logPartitionExact(): number {
    this.checkEnumerable('logPartitionExact');
    let logZ = -Infinity;
    forEachStateChunk(this.hidden1, (h1) => {
      logZ = logAddExp(logZ, tf.logSumExp(this.logUnnormalizedHidden1(h1)).dataSync()[0]);
    });
    return logZ;
  }

  /**
   * Exact inference by enumerating h1 (H1 <= 20; h2 sums out given h1): log P(v) and the posterior
   * marginals E[h1 | v], E[h2 | v] for each row of v [B, D].
   */
  exactPosterior(v: tf.Tensor2D): {
    logProbability: tf.Tensor1D;
    mu1: tf.Tensor2D;
    mu2: tf.Tensor2D;
  } {
    this.checkEnumerable('exactPosterior');
    checkBinaryBatch('exactPosterior(v)', v, this.visible);
    const logZ = this.logPartitionExact();
    return tf.tidy(() => {
      const h1 = binaryStates(this.hidden1);
      // log P*(v, h1) = a^T v + b1^T h1 + v^T W1 h1 + Σ_k softplus(b2_k + (h1^T W2)_k), [B, 2^H1]
      const logJoint = tf.add(
        tf.add(
          tf.reshape(tf.sum(tf.mul(v, this.visibleBias), 1), [-1, 1]),
          tf.matMul(tf.matMul(v, this.weights1), h1, false, true),
        ),
        tf.reshape(
          tf.add(
            tf.sum(tf.mul(h1, this.hiddenBias1), 1),
            tf.sum(tf.softplus(this.hidden2Field(h1)), 1),
          ),
          [1, -1],
        ),
      );
      const logMarginal = tf.logSumExp(logJoint, 1, true);
      const posterior = tf.exp(tf.sub(logJoint, logMarginal)); // p(h1 | v), [B, 2^H1]
      return {
        logProbability: tf.sub(tf.reshape(logMarginal, [-1]), logZ) as tf.Tensor1D,
        mu1: tf.matMul(posterior, h1) as tf.Tensor2D,
        mu2: tf.matMul(posterior, tf.sigmoid(this.hidden2Field(h1))) as tf.Tensor2D,
      };
    });
  }

  private checkEnumerable(caller: string): void {
    if (this.hidden1 > MAX_ENUMERATED_UNITS)
      throw new Error(
        `${caller}: h1 has ${this.hidden1} units, more than the ${MAX_ENUMERATED_UNITS} this kit ` +
          `enumerates; estimate log Z with dbmAnnealedImportanceSampling instead`,
      );
  }

  dispose(): void {
    tf.dispose(Object.values(this.namedVariables()));
  }
}
