/**
 * Gibbs sampling over full conditionals (lecture 001, "Boltzmann Machine: Training"; tutorial 002):
 * to sample p(x_1, ..., x_d) when only the conditionals p(x_i | x_{-i}) are available, update one
 * coordinate at a time from its conditional given the current values of all the others. Many
 * independent chains advance together as the rows of one [chains, dims] tensor.
 */
import * as tf from '@tensorflow/tfjs';
import { checkInteger, checkOneOf, checkOptions, OptionKeys } from '../runtime/checks';
import { runLoop } from '../runtime/loop';
import { random } from '../runtime/random';

/** The full conditionals of a target distribution over `dims` coordinates. */
export interface FullConditionals {
  /** Number of coordinates of one state. */
  readonly dims: number;
  /**
   * Draws coordinate i of every chain from p(x_i | x_{-i}) given the current state [chains, dims];
   * returns the new values, [chains]. Called inside a tidy scope.
   */
  sample(state: tf.Tensor2D, i: number): tf.Tensor1D;
}

/**
 * 'systematic' visits coordinates 0, 1, ..., d-1 in order in every sweep; 'random' draws d
 * coordinates uniformly at random per sweep (the same draw for all chains), which leaves the target
 * invariant too.
 */
export type Scan = 'systematic' | 'random';

export interface RunOptions {
  /** Sweeps to run after burn-in (one sweep = d coordinate updates). */
  sweeps: number;
  /** Sweeps run first and discarded (default 0). */
  burnIn?: number;
  /** Keep every `thin`-th sweep after burn-in (default 1: keep all). */
  thin?: number;
  /**
   * Called after every kept sweep with its index among kept sweeps and the state (do not dispose
   * it).
   */
  onSample?: (index: number, state: tf.Tensor2D) => void;
}

const RUN_KEYS: OptionKeys<RunOptions> = { sweeps: true, burnIn: true, thin: true, onSample: true };

/** Replaces column i of `state` by `values` (a pure function of tensors). */
export function setColumn(state: tf.Tensor2D, i: number, values: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    const d = state.shape[1];
    const mask = tf.oneHot(tf.tensor1d([i], 'int32'), d).reshape([1, d]);
    return tf.add(
      tf.mul(state, tf.sub(1, mask)),
      tf.mul(values.reshape([-1, 1]), mask),
    ) as tf.Tensor2D;
  });
}

/**
 * The states of a run: `values[(s * chains + c) * dims + i]` is coordinate i of chain c at kept
 * sweep s.
 */
export class GibbsRun {
  constructor(
    readonly values: Float32Array,
    /** Kept sweeps (fewer than asked for when `interrupted`). */
    readonly sweeps: number,
    readonly chains: number,
    readonly dims: number,
    /** True when an interrupt stopped the run early. */
    readonly interrupted = false,
  ) {}

  /** The path of coordinate `dim` of chain `chain` over the kept sweeps. */
  trace(dim: number, chain = 0): Float64Array {
    if (!Number.isInteger(dim) || dim < 0 || dim >= this.dims)
      throw new Error(`trace(dim): dim must be an integer in [0, ${this.dims}), got ${dim}`);
    if (!Number.isInteger(chain) || chain < 0 || chain >= this.chains)
      throw new Error(
        `trace(dim, chain): chain must be an integer in [0, ${this.chains}), got ${chain}`,
      );
    const out = new Float64Array(this.sweeps);
    for (let s = 0; s < this.sweeps; s++)
      out[s] = this.values[(s * this.chains + chain) * this.dims + dim];
    return out;
  }

  /** The state of chain `chain` at kept sweep `sweep`. */
  state(sweep: number, chain = 0): number[] {
    const start = (sweep * this.chains + chain) * this.dims;
    return Array.from(this.values.subarray(start, start + this.dims));
  }
}

/** A Gibbs sampler for the distribution whose full conditionals are given. */
export class GibbsSampler {
  constructor(
    readonly conditionals: FullConditionals,
    readonly scan: Scan = 'systematic',
  ) {
    checkInteger('GibbsSampler', 'conditionals.dims', conditionals.dims);
    checkOneOf('GibbsSampler', 'scan', scan, ['systematic', 'random']);
  }

  /** Starting states given as one array of `dims` finite numbers per chain, as a tensor. */
  private initialState(init: number[][]): tf.Tensor2D {
    const dims = this.conditionals.dims;
    if (init.length === 0) throw new Error('run(init): init needs at least one chain');
    init.forEach((row, c) => {
      if (!Array.isArray(row) || row.length !== dims)
        throw new Error(`run(init): chain ${c} must be an array of ${dims} numbers`);
      if (!row.every((v) => typeof v === 'number' && Number.isFinite(v)))
        throw new Error(`run(init): chain ${c} has a non-finite value: [${row.join(', ')}]`);
    });
    return tf.tensor2d(init, [init.length, dims]);
  }

  /** The coordinates one sweep visits, in order. */
  order(): number[] {
    const d = this.conditionals.dims;
    return Array.from({ length: d }, (_, i) =>
      this.scan === 'systematic' ? i : Math.floor(random() * d),
    );
  }

  /**
   * One sweep: x_i ~ p(x_i | x_{-i}) for each visited i, in turn, using the newest values of the
   * others.
   */
  sweep(state: tf.Tensor2D): tf.Tensor2D {
    if (state.rank !== 2 || state.shape[1] !== this.conditionals.dims) {
      throw new Error(
        `sweep(state): state must have shape [chains, ${this.conditionals.dims}], got ` +
          `[${state.shape.join(', ')}]`,
      );
    }
    return tf.tidy(() => {
      let x = state;
      for (const i of this.order()) x = setColumn(x, i, this.conditionals.sample(x, i));
      return x;
    });
  }

  /**
   * Runs every chain from `init` [chains, dims] (a tensor or one array per chain): burn-in, then
   * `sweeps` sweeps of which every `thin`-th is kept. A kit loop: an interrupt stops it after the
   * sweep in progress, and the run then holds the sweeps kept so far.
   */
  async run(init: tf.Tensor2D | number[][], options: RunOptions): Promise<GibbsRun> {
    checkOptions('GibbsSampler.run', options, RUN_KEYS);
    const { sweeps, burnIn = 0, thin = 1 } = options;
    checkInteger('GibbsSampler.run', 'sweeps', sweeps);
    checkInteger('GibbsSampler.run', 'burnIn', burnIn, 0);
    checkInteger('GibbsSampler.run', 'thin', thin);
    let state = Array.isArray(init) ? this.initialState(init) : tf.clone(init);
    const [chains, dims] = state.shape;
    const kept = Math.floor(sweeps / thin);
    const values = new Float32Array(kept * chains * dims);
    let done = 0;
    try {
      const interrupted = await runLoop('Gibbs sampling', async (loop) => {
        for (let s = 0; s < burnIn + sweeps; s++) {
          if (await loop.shouldStop()) {
            loop.stop(
              `sweep ${s}/${burnIn + sweeps}`,
              `the run holds the ${done} sweeps kept so far`,
            );
            return true;
          }
          const next = this.sweep(state);
          state.dispose();
          state = next;
          const t = s - burnIn + 1;
          if (t > 0 && t % thin === 0) {
            const index = t / thin - 1;
            if (index >= kept) break;
            values.set(state.dataSync() as Float32Array, index * chains * dims);
            done = index + 1;
            options.onSample?.(index, state);
          }
        }
        return false;
      });
      return new GibbsRun(
        interrupted ? values.slice(0, done * chains * dims) : values,
        done,
        chains,
        dims,
        interrupted,
      );
    } finally {
      state.dispose();
    }
  }
}
