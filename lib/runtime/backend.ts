import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { installWasmKernels, KernelChoice, kernelsInfo } from './kernels';
import { KIT_DIR } from './paths';

/** The TensorFlow.js backends this kit knows, fastest first. */
export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** Environment variable that forces a backend, e.g. `GENLAB_BACKEND=cpu`. */
export const BACKEND_ENV = 'GENLAB_BACKEND';

/** Folder (under the project root) where `npm run native` installs @tensorflow/tfjs-node. */
export const NATIVE_PREFIX = '.native';

/**
 * Environment variable naming another folder to load @tensorflow/tfjs-node from (its node_modules
 * parent).
 */
export const NATIVE_DIR_ENV = 'GENLAB_NATIVE_DIR';

export interface BackendInfo {
  name: BackendName;
  /** Worker threads the backend computes with (1 for cpu and for wasm in Node). */
  threads: number;
  /** Why this backend was chosen, for the one-line report. */
  reason: string;
}

/**
 * Parses a backend name (from the environment or a caller); a wrong name throws and lists the valid
 * ones.
 */
export function parseBackendName(value: string, source = BACKEND_ENV): BackendName {
  const name = value.trim().toLowerCase();
  if ((BACKENDS as readonly string[]).includes(name)) return name as BackendName;
  throw new Error(
    `${source}='${value}' is not a TensorFlow.js backend this kit supports: use one of ` +
      `${BACKENDS.join(', ')} ` +
      `(or unset ${source} to choose the fastest available).`,
  );
}

/**
 * Loads the native TensorFlow backend if @tensorflow/tfjs-node is really installed (by `npm run
 * native` into .native/, or by the user into node_modules). The danfojs-node override puts plain
 * tfjs under the name @tensorflow/tfjs-node, so success is judged by the 'tensorflow' backend being
 * registered.
 */
function loadNative(): boolean {
  if (tf.findBackendFactory('tensorflow')) return true;
  const nativeDir = process.env[NATIVE_DIR_ENV] || path.join(KIT_DIR, NATIVE_PREFIX);
  const candidates = [
    path.join(nativeDir, 'node_modules', '@tensorflow', 'tfjs-node'),
    '@tensorflow/tfjs-node',
  ];
  for (const candidate of candidates) {
    try {
      require(candidate);
    } catch {
      continue;
    }
    if (tf.findBackendFactory('tensorflow')) return true;
  }
  return false;
}

function loadWasm(): boolean {
  if (tf.findBackendFactory('wasm')) return true;
  try {
    require('@tensorflow/tfjs-backend-wasm');
  } catch {
    return false;
  }
  return tf.findBackendFactory('wasm') != null;
}

function threadsOf(name: BackendName): number {
  if (name === 'wasm') {
    const kernels = kernelsInfo();
    if (kernels?.native) return kernels.threads;
    const wasm = require('@tensorflow/tfjs-backend-wasm') as { getThreadsCount?: () => number };
    return wasm.getThreadsCount ? wasm.getThreadsCount() : 1;
  }
  if (name === 'tensorflow') return require('os').cpus().length;
  return 1;
}

async function activate(name: BackendName, kernels?: KernelChoice): Promise<boolean> {
  const loaded = name === 'tensorflow' ? loadNative() : name === 'wasm' ? loadWasm() : true;
  if (!loaded) return false;
  // Prod mode silences tfjs's "install the node backend" banner, which otherwise lands in notebook
  // outputs.
  tf.enableProdMode();
  const active = (await tf.setBackend(name)) && tf.getBackend() === name;
  // The kit's kernels for wasm (lib/runtime/kernels), unless 'stock' is chosen.
  if (active && name === 'wasm') installWasmKernels(kernels);
  return active;
}

let current: BackendInfo | undefined;

/** Why a backend was chosen, and for wasm which kernels serve it. */
function withKernels(name: BackendName, why: string): string {
  return name === 'wasm' ? `${why}; ${kernelsInfo()?.reason}` : why;
}

/**
 * Selects the backend: the one named by `requested` or by GENLAB_BACKEND, else the native
 * TensorFlow backend when it really loads, else wasm, else cpu. A forced backend that cannot load
 * is an error.
 */
export async function selectBackend(
  requested?: string,
  kernels?: KernelChoice,
): Promise<BackendInfo> {
  const forced = requested ?? process.env[BACKEND_ENV];
  if (forced !== undefined && forced.trim() !== '') {
    const name = parseBackendName(forced, requested !== undefined ? 'backend' : BACKEND_ENV);
    if (current?.name === name) return current;
    if (!(await activate(name, kernels))) {
      const hint =
        name === 'tensorflow'
          ? ' Install it with `npm run native` (needs internet access to Google storage).'
          : '';
      throw new Error(`The '${name}' backend was requested but could not be loaded.${hint}`);
    }
    const why = requested !== undefined ? 'requested' : `forced by ${BACKEND_ENV}`;
    current = { name, threads: threadsOf(name), reason: withKernels(name, why) };
    return current;
  }
  if (current) return current;
  for (const name of BACKENDS) {
    if (await activate(name, kernels)) {
      const why =
        name === 'tensorflow'
          ? 'tfjs-node'
          : name === 'wasm'
            ? 'tfjs-node not installed'
            : 'wasm unavailable';
      current = { name, threads: threadsOf(name), reason: withKernels(name, why) };
      return current;
    }
  }
  throw new Error('No TensorFlow.js backend could be initialized.');
}

/** The backend selected so far, if any. */
export function backendInfo(): BackendInfo | undefined {
  return current;
}
