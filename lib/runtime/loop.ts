/**
 * The kit's long loops (training, sampling chains, AIS, evaluation over a data set) run through
 * `runLoop`. While one runs it is counted in a process-global registry; every ~50 ms it lets the
 * event loop run, so a notebook kernel keeps sending its output, answering Jupyter and receiving
 * Kernel > Interrupt; and at every batch boundary it checks whether it was interrupted, and if so
 * stops there, keeps what it has, and prints one line saying where it stopped and how to go on.
 *
 * The registry lives at globalThis[Symbol.for('genlab.loops')], shared by every copy of genlab in
 * the process and by the notebook kernel: on Kernel > Interrupt the kernel calls `interrupt()` when
 * `active > 0` (and lets the cell finish normally), and `reset()` before each cell.
 */

export interface LoopRegistry {
  /** Number of kit loops running now. */
  active: number;
  /** True from `interrupt()` until `reset()`. */
  readonly interrupted: boolean;
  /**
   * Asks every running kit loop to stop at its next batch boundary; loops started later return at
   * once, until `reset()`.
   */
  interrupt(): void;
  /** Forgets an earlier interrupt. */
  reset(): void;
}

const REGISTRY_KEY = Symbol.for('genlab.loops');

/** The registry as genlab makes it: it also knows whether an interrupt has been reported. */
interface KitRegistry extends LoopRegistry {
  /** True for the first caller after an interrupt, so that one interrupt prints one line. */
  claimReport?(): boolean;
}

function newRegistry(): KitRegistry {
  let interrupted = false;
  let reported = false;
  return {
    active: 0,
    get interrupted() {
      return interrupted;
    },
    interrupt() {
      interrupted = true;
    },
    reset() {
      interrupted = false;
      reported = false;
    },
    claimReport() {
      const first = interrupted && !reported;
      reported ||= interrupted;
      return first;
    },
  };
}

/** The process-global registry of running kit loops (created on first use). */
export function loopRegistry(): LoopRegistry {
  return kitRegistry();
}

function kitRegistry(): KitRegistry {
  const global = globalThis as unknown as Record<symbol, KitRegistry | undefined>;
  return (global[REGISTRY_KEY] ??= newRegistry());
}

/**
 * The event loop gets a turn at least this often during a kit loop: often enough for a kernel's
 * output, heartbeat and interrupt, rare enough to cost nothing measurable.
 */
export const YIELD_INTERVAL_MS = 50;

let lastYield = 0;

/**
 * Lets the event loop run (pending I/O, timers, signals) if YIELD_INTERVAL_MS have passed since the
 * last time this function did; otherwise returns at once. Call it between steps of any long
 * computation.
 */
export async function yieldToEventLoop(): Promise<void> {
  if (performance.now() - lastYield < YIELD_INTERVAL_MS) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  lastYield = performance.now();
}

/** A kit loop while it runs (see runLoop). */
export class KitLoop {
  constructor(
    /** What runs, as the stop line names it, e.g. 'VAE training' or 'AIS'. */
    readonly what: string,
    /** How to go on after an interrupt, for the stop line of this loop or of a loop inside it. */
    readonly then: string | undefined,
    private readonly registry: KitRegistry,
  ) {}

  /**
   * Call at every batch boundary, before the next batch: lets the event loop run when due, and
   * resolves to true when the loop must stop here because it was interrupted.
   */
  async shouldStop(): Promise<boolean> {
    await yieldToEventLoop();
    return this.registry.interrupted;
  }

  /** True once the loop has been interrupted. */
  get interrupted(): boolean {
    return this.registry.interrupted;
  }

  /**
   * Prints the line that says where the loop stopped, what it keeps, and how to go on (the `then`
   * of the outermost running loop that has one), e.g. "VAE training: stopped at epoch 3, batch
   * 449/469 (interrupted); the model keeps its last completed batch; run the cell again to
   * continue". Only the first loop to stop after an interrupt prints (loops around it, and loops
   * started after it, stop silently), so one interrupt gives one line.
   */
  stop(where: string, keeps: string): void {
    if (!(this.registry.claimReport?.() ?? true)) return;
    const then = running.find((loop) => loop.then !== undefined)?.then ?? this.then;
    console.log(
      `${this.what}: stopped at ${where} (interrupted); ${keeps}${then ? `; ${then}` : ''}`,
    );
  }
}

/** The kit loops running now, outermost first. */
const running: KitLoop[] = [];

/**
 * Runs `body` as a kit loop named `what`: counted in the registry while it runs, its
 * `shouldStop()` yielding to the event loop and reporting an interrupt. `then` says how to go on
 * after an interrupt (e.g. 'run the cell again to continue'); a loop that runs inside this one
 * uses it in its stop line.
 */
export async function runLoop<T>(
  what: string,
  body: (loop: KitLoop) => Promise<T>,
  options: { then?: string } = {},
): Promise<T> {
  const registry = kitRegistry();
  const loop = new KitLoop(what, options.then, registry);
  registry.active++;
  running.push(loop);
  try {
    return await body(loop);
  } finally {
    running.splice(running.indexOf(loop), 1);
    registry.active--;
  }
}
