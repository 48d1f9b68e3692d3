/**
 * A deep belief net (Hinton, Osindero & Teh 2006; lecture 001, "Deep Boltzmann Machine"),
 * pretrained greedily: an RBM on the images, then a second RBM on the first one's hidden samples h1
 * ~ p(h1 | v). Generation runs a long Gibbs chain in the top RBM (an undirected prior over h1),
 * then one top-down pass v ~ p(v | h1) through the first RBM's weights.
 *
 * Why stacking helps: with q(h1 | v) the first RBM's posterior, every DBN satisfies
 *   log P(v) >= E_q[log p(v | h1) + log P_top(h1) - log q(h1 | v)],
 * and the second RBM changes only the term E_q[log P_top(h1)]. Started from the first RBM's
 * transposed parameters (W2 = W1^T, visible and hidden biases swapped), the top RBM's marginal over
 * h1 is the first RBM's own, q is the exact posterior and the bound equals the first RBM's
 * log-likelihood; maximum-likelihood training of the top RBM on h1 ~ q then raises
 * E_q[log P_top(h1)] and with it the bound. That start needs a top layer as large as the visible
 * layer, and is the default of pretrainDeepBeliefNet.
 */
import * as tf from '@tensorflow/tfjs';
import { pixelLogits } from '../../data/pixels';
import { yieldToEventLoop } from '../../runtime/loop';
import { checkOptions, OptionKeys } from '../../runtime/checks';
import { bernoulli, checkBinaryBatch } from './binary';
import { RBM } from './rbm';
import { fitRbm, FitOptions, RECIPE_FIT_KEYS } from './train';

export class DeepBeliefNet {
  constructor(readonly layers: RBM[]) {
    if (layers.length < 2)
      throw new Error(`DeepBeliefNet: needs at least 2 RBMs, got ${layers.length}`);
    layers.forEach((l, k) => {
      if (k > 0 && l.visible !== layers[k - 1].hidden)
        throw new Error(
          `DeepBeliefNet: layer ${k} has ${l.visible} visible units but layer ${k - 1} has ` +
            `${layers[k - 1].hidden} hidden units`,
        );
    });
  }

  /**
   * Binary samples of the hidden units of layer `upTo` - 1 given the images, layer by layer, [n *
   * H].
   */
  propagateUp(images: Float32Array, upTo: number, batchSize = 1000): Promise<Float32Array> {
    if (!Number.isInteger(upTo) || upTo < 1 || upTo > this.layers.length)
      throw new Error(
        `propagateUp: upTo must be an integer in [1, ${this.layers.length}], got ${upTo}`,
      );
    return propagate(this.layers.slice(0, upTo), images, batchSize);
  }

  /**
   * n samples: `gibbsSteps` block-Gibbs steps in the top RBM from random states, then mean-field
   * top-down passes p(h_{l-1} | h_l) to the images; returns the pixel probabilities [n, D].
   */
  async sample(n: number, gibbsSteps: number): Promise<tf.Tensor2D> {
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`DeepBeliefNet.sample: n must be a positive integer, got ${n}`);
    const top = this.layers[this.layers.length - 1];
    const start = tf.tidy(() => bernoulli(tf.fill([n, top.visible], 0.5)) as tf.Tensor2D);
    const chain = await top.gibbs(start, gibbsSteps);
    start.dispose();
    let x = chain.v;
    chain.probs.dispose();
    for (let l = this.layers.length - 2; l >= 0; l--) {
      const next =
        l > 0
          ? tf.tidy(() => bernoulli(this.layers[l].visibleProbs(x)) as tf.Tensor2D)
          : this.layers[l].visibleProbs(x);
      x.dispose();
      x = next;
    }
    return x;
  }

  /**
   * One Monte Carlo draw per image of the bound above, for v [B, D]: h_{l+1} ~ q(h_{l+1} | h_l)
   * layer by layer up to the top RBM's visible layer, and
   *   Σ_l [log p(h_l | h_{l+1}) - log q(h_{l+1} | h_l)] + log P_top(h_top),
   * with log P_top = -F_top - log Z_top (`topLogZ`, exact or from AIS). Its mean is the bound.
   */
  variationalBoundSample(v: tf.Tensor2D, topLogZ: number): tf.Tensor1D {
    checkBinaryBatch('variationalBoundSample(v)', v, this.layers[0].visible);
    if (!Number.isFinite(topLogZ))
      throw new Error(`variationalBoundSample: topLogZ must be a finite number, got ${topLogZ}`);
    return tf.tidy(() => {
      // Σ_i [x_i l_i - softplus(l_i)]: log Bernoulli(x; sigmoid(l)) per row
      const logBernoulli = (x: tf.Tensor, logits: tf.Tensor) =>
        tf.sum(tf.sub(tf.mul(x, logits), tf.softplus(logits)), 1);
      let below = v;
      let total: tf.Tensor = tf.zeros([v.shape[0]]);
      for (const rbm of this.layers.slice(0, -1)) {
        const upField = rbm.hiddenField(below);
        const above = bernoulli(tf.sigmoid(upField)) as tf.Tensor2D;
        const downField = tf.add(tf.matMul(above, rbm.weights, false, true), rbm.visibleBias);
        total = tf.add(total, tf.sub(logBernoulli(below, downField), logBernoulli(above, upField)));
        below = above;
      }
      const top = this.layers[this.layers.length - 1];
      return tf.sub(tf.sub(total, top.freeEnergy(below)), topLogZ) as tf.Tensor1D;
    });
  }

  /**
   * The bound averaged over the rows of `images` [n * D] with `samples` draws each: its estimate
   * and the Monte Carlo standard error (nats per image).
   */
  averageVariationalBound(
    images: Float32Array,
    topLogZ: number,
    samples = 1,
    batchSize = 1000,
  ): { bound: number; standardError: number } {
    const d = this.layers[0].visible;
    const n = images.length / d;
    if (!Number.isInteger(n) || n < 2)
      throw new Error(
        `averageVariationalBound: need at least 2 whole images of ${d} pixels, got ` +
          `${images.length} values`,
      );
    if (!Number.isInteger(samples) || samples < 1)
      throw new Error(
        `averageVariationalBound: samples must be a positive integer, got ${samples}`,
      );
    let sum = 0;
    let sumSquares = 0;
    for (let start = 0; start < n; start += batchSize) {
      const m = Math.min(batchSize, n - start);
      const perImage = tf.tidy(() => {
        const v = tf.tensor2d(images.subarray(start * d, (start + m) * d), [m, d]);
        let acc: tf.Tensor = tf.zeros([m]);
        for (let s = 0; s < samples; s++)
          acc = tf.add(acc, this.variationalBoundSample(v, topLogZ));
        return tf.div(acc, samples);
      });
      for (const x of perImage.dataSync()) {
        sum += x;
        sumSquares += x * x;
      }
      perImage.dispose();
    }
    const mean = sum / n;
    return { bound: mean, standardError: Math.sqrt((sumSquares / n - mean * mean) / (n - 1)) };
  }

  dispose(): void {
    this.layers.forEach((l) => l.dispose());
  }
}

/**
 * The RBM with the lower RBM's parameters transposed: W^T, the lower hidden bias as visible bias,
 * the lower visible bias as hidden bias. Its marginal over its visible units is the lower RBM's
 * marginal over h (the same joint, read upside down).
 */
export function transposedRbm(lower: RBM): RBM {
  const p = tf.tidy(() => ({
    weights: tf.transpose(lower.weights) as tf.Tensor2D,
    visibleBias: lower.hiddenBias.clone() as tf.Tensor1D,
    hiddenBias: lower.visibleBias.clone() as tf.Tensor1D,
  }));
  const rbm = RBM.fromParameters(p);
  tf.dispose(Object.values(p));
  return rbm;
}

async function propagate(
  layers: RBM[],
  images: Float32Array,
  batchSize: number,
): Promise<Float32Array> {
  let x = images;
  for (const rbm of layers) {
    const n = x.length / rbm.visible;
    if (!Number.isInteger(n))
      throw new Error(`propagateUp: ${x.length} values are not whole rows of ${rbm.visible} units`);
    const out = new Float32Array(n * rbm.hidden);
    for (let start = 0; start < n; start += batchSize) {
      await yieldToEventLoop();
      const m = Math.min(batchSize, n - start);
      const h = tf.tidy(() =>
        rbm.sampleHidden(
          tf.tensor2d(x.subarray(start * rbm.visible, (start + m) * rbm.visible), [m, rbm.visible]),
        ),
      );
      out.set(h.dataSync() as Float32Array, start * rbm.hidden);
      h.dispose();
    }
    x = out;
  }
  return x;
}

export interface GreedyOptions extends Omit<FitOptions, 'onEpoch' | 'label'> {
  /** Called after each epoch of each layer (layer from 0). */
  onLayerEpoch?: (layer: number, epoch: number, rbm: RBM) => void;
  /**
   * Start each RBM above the first from the one below it transposed (default true), so the bound
   * on log P(v) starts at the lower model's log-likelihood; needs sizes[l + 1] = sizes[l - 1].
   * false: random weights and the data's biases (the bound may then start lower).
   */
  transposedStart?: boolean;
}

const GREEDY_KEYS: OptionKeys<GreedyOptions> = {
  ...RECIPE_FIT_KEYS,
  onLayerEpoch: true,
  transposedStart: true,
};

/**
 * Greedy layer-wise pretraining: RBM 0 on the images, then each next RBM on binary samples of the
 * previous hidden layer, started from the RBM below transposed (see the file comment). `sizes` =
 * [D, H1, H2, ...]; `first` may be an already trained RBM for layer 0. An interrupt stops the layer
 * in training after its batch in progress; the net is then returned as it is, marked `interrupted`.
 */
export async function pretrainDeepBeliefNet(
  images: Float32Array,
  sizes: number[],
  options: GreedyOptions,
  first?: RBM,
): Promise<{ dbn: DeepBeliefNet; interrupted: boolean }> {
  if (sizes.length < 3 || sizes.some((s) => !Number.isInteger(s) || s < 1))
    throw new Error(
      `pretrainDeepBeliefNet: sizes must be >= 3 positive integers [visible, hidden1, hidden2, ` +
        `...], got [${sizes.join(', ')}]`,
    );
  if (first && (first.visible !== sizes[0] || first.hidden !== sizes[1]))
    throw new Error(
      `pretrainDeepBeliefNet: the given first RBM is ${first.visible}x${first.hidden}, expected ` +
        `${sizes[0]}x${sizes[1]}`,
    );
  checkOptions('pretrainDeepBeliefNet', options, GREEDY_KEYS);
  const { onLayerEpoch, transposedStart = true, ...fit } = options;
  // layer l - 1 (sizes[l - 1] x sizes[l]) starts as layer l - 2 transposed: sizes[l] = sizes[l - 2]
  const l = sizes.findIndex((s, k) => k >= 2 && s !== sizes[k - 2]);
  if (transposedStart && l >= 0)
    throw new Error(
      `pretrainDeepBeliefNet: layer ${l - 1} (${sizes[l - 1]} x ${sizes[l]}) cannot start from ` +
        `layer ${l - 2} transposed (${sizes[l - 1]} x ${sizes[l - 2]}): give it ${sizes[l - 2]} ` +
        `hidden units, or pass transposedStart: false (then the variational bound is not ` +
        `guaranteed to start at the lower model's log-likelihood)`,
    );
  const layers: RBM[] = [];
  let input = images;
  let interrupted = false;
  for (let l = 0; l + 1 < sizes.length; l++) {
    let rbm: RBM;
    if (l === 0 && first) {
      rbm = first;
    } else {
      if (l > 0 && transposedStart) {
        rbm = transposedRbm(layers[l - 1]);
      } else {
        const bias = pixelLogits(input, sizes[l]);
        rbm = new RBM(sizes[l], sizes[l + 1], { visibleBias: bias });
        bias.dispose();
      }
      const trained = await fitRbm(
        rbm,
        input,
        { ...fit, label: `DBN layer ${l + 1}`, onEpoch: (epoch) => onLayerEpoch?.(l, epoch, rbm) },
        'pretrainDeepBeliefNet',
      );
      trained.trainer.dispose();
      interrupted = trained.interrupted;
    }
    layers.push(rbm);
    if (l + 2 < sizes.length) input = await propagate([rbm], input, 1000);
  }
  return { dbn: new DeepBeliefNet(layers), interrupted };
}
