/**
 * Timing a call that returns tensors, for notebook cells that compare the cost of two ways of
 * computing something: the tensors are freed after every call, so a cell needs no dispose.
 */
import * as tf from '@tensorflow/tfjs';
import { checkFunction, checkInteger, checkOptionNames } from './checks';

export interface TimingOptions {
  /** Timed calls; the median is returned (default 7). */
  repeats?: number;
  /** Untimed calls first, which compile kernels and fill caches (default 2). */
  warmup?: number;
}

/**
 * Milliseconds per call of f: the median of `repeats` timed calls after `warmup` untimed ones. The
 * tensors f returns are freed after each call.
 */
export function millisecondsPerCall(
  f: () => tf.TensorContainer,
  options: TimingOptions = {},
): number {
  const who = 'millisecondsPerCall';
  checkFunction(who, 'f', f);
  checkOptionNames(who, options, ['repeats', 'warmup']);
  const repeats = options.repeats ?? 7;
  const warmup = options.warmup ?? 2;
  checkInteger(who, 'repeats', repeats, 1);
  checkInteger(who, 'warmup', warmup, 0);
  const times = Array.from({ length: warmup + repeats }, () => {
    const started = performance.now();
    tf.dispose(f());
    return performance.now() - started;
  }).slice(warmup);
  return times.sort((a, b) => a - b)[Math.floor(repeats / 2)];
}
