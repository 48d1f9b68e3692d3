/**
 * The replay buffer of Du & Mordatch (2019): the end points of past Langevin chains, kept so that
 * each new chain can continue an old one (persistent chains, as PCD for the RBM) instead of
 * starting from noise. A few chains (5% by default) restart from fresh noise so that the buffer
 * keeps exploring.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionNames } from '../../runtime/checks';
import { nextSeed, random } from '../../runtime/random';
import { checkPoints } from './checks';

/** Draws n fresh starting points [n, d]. */
export type NoiseSource = (n: number) => tf.Tensor2D;

/** Uniform noise on the box [low, high]^dim, the usual start of EBM chains. */
export function uniformNoise(dim: number, low: number, high: number): NoiseSource {
  if (!Number.isInteger(dim) || dim < 1)
    throw new Error(`uniformNoise: dim must be a positive integer, got ${dim}`);
  if (!(low < high)) throw new Error(`uniformNoise: need low < high, got [${low}, ${high}]`);
  return (n) => tf.randomUniform([n, dim], low, high, 'float32', nextSeed()) as tf.Tensor2D;
}

export interface ReplayBufferOptions {
  /** Stored points (default 10,000). */
  capacity?: number;
  /** Fraction of the drawn chains that restart from fresh noise (default 0.05). */
  restart?: number;
}

export class ReplayBuffer {
  readonly capacity: number;
  readonly restart: number;
  private readonly values: Float32Array;

  /** A buffer of `capacity` points of dimension `dim`, filled with noise from `noise`. */
  constructor(
    readonly dim: number,
    readonly noise: NoiseSource,
    options: ReplayBufferOptions = {},
  ) {
    checkOptionNames('ReplayBuffer', options, ['capacity', 'restart']);
    this.capacity = options.capacity ?? 10000;
    this.restart = options.restart ?? 0.05;
    if (!Number.isInteger(this.capacity) || this.capacity < 1)
      throw new Error(`ReplayBuffer: capacity must be a positive integer, got ${this.capacity}`);
    if (!(this.restart >= 0 && this.restart <= 1))
      throw new Error(`ReplayBuffer: restart must be a fraction in [0, 1], got ${this.restart}`);
    const initial = noise(this.capacity);
    checkPoints('ReplayBuffer noise', initial, dim);
    this.values = Float32Array.from(initial.dataSync());
    initial.dispose();
  }

  /**
   * n starting points [n, dim] for new chains and the slots they came from: stored points drawn at
   * random, each replaced by fresh noise with probability `restart`.
   */
  draw(n: number): { x: tf.Tensor2D; slots: Int32Array } {
    if (!Number.isInteger(n) || n < 1 || n > this.capacity)
      throw new Error(`ReplayBuffer.draw: n must be an integer in [1, ${this.capacity}], got ${n}`);
    const slots = Int32Array.from({ length: n }, () => Math.floor(random() * this.capacity));
    const start = new Float32Array(n * this.dim);
    slots.forEach((s, r) =>
      start.set(this.values.subarray(s * this.dim, (s + 1) * this.dim), r * this.dim),
    );
    const restarts = Array.from({ length: n }, (_, r) => r).filter(() => random() < this.restart);
    if (restarts.length > 0) {
      const fresh = this.noise(restarts.length);
      const values = fresh.dataSync();
      fresh.dispose();
      restarts.forEach((r, k) =>
        start.set(values.subarray(k * this.dim, (k + 1) * this.dim), r * this.dim),
      );
    }
    return { x: tf.tensor2d(start, [n, this.dim]), slots };
  }

  /** Stores the end points x [n, dim] of the chains drawn from `slots`. */
  store(slots: Int32Array, x: tf.Tensor2D): void {
    checkPoints('ReplayBuffer.store', x, this.dim);
    if (x.shape[0] !== slots.length)
      throw new Error(
        `ReplayBuffer.store: ${x.shape[0]} points for ${slots.length} slots; store what draw gave`,
      );
    const values = x.dataSync();
    slots.forEach((s, r) =>
      this.values.set(values.subarray(r * this.dim, (r + 1) * this.dim), s * this.dim),
    );
  }

  /** The first n stored points [n, dim] (e.g. to look at what the chains have become). */
  contents(n = this.capacity): tf.Tensor2D {
    if (!Number.isInteger(n) || n < 1 || n > this.capacity)
      throw new Error(
        `ReplayBuffer.contents: n must be an integer in [1, ${this.capacity}], got ${n}`,
      );
    return tf.tensor2d(this.values.slice(0, n * this.dim), [n, this.dim]);
  }
}
