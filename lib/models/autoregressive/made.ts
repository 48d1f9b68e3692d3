/**
 * MADE, the masked autoencoder for distribution estimation (Germain et al. 2015), for binary
 * vectors. By the chain rule, in an ordering o of the D inputs,
 *   p(x) = prod_d p(x_o(d) | x_o(1), ..., x_o(d-1)),
 * and MADE computes all D conditionals in one pass of an MLP whose weights are multiplied by binary
 * masks (lib/models/autoregressive/masks): output d is the logit of p(x_d = 1 | x_<d) and depends
 * only on the inputs before x_d. Each conditional is a Bernoulli, so p(x) is normalized and log
 * p(x) is exact: a sum of D Bernoulli log-probabilities.
 *
 * Several masks (orderings and hidden connectivities, Germain et al.'s "connectivity-agnostic"
 * training) share one set of weights; training draws one mask per step, and the model scored at
 * test time is the uniform mixture of the K autoregressive models, p(x) = (1/K) sum_k p_k(x),
 * whose log-probability is exact too.
 *
 * `outputsPerDim` > 1 gives several outputs per input (e.g. the mean and log-scale of each
 * conditional of a masked autoregressive flow), laid out as [n, outputsPerDim * D] with output p of
 * input d in column p * D + d.
 */
import * as tf from '@tensorflow/tfjs';
import { Bernoulli } from '../../distributions/bernoulli';
import { Independent } from '../../distributions/independent';
import { dense, Dense } from '../../nn';
import {
  checkArray,
  checkInteger,
  checkOptions,
  isPositiveInteger,
  OptionKeys,
} from '../../runtime/checks';
import { random } from '../../runtime/random';
import {
  drawDegrees,
  maskMatrix,
  MadeDegrees,
  Ordering,
  orderOfDegrees,
  resolveOrdering,
} from './masks';

export interface MadeConfig {
  /** Number of binary inputs D (784 for MNIST). */
  inputDim: number;
  /** Hidden layer sizes (Germain et al.'s MNIST models: [500] and [500, 500]). */
  hidden: number[];
  /** Number of masks K sharing the weights (default 1). */
  masks: number;
  /**
   * 'natural' (x_0 first: the raster scan of an image), 'random' (each mask its own permutation) or
   * one permutation of 0..D-1 (for every mask). Default 'natural'.
   */
  ordering: Ordering;
  /** Masked direct connections from the inputs to the outputs (default false). */
  directConnections: boolean;
  /** Outputs per input (default 1: the Bernoulli logit). */
  outputsPerDim: number;
}

const DEFAULTS: Omit<MadeConfig, 'inputDim' | 'hidden'> = {
  masks: 1,
  ordering: 'natural',
  directConnections: false,
  outputsPerDim: 1,
};

const KEYS: OptionKeys<MadeConfig> = {
  inputDim: true,
  hidden: true,
  masks: true,
  ordering: true,
  directConnections: true,
  outputsPerDim: true,
};

/** Fills in defaults and checks every field, naming the bad one. */
export function madeConfig(
  options: Partial<MadeConfig> & Pick<MadeConfig, 'inputDim' | 'hidden'>,
): MadeConfig {
  const who = 'MADE config';
  checkOptions(who, options, KEYS);
  const config: MadeConfig = { ...DEFAULTS, ...options, hidden: [...(options.hidden ?? [])] };
  checkInteger(who, 'inputDim', config.inputDim, 2);
  if (!Array.isArray(options.hidden) || config.hidden.length === 0)
    throw new Error(`${who}: hidden must list at least one layer size, got ${options.hidden}`);
  checkArray(who, 'hidden', config.hidden, isPositiveInteger, 'a positive integer');
  checkInteger(who, 'masks', config.masks);
  checkInteger(who, 'outputsPerDim', config.outputsPerDim);
  if (typeof config.directConnections !== 'boolean')
    throw new Error(
      `${who}: directConnections must be true or false, got ${config.directConnections}`,
    );
  resolveOrdering(config.ordering, config.inputDim);
  return config;
}

/** How a new MADE starts, beyond PyTorch's default initialization. */
export interface MadeInit {
  /**
   * Start value of the output bias [outputsPerDim * D], e.g. `data.pixelLogits(...)` of the
   * training images: the untrained model is then the independent-pixel model, not p = 1/2.
   */
  outputBias?: tf.Tensor1D;
  /** Degrees of every mask (as `made.degrees` returns them), instead of drawing new ones. */
  degrees?: MadeDegrees[];
}

/** The masks of one of the model's K autoregressive models, as [in, out] tensors. */
interface MaskSet {
  degrees: MadeDegrees;
  /** Masks of the hidden layers and the output layer. */
  layers: tf.Tensor2D[];
  /** Mask of the direct connections (if any). */
  direct?: tf.Tensor2D;
}

/** One mask's W ⊙ M of every layer (and of the direct connections). */
interface MaskedWeights {
  layers: tf.Tensor2D[];
  direct?: tf.Tensor2D;
}

export class MADE {
  readonly config: MadeConfig;
  /** The hidden layers (ReLU) and the output layer (linear), unmasked weights. */
  readonly layers: Dense[];
  /** Direct input-to-output weights [D, outputsPerDim * D], or undefined. */
  readonly direct?: tf.Variable<tf.Rank.R2>;
  private readonly maskSets: MaskSet[];

  /**
   * A new MADE with PyTorch's default initialization, except the output bias if `init.outputBias`
   * is given. Degrees (orderings and hidden connectivity) are drawn from the kit's generator, or
   * taken from `init.degrees` (one entry per mask, as saved).
   */
  constructor(
    options: Partial<MadeConfig> & Pick<MadeConfig, 'inputDim' | 'hidden'>,
    init: MadeInit = {},
  ) {
    const config = madeConfig(options);
    const degrees = init.degrees;
    this.config = config;
    const { inputDim: d, hidden, outputsPerDim: p } = config;
    const sizes = [d, ...hidden, p * d];
    const all =
      degrees ??
      Array.from({ length: config.masks }, () =>
        drawDegrees(resolveOrdering(config.ordering, d), hidden),
      );
    checkDegrees(all, config);
    this.layers = sizes.slice(1).map(
      (out, l) =>
        new Dense(sizes[l], out, {
          activation: l < hidden.length ? 'relu' : 'linear',
          name: l < hidden.length ? `made.hidden.${l}` : 'made.output',
        }),
    );
    if (init.outputBias) {
      const bias = init.outputBias;
      if (bias.rank !== 1 || bias.shape[0] !== p * d)
        throw new Error(
          `MADE: outputBias must be a vector of ${p * d} values (one per output), got shape ` +
            `[${bias.shape.join(', ')}]`,
        );
      if (!tf.tidy(() => tf.all(tf.isFinite(bias)).dataSync()[0]))
        throw new Error('MADE: outputBias holds NaN or infinite values');
      this.layers[this.layers.length - 1].b.assign(bias);
    }
    if (config.directConnections)
      this.direct = tf.tidy(() =>
        tf.variable(tf.zeros([d, p * d]), true),
      ) as tf.Variable<tf.Rank.R2>;
    this.maskSets = all.map((deg) => {
      const outputDegrees = Array.from({ length: p }, () => deg.input).flat();
      const units = [deg.input, ...deg.hidden];
      const layers = units.map((from, l) => {
        const output = l === hidden.length;
        const to = output ? outputDegrees : units[l + 1];
        return tf.tensor2d(maskMatrix(from, to, output), [from.length, to.length]);
      });
      const direct = config.directConnections
        ? tf.tensor2d(maskMatrix(deg.input, outputDegrees, true), [d, p * d])
        : undefined;
      return { degrees: deg, layers, direct };
    });
  }

  get inputDim(): number {
    return this.config.inputDim;
  }

  get maskCount(): number {
    return this.maskSets.length;
  }

  /** Degrees of every mask (input degrees are the ordering's positions), e.g. for saving. */
  get degrees(): MadeDegrees[] {
    return this.maskSets.map((m) => m.degrees);
  }

  /** The ordering of mask k: input indices from first to last. */
  ordering(mask = 0): number[] {
    return orderOfDegrees(this.maskSet(mask).degrees.input);
  }

  /** The 0/1 masks [in, out] of mask k's layers, hidden first (for drawing the connectivity). */
  masks(mask = 0): tf.Tensor2D[] {
    return this.maskSet(mask).layers.map((m) => m.clone());
  }

  /** Trainable variables keyed by stable names (the keys of a saved model). */
  namedVariables(): Record<string, tf.Variable> {
    return {
      ...Object.assign({}, ...this.layers.map((l) => l.namedVariables())),
      ...(this.direct ? { 'made.direct': this.direct } : {}),
    };
  }

  variables(): tf.Variable[] {
    return Object.values(this.namedVariables());
  }

  /** Checks x is [n, inputDim] and returns n. */
  checkInput(x: tf.Tensor, what = 'x'): number {
    if (!(x instanceof tf.Tensor) || x.rank !== 2 || x.shape[1] !== this.inputDim)
      throw new Error(
        `MADE: ${what} must be a batch of vectors [n, ${this.inputDim}], got ` +
          (x instanceof tf.Tensor ? `[${x.shape.join(', ')}]` : typeof x),
      );
    return x.shape[0];
  }

  private maskSet(mask: number): MaskSet {
    if (!Number.isInteger(mask) || mask < 0 || mask >= this.maskSets.length)
      throw new Error(
        `MADE: mask must be an integer in [0, ${this.maskSets.length}) (the model has ` +
          `${this.maskSets.length} mask${this.maskSets.length === 1 ? '' : 's'}), got ${mask}`,
      );
    return this.maskSets[mask];
  }

  /** The network with mask k applied to its weights: W ⊙ M for every layer. */
  private maskedWeights(mask: number): MaskedWeights {
    const set = this.maskSet(mask);
    return {
      layers: this.layers.map((layer, l) => tf.mul(layer.w, set.layers[l])),
      direct:
        this.direct && set.direct ? (tf.mul(this.direct, set.direct) as tf.Tensor2D) : undefined,
    };
  }

  private forward(x: tf.Tensor2D, weights: MaskedWeights): tf.Tensor2D {
    const out = this.layers.reduce(
      (h, layer, l) => dense(h, weights.layers[l], layer.b, layer.activation),
      x,
    );
    return weights.direct ? tf.add(out, tf.matMul(x, weights.direct)) : out;
  }

  /**
   * The network's outputs [n, outputsPerDim * D] under mask k (default 0): column p * D + d depends
   * only on the inputs before x_d in that mask's ordering.
   */
  outputs(x: tf.Tensor2D, mask = 0): tf.Tensor2D {
    this.checkInput(x);
    return tf.tidy(() => this.forward(x, this.maskedWeights(mask))) as tf.Tensor2D;
  }

  /** logit p(x_d = 1 | x_<d) for every d, [n, D], under mask k. */
  logits(x: tf.Tensor2D, mask = 0): tf.Tensor2D {
    if (this.config.outputsPerDim !== 1)
      throw new Error(
        `MADE: logits need one output per input; this model has ` +
          `${this.config.outputsPerDim} (use outputs(x))`,
      );
    return this.outputs(x, mask);
  }

  /** log p_k(x) [n] of the autoregressive model of mask k (no check that x is binary). */
  logProbOfMask(x: tf.Tensor2D, mask: number): tf.Tensor1D {
    return tf.tidy(() => {
      // log p(x) = sum_d log Bernoulli(x_d; sigmoid(logit_d(x_<d)))   (the chain rule)
      const conditionals = new Bernoulli({ logits: this.logits(x, mask), validate: false });
      return new Independent(conditionals, 1).logProb(x) as tf.Tensor1D;
    });
  }

  /** log p_k(x) [n] of a mask k drawn uniformly (no check that x is binary): a training step's. */
  trainingLogProb(x: tf.Tensor2D): tf.Tensor1D {
    return this.logProbOfMask(x, Math.floor(random() * this.maskCount));
  }

  /**
   * Exact log p(x) [n] of binary vectors x [n, D]: with K masks, of the uniform mixture,
   * log (1/K) sum_k p_k(x).
   */
  logProb(x: tf.Tensor2D): tf.Tensor1D {
    this.checkInput(x);
    checkBinary(x);
    return tf.tidy(() => {
      if (this.maskCount === 1) return this.logProbOfMask(x, 0);
      const perMask = tf.stack(this.maskSets.map((_, k) => this.logProbOfMask(x, k)));
      // log p(x) = log (1/K) sum_k p_k(x)
      return tf.sub(tf.logSumExp(perMask, 0), Math.log(this.maskCount)) as tf.Tensor1D;
    });
  }

  /**
   * n binary vectors [n, D] by ancestral sampling: x_o(1) ~ p(x_o(1)), then x_o(2) ~ p(x_o(2) |
   * x_o(1)), ...: D passes of the network, one per dimension. With K masks each vector first picks
   * its mask uniformly (the mixture's recipe). Draws come from the kit's seeded generator.
   * `onPass(done, total)` is called after each pass.
   */
  sample(n: number, options: { onPass?: (done: number, total: number) => void } = {}): tf.Tensor2D {
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`MADE.sample(n): n must be a positive integer, got ${n}`);
    if (this.config.outputsPerDim !== 1)
      throw new Error('MADE.sample draws binary vectors: it needs outputsPerDim = 1');
    const d = this.inputDim;
    const maskOf = Int32Array.from({ length: n }, () => Math.floor(random() * this.maskCount));
    const out = new Float32Array(n * d);
    const used = this.maskSets.map((_, k) => k).filter((k) => maskOf.includes(k));
    const total = used.length * d;
    let done = 0;
    for (const k of used) {
      const rows = Array.from(maskOf.keys()).filter((r) => maskOf[r] === k);
      const x = new Float32Array(rows.length * d);
      const weights = this.maskedWeights(k);
      try {
        for (const dim of this.ordering(k)) {
          const probs = tf.tidy(() =>
            tf.sigmoid(
              tf.slice(this.forward(tf.tensor2d(x, [rows.length, d]), weights), [0, dim], [-1, 1]),
            ),
          );
          const p = probs.dataSync();
          probs.dispose();
          for (let r = 0; r < rows.length; r++) x[r * d + dim] = random() < p[r] ? 1 : 0;
          options.onPass?.(++done, total);
        }
      } finally {
        tf.dispose([...weights.layers, ...(weights.direct ? [weights.direct] : [])]);
      }
      rows.forEach((row, r) => out.set(x.subarray(r * d, (r + 1) * d), row * d));
    }
    return tf.tensor2d(out, [n, d]);
  }

  dispose(): void {
    this.layers.forEach((l) => l.dispose());
    this.direct?.dispose();
    for (const set of this.maskSets)
      tf.dispose([...set.layers, ...(set.direct ? [set.direct] : [])]);
  }
}

function checkDegrees(all: MadeDegrees[], config: MadeConfig): void {
  if (all.length !== config.masks)
    throw new Error(`MADE: ${all.length} sets of degrees for ${config.masks} masks`);
  for (const [k, deg] of all.entries()) {
    const order = orderOfDegrees(deg.input);
    resolveOrdering(order, config.inputDim);
    const sizes = deg.hidden.map((h) => h.length);
    if (sizes.join() !== config.hidden.join())
      throw new Error(
        `MADE: degrees of mask ${k} have hidden sizes [${sizes}], the model has [${config.hidden}]`,
      );
    if (
      deg.hidden.some((h) => h.some((v) => !Number.isInteger(v) || v < 1 || v >= config.inputDim))
    )
      throw new Error(
        `MADE: hidden degrees of mask ${k} must be integers in [1, ${config.inputDim - 1}]`,
      );
  }
}

/** Throws unless every entry of x is 0 or 1 (`who`: the model, for the message). */
export function checkBinary(x: tf.Tensor, what = 'x', who = 'MADE'): void {
  const ok = tf.tidy(() => tf.all(tf.logicalOr(tf.equal(x, 0), tf.equal(x, 1))).dataSync()[0]);
  if (!ok)
    throw new Error(
      `${who}: ${what} must hold binary values (0 or 1); binarize images first, e.g. ` +
        `data.loadBinarizedMnist('test')`,
    );
}
