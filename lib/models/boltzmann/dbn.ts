/**
 * A deep belief net (Hinton, Osindero & Teh 2006; lecture 001, "Deep Boltzmann Machine"),
 * pretrained greedily: an RBM on the images, then a second RBM on the first one's hidden samples h1
 * ~ p(h1 | v). Generation runs a long Gibbs chain in the top RBM (an undirected prior over h1),
 * then one top-down pass v ~ p(v | h1) through the first RBM's weights.
 */
import * as tf from '@tensorflow/tfjs';
import { pixelLogits } from '../../data/pixels';
import { bernoulli } from './binary';
import { RBM } from './rbm';
import { fitRbm, FitOptions } from './train';

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
  propagateUp(images: Float32Array, upTo: number, batchSize = 1000): Float32Array {
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
  sample(n: number, gibbsSteps: number): tf.Tensor2D {
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`DeepBeliefNet.sample: n must be a positive integer, got ${n}`);
    const top = this.layers[this.layers.length - 1];
    const start = tf.tidy(() => bernoulli(tf.fill([n, top.visible], 0.5)) as tf.Tensor2D);
    const chain = top.gibbs(start, gibbsSteps);
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

  dispose(): void {
    this.layers.forEach((l) => l.dispose());
  }
}

function propagate(layers: RBM[], images: Float32Array, batchSize: number): Float32Array {
  let x = images;
  for (const rbm of layers) {
    const n = x.length / rbm.visible;
    if (!Number.isInteger(n))
      throw new Error(`propagateUp: ${x.length} values are not whole rows of ${rbm.visible} units`);
    const out = new Float32Array(n * rbm.hidden);
    for (let start = 0; start < n; start += batchSize) {
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

export interface GreedyOptions extends FitOptions {
  /** Called after each epoch of each layer (layer from 0). */
  onLayerEpoch?: (layer: number, epoch: number, rbm: RBM) => void;
}

/**
 * Greedy layer-wise pretraining: RBM 0 on the images, then each next RBM on binary samples of the
 * previous hidden layer. `sizes` = [D, H1, H2, ...]; `first` may be an already trained RBM for
 * layer 0.
 */
export function pretrainDeepBeliefNet(
  images: Float32Array,
  sizes: number[],
  options: GreedyOptions,
  first?: RBM,
): DeepBeliefNet {
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
  const layers: RBM[] = [];
  let input = images;
  for (let l = 0; l + 1 < sizes.length; l++) {
    let rbm: RBM;
    if (l === 0 && first) {
      rbm = first;
    } else {
      const bias = pixelLogits(input, sizes[l]);
      rbm = new RBM(sizes[l], sizes[l + 1], { visibleBias: bias });
      bias.dispose();
      fitRbm(rbm, input, {
        ...options,
        onEpoch: (epoch) => options.onLayerEpoch?.(l, epoch, rbm),
      }).dispose();
    }
    layers.push(rbm);
    if (l + 2 < sizes.length) input = propagate([rbm], input, 1000);
  }
  return new DeepBeliefNet(layers);
}
