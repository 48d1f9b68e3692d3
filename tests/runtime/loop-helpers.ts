/**
 * Helpers for tests of the kit's long loops. `interruptAfter(k)` is a stand-in for the kernel's
 * side of the interrupt contract (Kernel > Interrupt calls `interrupt()` on the registry from a
 * signal handler, that is from the event loop, while a kit loop runs): it gives a hook to call once
 * per batch of a loop, which makes the interrupt arrive through a timer right after the k-th batch.
 * `longestEventLoopBlock` measures how long a computation kept the event loop from running.
 */
import { monitorEventLoopDelay } from 'perf_hooks';
import { runtime } from 'genlab';

export interface InterruptAfter {
  /** Call after every batch. */
  hook: () => void;
  /** Batches done so far. */
  calls: () => number;
  /** Batches done when the interrupt arrived (undefined before). */
  callsAtInterrupt: () => number | undefined;
}

export function interruptAfter(k: number): InterruptAfter {
  let calls = 0;
  let at: number | undefined;
  return {
    hook: () => {
      calls++;
      if (calls !== k) return;
      // The interrupt is a timer callback: it runs when the loop next lets the event loop run,
      // which it does at a batch boundary once YIELD_INTERVAL_MS have passed. Waiting that long
      // here makes that boundary the next one, whatever the speed of the machine.
      const start = performance.now();
      while (performance.now() - start < runtime.YIELD_INTERVAL_MS) {
        // busy: this batch is slow
      }
      setImmediate(() => {
        at = calls;
        runtime.loopRegistry().interrupt();
      });
    },
    calls: () => calls,
    callsAtInterrupt: () => at,
  };
}

/** Console lines printed while `fn` runs. */
export async function captureLines<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; lines: string[] }> {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => lines.push(args.join(' '));
  try {
    return { value: await fn(), lines };
  } finally {
    console.log = original;
  }
}

/**
 * The longest time, in ms, that the event loop went without a turn while `fn` ran (Node's
 * event-loop delay histogram, sampled every 20 ms). A kit loop blocks for one batch and at most
 * YIELD_INTERVAL_MS more, so on a loaded machine, where one batch can take seconds, compare with
 * `blockingBound` rather than with a fixed time.
 */
export async function longestEventLoopBlock(fn: () => Promise<unknown>): Promise<number> {
  const histogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  try {
    await fn();
  } finally {
    histogram.disable();
  }
  return histogram.max / 1e6;
}

/**
 * The most a kit loop may block the event loop: 1 s, or three times its slowest batch on a machine
 * so loaded that a batch takes longer than 300 ms (a loop that does not yield blocks for many).
 */
export function blockingBound(slowestBatchMs: number): number {
  return Math.max(1000, 3 * slowestBatchMs);
}

/** Wraps `fn` so that `slowest()` gives the longest time one call took, in ms. */
export function timed<A extends unknown[], R>(
  fn: (...args: A) => R,
): { fn: (...args: A) => R; slowest: () => number } {
  let slowest = 0;
  return {
    fn: (...args: A) => {
      const start = performance.now();
      try {
        return fn(...args);
      } finally {
        slowest = Math.max(slowest, performance.now() - start);
      }
    },
    slowest: () => slowest,
  };
}
