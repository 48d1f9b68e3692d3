import * as tf from '@tensorflow/tfjs';
import { selectBackend } from './backend';
import { checkOptions } from './checks';
import { KernelChoice, kernelsInfo } from './kernels';
import { errorListeners, keepKernelAlive } from './display';
import { quick } from './quick';
import { seed } from './random';

export * from './backend';
export * from './checks';
export * from './display';
export {
  ADAM_KERNEL,
  BERNOULLI_NLL_KERNEL,
  bernoulliDraws,
  kernelsInfo,
  KernelsInfo,
  KERNELS_ENV,
  KERNELS_TFJS_VERSION,
  KernelChoice,
  missingNativeFunctions,
  NATIVE_ADDON_PATH,
  NATIVE_ENV,
  NATIVE_FUNCTIONS,
  THREADS_ENV,
} from './kernels';
export { KIT_DIR, MODELS_ENV, modelsRoot, projectDir } from './paths';
export * from './loop';
export * from './progress';
export * from './quick';
export * from './random';
export * from './timing';
export * from './values';

export interface InitOptions {
  /** Seed for every random draw (default 0). */
  seed?: number;
  /** Backend to use instead of the automatic choice or GENLAB_BACKEND. */
  backend?: string;
  /**
   * 'kit' (default) serves the wasm backend with the kit's kernels, 'stock' with tfjs's own (also
   * GENLAB_KERNELS=stock). Chosen once per process.
   */
  kernels?: KernelChoice;
  /** Print the one-line report (default true). */
  report?: boolean;
}

let warned = false;

/**
 * The first call of every notebook: selects the backend, seeds all random draws, and reports both
 * in one line (nothing else: a notebook whose first cell ends with this call prints only that line;
 * the details are in backendInfo()), e.g. `genlab: backend wasm (1 thread; tfjs-node not installed;
 * native OpenBLAS kernels) | tfjs 4.22.0 | seed 0`.
 */
export async function init(options: InitOptions = {}): Promise<void> {
  checkOptions('runtime.init', options, {
    seed: true,
    backend: true,
    kernels: true,
    report: true,
  });
  const listeners = errorListeners();
  const info = await selectBackend(options.backend, options.kernels);
  keepKernelAlive(listeners);
  const s = options.seed ?? 0;
  seed(s);
  if (options.report ?? true) {
    const threads = `${info.threads} thread${info.threads === 1 ? '' : 's'}`;
    console.log(
      `genlab: backend ${info.name} (${threads}; ${info.reason}) | tfjs ${tf.version.tfjs} | ` +
        `seed ${s}${quick() ? ' | quick mode' : ''}`,
    );
  }
  const warning = info.name === 'wasm' ? kernelsInfo()?.warning : undefined;
  if (warning && !warned) {
    warned = true;
    console.warn(`genlab: warning: ${warning}`);
  }
}
