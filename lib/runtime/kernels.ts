/**
 * Fast kernels for the TensorFlow.js wasm backend, installed by `selectBackend` when wasm is
 * activated.
 *
 * Profile of one Adam step of the 784-400-20 VAE on stock wasm (tf.profile, 281 kernels, 212 ms of
 * kernel time): the transposed products of the dense-layer gradients take 165 ms (matMul with
 * transposeA/B runs at ~1 GFLOP/s against ~15 for the plain product); with those fixed, Adam's 14
 * elementwise kernels per variable and per-kernel overhead dominate. So this module, through tfjs's
 * public kernel registry:
 *  - replaces wasm's BatchMatMul and _FusedMatMul: OpenBLAS sgemm computed in place on the wasm
 *    heap when the native addon (native/, `native/build.sh`) is built, else explicit Transpose +
 *    the plain wasm product;
 *  - makes Identity (and same-dtype Cast) share data instead of copying it (tfjs clones every
 *    tensor it saves for backprop), and Sum/Mean gradients on wasm without a JavaScript array of
 *    ones (other backends keep tfjs's gradients);
 *  - adds `GenlabDense` (y = act(x W + b), one kernel) with a registered gradient (one fused kernel
 *    for dz = dy * act'(y) and db, then two products); `nn.dense` uses it on wasm;
 *  - with the addon, replaces wasm's Exp, Log, Log1p, Sigmoid, Softplus, Tanh, Add, Sub, Mul, Div
 *    and matrix Transpose by vectorized native loops;
 *  - adds `GenlabAdam` (one pass per variable), which the kit's optimizer `training.adam` uses on
 *    wasm (same float32 operations in the same order as tfjs's AdamOptimizer, so the numbers are
 *    identical; tf.train.adam itself is left alone);
 *  - adds `GenlabBernoulli`, {0, 1} draws with probabilities p from the kit's generator in one
 *    native pass (the same numbers as its JavaScript path, which cost 5-10% of an RBM update);
 *  - adds `GenlabBernoulliNll` (the VAE's binary cross-entropy with logits, summed per row: one
 *    pass instead of 9 kernels) with a one-pass gradient sigmoid(l) - x instead of 15 more;
 *  - with lib/runtime/conv-kernels, convolutions and batch norm (installConvKernels).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { KIT_DIR } from './paths';
import { fillUniform, generatorState, restoreGeneratorState } from './random';
import { installConvKernels } from './conv-kernels';

/** The addon's functions (native/genlab_native.c); offsets are byte offsets into the wasm heap. */
export interface NativeKernels {
  sgemm(
    heap: ArrayBuffer,
    ta: boolean,
    tb: boolean,
    batch: number,
    m: number,
    n: number,
    k: number,
    aOff: number,
    aStride: number,
    bOff: number,
    bStride: number,
    cOff: number,
  ): void;
  biasActivate(
    heap: ArrayBuffer,
    yOff: number,
    rows: number,
    cols: number,
    biasOff: number,
    act: number,
    alpha: number,
  ): void;
  denseGrad(
    heap: ArrayBuffer,
    dyOff: number,
    yOff: number,
    rows: number,
    cols: number,
    act: number,
    alpha: number,
    dzOff: number,
    dbOff: number,
  ): void;
  unary(heap: ArrayBuffer, op: number, n: number, xOff: number, yOff: number): void;
  binary(
    heap: ArrayBuffer,
    op: number,
    rows: number,
    cols: number,
    aOff: number,
    aLayout: number,
    bOff: number,
    bLayout: number,
    outOff: number,
  ): void;
  transpose(
    heap: ArrayBuffer,
    batch: number,
    rows: number,
    cols: number,
    xOff: number,
    outOff: number,
  ): void;
  adam(
    heap: ArrayBuffer,
    n: number,
    valueOff: number,
    gradOff: number,
    mOff: number,
    vOff: number,
    valueOut: number,
    mOut: number,
    vOut: number,
    lr: number,
    oneMinusBeta1: number,
    oneMinusBeta2: number,
    eps: number,
    c1: number,
    c2: number,
    beta1: number,
    beta2: number,
  ): void;
  bernoulli(heap: ArrayBuffer, n: number, pOff: number, outOff: number, state: Int32Array): void;
  bernoulliNll(
    heap: ArrayBuffer,
    rows: number,
    cols: number,
    xRows: number,
    xOff: number,
    logitsOff: number,
    outOff: number,
  ): void;
  bernoulliNllGrad(
    heap: ArrayBuffer,
    rows: number,
    cols: number,
    xRows: number,
    xOff: number,
    logitsOff: number,
    dyOff: number,
    outOff: number,
  ): void;
  setThreads(n: number): void;
  threads(): number;
}

/** The wasm backend's internals this module uses (tfjs-backend-wasm 4.22 BackendWasm). */
export interface WasmBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number; id: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object): boolean;
  incRef(dataId: object): void;
}

type KernelArgs = {
  inputs: Record<string, tf.TensorInfo>;
  backend: WasmBackend;
  attrs: Record<string, unknown>;
};

/** Environment variable: `GENLAB_NATIVE=0` disables the native addon (pure wasm kernels). */
export const NATIVE_ENV = 'GENLAB_NATIVE';
/** Environment variable: threads of the native GEMM (default 1). */
export const THREADS_ENV = 'GENLAB_THREADS';

/** Activation codes shared with native/genlab_native.c. */
export const ACTIVATION_CODES = {
  linear: 0,
  relu: 1,
  sigmoid: 2,
  tanh: 3,
  leakyRelu: 4,
  softplus: 5,
} as const;
export type KernelActivation = keyof typeof ACTIVATION_CODES;
/** Negative slope of the 'leakyRelu' activation (as in lib/nn). */
export const LEAKY_RELU_ALPHA = 0.2;

export const DENSE_KERNEL = 'GenlabDense';
export const DENSE_GRAD_KERNEL = 'GenlabDenseGrad';
export const ADAM_KERNEL = 'GenlabAdam';
export const BERNOULLI_KERNEL = 'GenlabBernoulli';
export const BERNOULLI_NLL_KERNEL = 'GenlabBernoulliNll';
export const BERNOULLI_NLL_GRAD_KERNEL = 'GenlabBernoulliNllGrad';

export interface KernelsInfo {
  /**
   * True when the kit's kernels serve wasm, false when tfjs's own do (GENLAB_KERNELS=stock, or
   * another TensorFlow.js version).
   */
  active: boolean;
  /** True when the OpenBLAS addon computes the products, false for the pure-wasm fallback. */
  native: boolean;
  /** Threads of the native GEMM (1 without the addon). */
  threads: number;
  /** Why the addon is or is not used, for reports. */
  reason: string;
  /** What the user loses and how to fix it, when the kit's kernels could not be used in full. */
  warning?: string;
}

/** Where native/build.sh writes the addon. */
export const NATIVE_ADDON_PATH = path.join(KIT_DIR, 'native', 'build', 'genlab_native.node');

/**
 * Every function the kit calls in the addon (native/genlab_native.c, native/genlab_conv.c). An
 * addon built from older sources lacks some: after a `git pull` that added C code, until
 * `npm run build:kernels` runs again.
 */
export const NATIVE_FUNCTIONS = [
  'sgemm',
  'biasActivate',
  'denseGrad',
  'unary',
  'binary',
  'transpose',
  'adam',
  'bernoulli',
  'bernoulliNll',
  'bernoulliNllGrad',
  'setThreads',
  'threads',
  'conv2d',
  'conv2dBackpropInput',
  'conv2dBackpropFilter',
  'batchNorm',
  'batchNormGrad',
] as const;

/** The functions of NATIVE_FUNCTIONS that `addon` lacks (none for an up-to-date build). */
export function missingNativeFunctions(addon: object): string[] {
  return NATIVE_FUNCTIONS.filter(
    (name) => typeof (addon as Record<string, unknown>)[name] !== 'function',
  );
}

let native: NativeKernels | undefined;
let installed: KernelsInfo | undefined;

/** What training costs without the addon (the VAE step of the README's benchmark). */
const PURE_WASM_COST = 'training runs about 5x slower (VAE step 38 ms instead of 6.6 ms)';

function loadNative(): { addon?: NativeKernels; reason: string; warning?: string } {
  if (process.env[NATIVE_ENV] === '0')
    return { reason: `pure-wasm kernels (native kernels disabled by ${NATIVE_ENV}=0)` };
  if (!fs.existsSync(NATIVE_ADDON_PATH)) {
    return {
      reason: 'pure-wasm kernels (native kernels not built)',
      warning:
        `the native kernels are not built (npm ci found no C compiler or OpenBLAS), so ` +
        `${PURE_WASM_COST}. Install gcc and libopenblas-dev (see the README), then run ` +
        '`npm run build:kernels`.',
    };
  }
  try {
    const addon = require(NATIVE_ADDON_PATH) as NativeKernels;
    const missing = missingNativeFunctions(addon);
    if (missing.length > 0)
      return {
        reason: 'pure-wasm kernels (the native kernels are out of date)',
        warning:
          `${NATIVE_ADDON_PATH} was built from older sources (it lacks ${missing.join(', ')}), ` +
          `so ${PURE_WASM_COST}. Rebuild it with \`npm run build:kernels\`.`,
      };
    return { addon, reason: 'native OpenBLAS kernels' };
  } catch (err) {
    return {
      reason: 'pure-wasm kernels (the native kernels failed to load)',
      warning:
        `${NATIVE_ADDON_PATH} failed to load (${(err as Error).message.split('\n')[0]}), so ` +
        `${PURE_WASM_COST}. Rebuild it with \`npm run build:kernels\`.`,
    };
  }
}

function threadsFromEnv(): number {
  const value = process.env[THREADS_ENV];
  if (value === undefined || value.trim() === '') return 1;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${THREADS_ENV}='${value}' must be a positive integer number of threads`);
  return n;
}

export const offset = (backend: WasmBackend, t: tf.TensorInfo): number =>
  backend.dataIdMap.get(t.dataId).memoryOffset;
export const heap = (backend: WasmBackend): ArrayBuffer =>
  backend.wasm.HEAPU8.buffer as ArrayBuffer;
export const sizeOf = (shape: number[]): number => shape.reduce((p, d) => p * d, 1);

/**
 * Shapes of a (batched) product op(a) op(b) with numpy-style broadcasting of one batch dimension.
 */
function productShape(a: tf.TensorInfo, b: tf.TensorInfo, ta: boolean, tb: boolean) {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = ta ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = ta ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = tb ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = tb ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb)
    throw new Error(
      `matMul: inner dimensions ${k} and ${kb} of shapes [${a.shape}] and [${b.shape}] ` +
        `(transposeA=${ta}, transposeB=${tb}) must match`,
    );
  const batchA = sizeOf(a.shape.slice(0, -2));
  const batchB = sizeOf(b.shape.slice(0, -2));
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) {
    throw new Error(
      `matMul: batch dimensions of shapes [${a.shape}] and [${b.shape}] must be equal or 1`,
    );
  }
  const outer = (batchA >= batchB ? a : b).shape.slice(0, -2);
  return { m, n, k, batchA, batchB, batch: Math.max(batchA, batchB), outShape: [...outer, m, n] };
}

/** C = op(A) op(B) by the addon, written into a new output slot of the wasm heap. */
function nativeProduct(
  backend: WasmBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  ta: boolean,
  tb: boolean,
): tf.TensorInfo {
  const { m, n, k, batchA, batchB, batch, outShape } = productShape(a, b, ta, tb);
  const out = backend.makeOutput(outShape, 'float32');
  native!.sgemm(
    heap(backend),
    ta,
    tb,
    batch,
    m,
    n,
    k,
    offset(backend, a),
    batchA === 1 ? 0 : m * k * 4,
    offset(backend, b),
    batchB === 1 ? 0 : k * n * 4,
    offset(backend, out),
  );
  return out;
}

/**
 * A tensor info seen as rank 3 (wasm's _FusedMatMul needs rank 3; the data is shared, not copied).
 */
const asRank3 = (t: tf.TensorInfo): tf.TensorInfo =>
  t.shape.length === 3 ? t : { ...t, shape: [sizeOf(t.shape.slice(0, -2)), ...t.shape.slice(-2)] };

/**
 * The pure-wasm fallback: wasm's transposed products are ~15x slower than Transpose + the plain
 * product.
 */
function untransposed(
  backend: WasmBackend,
  t: tf.TensorInfo,
  transpose: boolean,
  temps: tf.TensorInfo[],
): tf.TensorInfo {
  if (!transpose) return t;
  const rank = t.shape.length;
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  const transposed = tf
    .getKernel(tf.Transpose, 'wasm')!
    .kernelFunc({ inputs: { x: t }, backend: backend as never, attrs: { perm } }) as tf.TensorInfo;
  temps.push(transposed);
  return transposed;
}

/** A kernel of the wasm backend, typed with the backend's heap access. */
type WasmKernel = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];
/** A stock kernel with one output, as a replacement calls it. */
type StockKernel = (args: KernelArgs) => tf.TensorInfo;

export function registerWasmKernel(name: string, kernel: WasmKernel): void {
  tf.registerKernel({
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: kernel as unknown as tf.KernelFunc,
  });
}

/**
 * Replaces the wasm backend's kernel `name` by `replacement(original)`, where `original` runs the
 * stock kernel (for the cases a replacement leaves to it). Does nothing if wasm has no such kernel.
 */
export function overrideWasmKernel(
  name: string,
  replacement: (original: StockKernel) => WasmKernel,
): void {
  const config = tf.getKernel(name, 'wasm');
  if (!config) return;
  const original: StockKernel = ({ inputs, backend, attrs }) =>
    config.kernelFunc({
      inputs,
      backend: backend as never,
      attrs: attrs as tf.NamedAttrMap,
    }) as tf.TensorInfo;
  tf.unregisterKernel(name, 'wasm');
  registerWasmKernel(name, replacement(original));
}

export function checkFloat32(kernel: string, ...tensors: tf.TensorInfo[]): void {
  for (const t of tensors) {
    if (t.dtype !== 'float32')
      throw new Error(
        `${kernel} on wasm needs float32 tensors, got ${t.dtype}: cast the input with tf.cast(x, ` +
          `'float32')`,
      );
  }
}

/**
 * The pure-wasm path of a product kernel: the stock kernel on explicitly transposed (and reshaped)
 * operands.
 */
function stockProductOfUntransposed(
  original: StockKernel,
  { inputs, backend, attrs }: KernelArgs,
  reshape = (t: tf.TensorInfo) => t,
): tf.TensorInfo {
  const temps: tf.TensorInfo[] = [];
  const operand = (t: tf.TensorInfo, transpose: unknown) =>
    reshape(untransposed(backend, t, Boolean(transpose), temps));
  const out = original({
    inputs: {
      ...inputs,
      a: operand(inputs.a, attrs.transposeA),
      b: operand(inputs.b, attrs.transposeB),
    },
    backend,
    attrs: { ...attrs, transposeA: false, transposeB: false },
  });
  temps.forEach((t) => backend.disposeData(t.dataId));
  return out;
}

function installMatMul(): void {
  overrideWasmKernel(tf.BatchMatMul, (original) => ({ inputs, backend, attrs }) => {
    const { a, b } = inputs;
    const ta = Boolean(attrs.transposeA);
    const tb = Boolean(attrs.transposeB);
    checkFloat32('matMul', a, b);
    return native
      ? nativeProduct(backend, a, b, ta, tb)
      : stockProductOfUntransposed(original, { inputs, backend, attrs });
  });
}

/**
 * Identity, and Cast to the same dtype, share the input's data (as the cpu backend does) instead of
 * copying it: tfjs clones every tensor it saves for the backward pass through Identity (and casts
 * the clone's gradient), so stock wasm copied each saved activation and weight. Safe because tfjs
 * tensors are immutable: no kernel writes into an input.
 */
function installSharing(kernelName: string): void {
  overrideWasmKernel(kernelName, (original) => (args) => {
    const { x } = args.inputs;
    const dtype = (args.attrs?.dtype as tf.DataType | undefined) ?? x.dtype;
    if (x.dtype === 'string' || dtype !== x.dtype) return original(args);
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
}

/**
 * Gradients of Sum and Mean as dy times onesLike(x) (a wasm fill kernel) instead of tfjs's dy *
 * ones(x.shape), which fills a JavaScript array and copies it into the heap at every step. tfjs
 * keeps one gradient per kernel name for all backends, so every other backend gets tfjs's own
 * gradient function, unchanged.
 */
function installReductionGradients(): void {
  const broadcastDy = (dy: tf.Tensor, x: tf.Tensor, axis: unknown) => {
    const axes = tf.util.parseAxisParam(axis as number | number[], x.shape);
    const expanded = tf.reshape(
      dy,
      x.shape.map((d, i) => (axes.includes(i) ? 1 : d)),
    );
    const reduceSize = axes.reduce((p, a) => p * x.shape[a], 1);
    return { dx: tf.mul(expanded, tf.onesLike(x)), reduceSize };
  };
  const overrides: Record<string, (dy: tf.Tensor, x: tf.Tensor, axis: unknown) => tf.Tensor> = {
    [tf.Sum]: (dy, x, axis) => broadcastDy(dy, x, axis).dx,
    [tf.Mean]: (dy, x, axis) => {
      const { dx, reduceSize } = broadcastDy(dy, x, axis);
      return tf.div(dx, reduceSize);
    },
  };
  for (const [kernelName, gradient] of Object.entries(overrides)) {
    const stock = tf.getGradient(kernelName);
    if (!stock) throw new Error(`installWasmKernels: tfjs has no gradient for ${kernelName}`);
    tf.registerGradient({
      ...stock,
      gradFunc: (dy, saved, attrs) =>
        tf.getBackend() === 'wasm'
          ? { x: () => gradient(dy as tf.Tensor, saved[0], (attrs as { axis: unknown }).axis) }
          : stock.gradFunc(dy, saved, attrs),
    });
  }
}

/** tf.fused.matMul's activations the native kernel computes (others go to the stock kernel). */
const FUSED_NATIVE: Record<string, number> = { linear: 0, relu: 1, sigmoid: 2, leakyrelu: 4 };

function installFusedMatMul(): void {
  overrideWasmKernel(tf._FusedMatMul, (original) => ({ inputs, backend, attrs }) => {
    const { a, b, bias, preluActivationWeights } = inputs;
    const ta = Boolean(attrs.transposeA);
    const tb = Boolean(attrs.transposeB);
    const activation = String(attrs.activation ?? 'linear');
    checkFloat32('fused matMul', a, b);
    const code = FUSED_NATIVE[activation];
    if (
      native &&
      code !== undefined &&
      preluActivationWeights == null &&
      (bias == null || bias.shape.length === 1)
    ) {
      const out = nativeProduct(backend, a, b, ta, tb);
      if (bias != null || code !== 0) {
        const cols = out.shape[out.shape.length - 1];
        native.biasActivate(
          heap(backend),
          offset(backend, out),
          sizeOf(out.shape) / cols,
          cols,
          bias != null ? offset(backend, bias) : -1,
          code,
          Number(attrs.leakyreluAlpha ?? LEAKY_RELU_ALPHA),
        );
      }
      return out;
    }
    return stockProductOfUntransposed(original, { inputs, backend, attrs }, asRank3);
  });
}

/**
 * Unary kernels the addon computes with vectorized float32 polynomials (op codes of
 * native/genlab_native.c).
 */
const UNARY_CODES: Record<string, number> = {
  [tf.Exp]: 0,
  [tf.Log]: 1,
  [tf.Log1p]: 2,
  [tf.Sigmoid]: 3,
  [tf.Softplus]: 4,
  [tf.Tanh]: 5,
};

/**
 * Replaces wasm's scalar exp/log-based kernels (exp of 100k floats: 1.3 ms in wasm, 0.1 ms native).
 */
function installUnary(): void {
  for (const [name, code] of Object.entries(UNARY_CODES)) {
    overrideWasmKernel(name, (original) => (args) => {
      const { x } = args.inputs;
      if (x.dtype !== 'float32') return original(args);
      const out = args.backend.makeOutput(x.shape, 'float32');
      native!.unary(
        heap(args.backend),
        code,
        sizeOf(x.shape),
        offset(args.backend, x),
        offset(args.backend, out),
      );
      return out;
    });
  }
}

/**
 * Binary kernels the addon computes (op codes of native/genlab_native.c); IEEE results identical to
 * wasm's.
 */
const BINARY_CODES: Record<string, number> = {
  [tf.Add]: 0,
  [tf.Sub]: 1,
  [tf.Multiply]: 2,
  [tf.RealDiv]: 3,
};

/**
 * How a float32 operand of shape `shape` sits in an output [rows, cols] (cols = its last
 * dimension): 0 full, 1 a row vector broadcast over rows, 2 a scalar; undefined for other
 * broadcasts (stock kernel).
 */
function operandLayout(shape: number[], outShape: number[]): number | undefined {
  const size = sizeOf(shape);
  const outSize = sizeOf(outShape);
  if (size === outSize && shape.length === outShape.length) return 0;
  if (size === 1) return 2;
  const cols = outShape[outShape.length - 1];
  if (size === cols && shape[shape.length - 1] === cols) return 1;
  return undefined;
}

/**
 * Add, Sub, Mul, Div: one vectorized native loop for same-shape, row-broadcast and scalar operands.
 */
function installBinary(): void {
  for (const [name, code] of Object.entries(BINARY_CODES)) {
    overrideWasmKernel(name, (original) => (args) => {
      const { a, b } = args.inputs;
      if (a.dtype === 'float32' && b.dtype === 'float32') {
        const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
        const aLayout = operandLayout(a.shape, outShape);
        const bLayout = operandLayout(b.shape, outShape);
        const outSize = sizeOf(outShape);
        if (aLayout !== undefined && bLayout !== undefined && outSize > 0) {
          const { backend } = args;
          const cols = outShape.length ? outShape[outShape.length - 1] : 1;
          const out = backend.makeOutput(outShape, 'float32');
          native!.binary(
            heap(backend),
            code,
            outSize / cols,
            cols,
            offset(backend, a),
            aLayout,
            offset(backend, b),
            bLayout,
            offset(backend, out),
          );
          return out;
        }
      }
      return original(args);
    });
  }
}

/**
 * Transpose of the last two dimensions of a float32 tensor (tf.transpose of a matrix): a tiled
 * native copy.
 */
function installTranspose(): void {
  overrideWasmKernel(tf.Transpose, (original) => ({ inputs, backend, attrs }) => {
    const { x } = inputs;
    const perm = attrs.perm as number[];
    const rank = x.shape.length;
    const swapsLastTwo =
      rank >= 2 &&
      perm.every((p, i) => (i < rank - 2 ? p === i : p === (i === rank - 2 ? rank - 1 : rank - 2)));
    if (x.dtype !== 'float32' || !swapsLastTwo || sizeOf(x.shape) === 0)
      return original({ inputs, backend, attrs });
    const rows = x.shape[rank - 2];
    const cols = x.shape[rank - 1];
    const out = backend.makeOutput([...x.shape.slice(0, -2), cols, rows], 'float32');
    native!.transpose(
      heap(backend),
      sizeOf(x.shape) / (rows * cols),
      rows,
      cols,
      offset(backend, x),
      offset(backend, out),
    );
    return out;
  });
}

/** GenlabDense: y = act(x W + b) for x [rows, in], W [in, out], b [out], in one kernel. */
function installDense(): void {
  registerWasmKernel(DENSE_KERNEL, ({ inputs, backend, attrs }) => {
    const { x, w, b } = inputs;
    const activation = attrs.activation as KernelActivation;
    checkFloat32('dense', x, w, b);
    if (native) {
      const out = nativeProduct(backend, x, w, false, false);
      native.biasActivate(
        heap(backend),
        offset(backend, out),
        x.shape[0],
        w.shape[1],
        offset(backend, b),
        ACTIVATION_CODES[activation],
        LEAKY_RELU_ALPHA,
      );
      return out;
    }
    const fusable =
      activation === 'linear' ||
      activation === 'relu' ||
      activation === 'sigmoid' ||
      activation === 'leakyRelu';
    const fused = tf.getKernel(tf._FusedMatMul, 'wasm')!.kernelFunc({
      inputs: { a: asRank3(x), b: asRank3(w), bias: b },
      backend: backend as never,
      attrs: {
        transposeA: false,
        transposeB: false,
        activation: fusable ? activation.toLowerCase() : 'linear',
        leakyreluAlpha: LEAKY_RELU_ALPHA,
      },
    }) as tf.TensorInfo;
    let out = fused;
    if (!fusable) {
      const name = activation === 'tanh' ? tf.Tanh : tf.Softplus;
      out = tf.getKernel(name, 'wasm')!.kernelFunc({
        inputs: { x: fused },
        backend: backend as never,
        attrs: {},
      }) as tf.TensorInfo;
      backend.disposeData(fused.dataId);
    }
    return { ...out, shape: [x.shape[0], w.shape[1]] };
  });
  // dz = dy * act'(z) and db = sum_rows(dz), from the layer's output y: one pass (native only).
  registerWasmKernel(DENSE_GRAD_KERNEL, ({ inputs, backend, attrs }) => {
    const { dy, y } = inputs;
    const [rows, cols] = y.shape;
    const dz = backend.makeOutput([rows, cols], 'float32');
    const db = backend.makeOutput([cols], 'float32');
    native!.denseGrad(
      heap(backend),
      offset(backend, dy),
      offset(backend, y),
      rows,
      cols,
      ACTIVATION_CODES[attrs.activation as KernelActivation],
      LEAKY_RELU_ALPHA,
      offset(backend, dz),
      offset(backend, db),
    );
    return [dz, db];
  });
  // Second-order gradients (e.g. a gradient penalty) differentiate the fused backward kernel too:
  // dz = dy * s(y), db = sum_rows dz, so with g = ddz + ddb (broadcast over rows): d/d dy = g s(y),
  // d/dy = g dy s'(y).
  tf.registerGradient({
    kernelName: DENSE_GRAD_KERNEL,
    inputsToSave: ['dy', 'y'],
    gradFunc: (dys, saved, attrs) => {
      const [ddz, ddb] = dys as tf.Tensor[];
      const [dy, y] = saved;
      const { slope, curvature } = activationSlope(
        y,
        (attrs as { activation: KernelActivation }).activation,
      );
      const g = tf.add(ddz, ddb);
      return { dy: () => tf.mul(g, slope), y: () => tf.mul(tf.mul(g, dy), curvature) };
    },
  });
  tf.registerGradient({
    kernelName: DENSE_KERNEL,
    inputsToSave: ['x', 'w'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, w, y] = saved as tf.Tensor2D[];
      const activation = (attrs as { activation: KernelActivation }).activation;
      const [dz, db] = native
        ? (tf
            .engine()
            .runKernel(
              DENSE_GRAD_KERNEL,
              { dy: dy as tf.Tensor, y },
              { activation },
            ) as tf.Tensor[])
        : denseGradByOps(dy as tf.Tensor2D, y, activation);
      // Each input's gradient is a thunk: tfjs only calls those on the path to the variables, so
      // the first layer never computes the (unused) gradient with respect to the data.
      return {
        x: () => tf.matMul(dz, w, false, true),
        w: () => tf.matMul(x, dz, true, false),
        b: () => db,
      };
    },
  });
}

/** act'(z) as a function of the output y = act(z), and its derivative with respect to y. */
function activationSlope(
  y: tf.Tensor,
  activation: KernelActivation,
): { slope: tf.Tensor; curvature: tf.Tensor } {
  switch (activation) {
    case 'linear':
      return { slope: tf.onesLike(y), curvature: tf.zerosLike(y) };
    case 'relu':
      return { slope: tf.step(y), curvature: tf.zerosLike(y) };
    case 'leakyRelu':
      return { slope: tf.step(y, LEAKY_RELU_ALPHA), curvature: tf.zerosLike(y) };
    case 'sigmoid':
      return { slope: tf.mul(y, tf.sub(1, y)), curvature: tf.sub(1, tf.mul(2, y)) };
    case 'tanh':
      return { slope: tf.sub(1, tf.square(y)), curvature: tf.mul(-2, y) };
    case 'softplus':
      // sigmoid(z) = 1 - exp(-y)
      return { slope: tf.neg(tf.expm1(tf.neg(y))), curvature: tf.exp(tf.neg(y)) };
  }
}

/**
 * dz = dy * act'(z) written with the output y, and db = sum over rows of dz (pure-wasm fallback).
 */
function denseGradByOps(
  dy: tf.Tensor2D,
  y: tf.Tensor2D,
  activation: KernelActivation,
): [tf.Tensor, tf.Tensor] {
  const dz = activation === 'linear' ? dy : tf.mul(dy, activationSlope(y, activation).slope);
  return [dz, tf.sum(dz, 0)];
}

/**
 * GenlabAdam: value', m', v' of one Adam step for one variable (three new tensors; inputs
 * untouched).
 */
function installAdam(): void {
  registerWasmKernel(ADAM_KERNEL, ({ inputs, backend, attrs }) => {
    const { value, gradient, m, v } = inputs;
    const a = attrs as Record<string, number>;
    const outs = [value, m, v].map((t) => backend.makeOutput(t.shape, 'float32'));
    native!.adam(
      heap(backend),
      sizeOf(value.shape),
      offset(backend, value),
      offset(backend, gradient),
      offset(backend, m),
      offset(backend, v),
      offset(backend, outs[0]),
      offset(backend, outs[1]),
      offset(backend, outs[2]),
      a.learningRate,
      a.oneMinusBeta1,
      a.oneMinusBeta2,
      a.epsilon,
      a.c1,
      a.c2,
      a.beta1,
      a.beta2,
    );
    return outs;
  });
}

/**
 * GenlabBernoulli: out = 1 where u < p, u the next draws of the kit's generator, whose state (attr
 * `state`) it advances.
 */
function installBernoulli(): void {
  registerWasmKernel(BERNOULLI_KERNEL, ({ inputs, backend, attrs }) => {
    const { p } = inputs;
    checkFloat32('bernoulli', p);
    const out = backend.makeOutput(p.shape, 'float32');
    native!.bernoulli(
      heap(backend),
      sizeOf(p.shape),
      offset(backend, p),
      offset(backend, out),
      attrs.state as Int32Array,
    );
    return out;
  });
}

/**
 * Rows and columns of GenlabBernoulliNll's operands: logits [..., cols] pair with x [..., cols]
 * repeated over leading axes.
 */
function bernoulliDims(
  x: tf.TensorInfo,
  logits: tf.TensorInfo,
): { rows: number; cols: number; xRows: number } {
  const cols = x.shape[x.shape.length - 1];
  return { rows: sizeOf(logits.shape) / cols, cols, xRows: sizeOf(x.shape) / cols };
}

/**
 * GenlabBernoulliNll: sum_j max(l, 0) - x l + log(1 + exp(-|l|)) per row of the logits, and its
 * gradient.
 */
function installBernoulliNll(): void {
  registerWasmKernel(BERNOULLI_NLL_KERNEL, ({ inputs, backend }) => {
    const { x, logits } = inputs;
    checkFloat32('bernoulliNll', x, logits);
    const { rows, cols, xRows } = bernoulliDims(x, logits);
    const out = backend.makeOutput(logits.shape.slice(0, -1), 'float32');
    native!.bernoulliNll(
      heap(backend),
      rows,
      cols,
      xRows,
      offset(backend, x),
      offset(backend, logits),
      offset(backend, out),
    );
    return out;
  });
  registerWasmKernel(BERNOULLI_NLL_GRAD_KERNEL, ({ inputs, backend }) => {
    const { dy, x, logits } = inputs;
    const { rows, cols, xRows } = bernoulliDims(x, logits);
    const out = backend.makeOutput(logits.shape, 'float32');
    native!.bernoulliNllGrad(
      heap(backend),
      rows,
      cols,
      xRows,
      offset(backend, x),
      offset(backend, logits),
      offset(backend, dy),
      offset(backend, out),
    );
    return out;
  });
  tf.registerGradient({
    kernelName: BERNOULLI_NLL_KERNEL,
    inputsToSave: ['x', 'logits'],
    gradFunc: (dy, saved) => {
      const [x, logits] = saved;
      return {
        // d/dl = dy (sigmoid(l) - x)
        logits: () =>
          tf
            .engine()
            .runKernel(BERNOULLI_NLL_GRAD_KERNEL, { dy: dy as tf.Tensor, x, logits }) as tf.Tensor,
        // d/dx = -dy l, summed over the sample axes that x was repeated along
        x: () => {
          const g = tf.neg(tf.mul(tf.expandDims(dy as tf.Tensor, -1), logits));
          return g.rank === x.rank ? g : tf.sum(tf.reshape(g, [-1, ...x.shape]), 0);
        },
      };
    },
  });
}

/**
 * -sum_j log Bernoulli(x_j; sigmoid(l_j)) over the last axis by the GenlabBernoulliNll kernel, for
 * logits [..., n, d] and x [n, d] (repeated over the leading axes); undefined where the backend has
 * no such kernel or the operands are another case (the caller then computes it with stock ops).
 */
export function fusedBernoulliNll(x: tf.Tensor, logits: tf.Tensor): tf.Tensor | undefined {
  const tail = logits.shape.slice(logits.rank - x.rank);
  const repeated = x.rank >= 1 && x.rank <= logits.rank && tail.every((d, i) => d === x.shape[i]);
  const float32 = x.dtype === 'float32' && logits.dtype === 'float32';
  if (!repeated || !float32 || x.size === 0 || !tf.getKernel(BERNOULLI_NLL_KERNEL, tf.getBackend()))
    return undefined;
  return tf.engine().runKernel(BERNOULLI_NLL_KERNEL, { x, logits }) as tf.Tensor;
}

/** What tfjs optimizers' applyGradients receive. */
export type NamedGradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];

/**
 * The fields of tfjs's AdamOptimizer that its applyGradients uses (same state, so save/restore
 * still work).
 */
interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  incrementIterations(): void;
}

/** True where the GenlabAdam kernel serves the current backend (wasm with the native addon). */
export function fusedAdamAvailable(): boolean {
  return tf.getKernel(ADAM_KERNEL, tf.getBackend()) !== undefined;
}

/**
 * An AdamOptimizer's update as one GenlabAdam kernel per variable instead of 14 elementwise
 * kernels. Same float32 operations in the same order as tfjs's AdamOptimizer.applyGradients:
 * value - lr * (m'/(1-b1^t)) / (sqrt(v'/(1-b2^t)) + eps). `optimizer` keeps its state (m, v, the
 * beta powers) where tfjs keeps it, so saving and restoring it work as for tfjs's own.
 */
export function fusedAdamApply(
  optimizer: tf.AdamOptimizer,
  variableGradients: NamedGradients,
): void {
  const state = optimizer as unknown as AdamState;
  const list = Array.isArray(variableGradients)
    ? variableGradients.map((g) => ({ name: g.name, gradient: g.tensor }))
    : Object.keys(variableGradients).map((name) => ({ name, gradient: variableGradients[name] }));
  const f = Math.fround;
  const acc1 = state.accBeta1.dataSync()[0];
  const acc2 = state.accBeta2.dataSync()[0];
  const attrs = {
    learningRate: f(state.learningRate),
    beta1: f(state.beta1),
    beta2: f(state.beta2),
    oneMinusBeta1: f(1 - state.beta1),
    oneMinusBeta2: f(1 - state.beta2),
    epsilon: f(state.epsilon),
    c1: f(1 - acc1),
    c2: f(1 - acc2),
  };
  tf.tidy(() => {
    list.forEach(({ name, gradient }, i) => {
      const value = tf.engine().registeredVariables[name];
      if (state.accumulatedFirstMoment[i] == null) {
        state.accumulatedFirstMoment[i] = {
          originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
      }
      if (state.accumulatedSecondMoment[i] == null) {
        state.accumulatedSecondMoment[i] = {
          originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
      }
      if (gradient == null) return;
      const m = state.accumulatedFirstMoment[i].variable;
      const v = state.accumulatedSecondMoment[i].variable;
      const [newValue, newM, newV] = tf
        .engine()
        .runKernel(ADAM_KERNEL, { value, gradient, m, v }, attrs) as tf.Tensor[];
      m.assign(newM);
      v.assign(newV);
      value.assign(newValue);
    });
    state.accBeta1.assign(tf.scalar(f(acc1 * attrs.beta1)));
    state.accBeta2.assign(tf.scalar(f(acc2 * attrs.beta2)));
  });
  state.incrementIterations();
}

/** The TensorFlow.js version the kernels above were written for and tested against. */
export const KERNELS_TFJS_VERSION = '4.22.0';

/** Environment variable: `GENLAB_KERNELS=stock` keeps tfjs's own wasm kernels (the kit's off). */
export const KERNELS_ENV = 'GENLAB_KERNELS';
export const KERNEL_CHOICES = ['kit', 'stock'] as const;
export type KernelChoice = (typeof KERNEL_CHOICES)[number];

/** The kernel choice from GENLAB_KERNELS (default 'kit'); a wrong value lists the valid ones. */
export function kernelChoiceFromEnv(): KernelChoice {
  const value = (process.env[KERNELS_ENV] ?? '').trim().toLowerCase();
  if (value === '') return 'kit';
  if ((KERNEL_CHOICES as readonly string[]).includes(value)) return value as KernelChoice;
  throw new Error(
    `${KERNELS_ENV}='${process.env[KERNELS_ENV]}' must be one of ${KERNEL_CHOICES.join(', ')}`,
  );
}

/** The versions of tfjs's core and wasm backend, which the kernels above reach into. */
function tfjsVersions(): string[] {
  const wasm = require('@tensorflow/tfjs-backend-wasm') as { version_wasm?: string };
  return [tf.version.tfjs, tf.version['tfjs-core'], wasm.version_wasm ?? 'unknown'];
}

/**
 * The one switch of the kit's acceleration: installs the kernels above on the wasm backend
 * (idempotent; `selectBackend` calls it when it activates wasm) and returns what serves wasm.
 * Nothing is installed with `choice` 'stock', or when the installed TensorFlow.js is not the
 * version the kernels were written for: they read wasm's internals (its heap, its tensor table),
 * which another version may lay out differently, so tfjs's own kernels then serve instead.
 */
export function installWasmKernels(choice: KernelChoice = kernelChoiceFromEnv()): KernelsInfo {
  if (installed) {
    if (installed.active !== (choice === 'kit'))
      throw new Error(
        `the wasm kernels were already chosen for this process (${installed.reason}); ` +
          'restart the kernel (or process) to choose again',
      );
    return installed;
  }
  if (!tf.getKernel(tf.BatchMatMul, 'wasm'))
    throw new Error(
      'installWasmKernels: the wasm backend is not registered (load ' +
        '@tensorflow/tfjs-backend-wasm first)',
    );
  const versions = tfjsVersions();
  const stock = (reason: string, warning?: string): KernelsInfo =>
    (installed = { active: false, native: false, threads: 1, reason, ...(warning && { warning }) });
  if (choice === 'stock') return stock(`stock tfjs kernels (${KERNELS_ENV}=stock)`);
  if (versions.some((v) => v !== KERNELS_TFJS_VERSION))
    return stock(
      'stock tfjs kernels (another TensorFlow.js version)',
      `the kit's kernels were written for TensorFlow.js ${KERNELS_TFJS_VERSION} and this is ` +
        `${versions.join(' / ')} (tfjs / core / wasm), so tfjs's own, slower kernels serve the ` +
        `wasm backend. Install the versions in package-lock.json with \`npm ci\`.`,
    );
  const loaded = loadNative();
  native = loaded.addon;
  const threads = native ? threadsFromEnv() : 1;
  native?.setThreads(threads);
  installSharing(tf.Identity);
  installSharing(tf.Cast);
  installReductionGradients();
  installMatMul();
  installFusedMatMul();
  installDense();
  if (native) {
    installUnary();
    installBinary();
    installTranspose();
    installAdam();
    installBernoulli();
    installBernoulliNll();
  }
  installConvKernels(native);
  installed = { active: true, native: native !== undefined, threads, reason: loaded.reason };
  if (loaded.warning) installed.warning = loaded.warning;
  return installed;
}

/** What `installWasmKernels` installed, or undefined before wasm was activated. */
export function kernelsInfo(): KernelsInfo | undefined {
  return installed;
}

/**
 * True when `nn.dense` can run as the single GenlabDense kernel (the wasm backend with these
 * kernels).
 */
export function denseKernelActive(): boolean {
  return tf.getKernel(DENSE_KERNEL, tf.getBackend()) !== undefined;
}

/**
 * A {0, 1} draw per entry of `p`: 1 with probability p, from the kit's seeded generator. Where the
 * GenlabBernoulli kernel serves the backend (wasm with the native addon) one kernel continues the
 * generator's stream; elsewhere the draws are made on the CPU from the same stream, so both give
 * the same numbers (tf.randomUniform, Less and Cast took a third of a CD-1 step).
 */
export function bernoulliDraws(p: tf.Tensor): tf.Tensor {
  const state = generatorState();
  if (state && p.dtype === 'float32' && tf.getKernel(BERNOULLI_KERNEL, tf.getBackend())) {
    const draws = tf.engine().runKernel(BERNOULLI_KERNEL, { p }, { state }) as tf.Tensor;
    restoreGeneratorState(state);
    return draws;
  }
  const probs = p.dataSync();
  const u = fillUniform(new Float64Array(probs.length));
  const draws = new Float32Array(probs.length);
  for (let i = 0; i < draws.length; i++) draws[i] = u[i] < probs[i] ? 1 : 0;
  return tf.tensor(draws, p.shape, 'float32');
}
