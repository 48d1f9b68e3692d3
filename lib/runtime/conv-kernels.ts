/**
 * Convolutions and batch norm on the TensorFlow.js wasm backend, installed by `installWasmKernels`
 * (lib/runtime/kernels) through tfjs's kernel registry. Images are NHWC, filters [kh, kw, in, out].
 *
 * With the native addon (native/genlab_conv.c: im2col + OpenBLAS sgemm on the wasm heap):
 *  - replaces Conv2D, Conv2DBackpropInput (which is tf.conv2dTranspose) and FusedConv2D, and
 *    registers wasm's missing Conv2DBackpropFilter, so tf.conv2d, tf.conv2dTranspose,
 *    tf.fused.conv2d and their gradients run natively (NHWC, dilation 1; other cases go to the
 *    stock kernels);
 *  - adds GenlabConv2d and GenlabConvTranspose2d, y = act(conv(x, W) + b) in one kernel, whose
 *    registered gradient computes dz = dy act'(y) and the bias gradient in one pass
 *    (GenlabDenseGrad: an NHWC image is a [pixels, channels] matrix) before the two convolution
 *    gradients;
 *  - adds GenlabBatchNorm, y = act(gamma (x - mean) / sqrt(var + eps) + beta) with the batch's
 *    statistics (and an optional relu or leakyRelu) in two passes, returning the statistics too,
 *    with a two-pass gradient. lib/nn's Conv2d, ConvTranspose2d and BatchNorm use these three.
 * Without the addon (GENLAB_NATIVE=0, or no compiler at install time) the pure-wasm fallback
 * registers Conv2DBackpropFilter and replaces the stock Conv2DBackpropInput (1.7 GFLOP/s here) by
 * im2col / col2im in JavaScript around wasm's matrix product; Conv2D stays XNNPACK's.
 */
import * as tf from '@tensorflow/tfjs';
import {
  ACTIVATION_CODES,
  checkFloat32,
  DENSE_GRAD_KERNEL,
  heap,
  KernelActivation,
  LEAKY_RELU_ALPHA,
  NativeKernels,
  offset,
  overrideWasmKernel,
  registerWasmKernel,
  sizeOf,
  WasmBackend,
} from './kernels';

/** The addon's convolution functions (native/genlab_conv.c); offsets are bytes into the heap. */
interface ConvAddon {
  conv2d(
    heap: ArrayBuffer,
    geometry: Int32Array,
    xOff: number,
    wOff: number,
    yOff: number,
    biasOff: number,
    act: number,
    alpha: number,
  ): void;
  conv2dBackpropInput(
    heap: ArrayBuffer,
    geometry: Int32Array,
    dyOff: number,
    wOff: number,
    dxOff: number,
    biasOff: number,
    act: number,
    alpha: number,
  ): void;
  conv2dBackpropFilter(
    heap: ArrayBuffer,
    geometry: Int32Array,
    xOff: number,
    dyOff: number,
    dwOff: number,
  ): void;
  batchNorm(
    heap: ArrayBuffer,
    rows: number,
    cols: number,
    xOff: number,
    gammaOff: number,
    betaOff: number,
    eps: number,
    act: number,
    alpha: number,
    yOff: number,
    meanOff: number,
    varOff: number,
  ): void;
  batchNormGrad(
    heap: ArrayBuffer,
    rows: number,
    cols: number,
    dyOff: number,
    yOff: number,
    xOff: number,
    meanOff: number,
    varOff: number,
    gammaOff: number,
    dMeanOff: number,
    dVarOff: number,
    eps: number,
    act: number,
    alpha: number,
    dxOff: number,
    dGammaOff: number,
    dBetaOff: number,
  ): void;
}

export const CONV2D_KERNEL = 'GenlabConv2d';
export const CONV_TRANSPOSE2D_KERNEL = 'GenlabConvTranspose2d';
export const BATCH_NORM_KERNEL = 'GenlabBatchNorm';
export const BATCH_NORM_GRAD_KERNEL = 'GenlabBatchNormGrad';

/** Activations GenlabBatchNorm fuses (others are applied after it). */
export const BATCH_NORM_ACTIVATIONS: readonly KernelActivation[] = ['linear', 'relu', 'leakyRelu'];

export type ConvPad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

/** Attributes of GenlabConv2d and GenlabConvTranspose2d (and, minus activation, tfjs's kernels). */
export interface ConvAttrs {
  strides: number | [number, number];
  pad: ConvPad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation: KernelActivation;
  /** GenlabConvTranspose2d only: the output's shape [batch, height, width, channels]. */
  outputShape?: number[];
}

let addon: ConvAddon | undefined;

/**
 * True when lib/nn's conv layers and batch norm can run as GenlabConv2d, GenlabConvTranspose2d and
 * GenlabBatchNorm: the wasm backend with the native addon.
 */
export function convKernelsActive(): boolean {
  return addon !== undefined && tf.getBackend() === 'wasm';
}

type Shape4 = [number, number, number, number];

/**
 * The geometry of the convolution x [inShape] * W [filterShape] -> y, for a kernel's attrs
 * (dilation 1).
 */
function convInfo(
  inShape: number[],
  filterShape: number[],
  attrs: Record<string, unknown>,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    inShape as Shape4,
    filterShape as Shape4,
    attrs.strides as number | [number, number],
    1,
    attrs.pad as ConvPad,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
}

/** The geometry array of native/genlab_conv.c. */
function geometry(info: tf.backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  ]);
}

/** Rows (output pixels) and columns (patch size) of the im2col matrix. */
const patchMatrix = (info: tf.backend_util.Conv2DInfo): { pixels: number; patch: number } => ({
  pixels: info.batchSize * info.outHeight * info.outWidth,
  patch: info.filterHeight * info.filterWidth * info.inChannels,
});

/** True when every geometry size is positive (an empty batch or channel axis is left to tfjs). */
const nonEmpty = (info: tf.backend_util.Conv2DInfo): boolean =>
  sizeOf(info.inShape) > 0 && sizeOf(info.outShape) > 0 && sizeOf(info.filterShape) > 0;

const isOne = (d: unknown): boolean =>
  d == null || (Array.isArray(d) ? d.every((v) => v === 1) : d === 1);

/** The cases the kit's kernels compute: NHWC, dilation 1. */
const supported = (attrs: Record<string, unknown>): boolean =>
  (attrs.dataFormat ?? 'NHWC') === 'NHWC' && isOne(attrs.dilations);

function checkShape(kernel: string, what: string, actual: number[], expected: number[]): void {
  if (actual.join() !== expected.join())
    throw new Error(`${kernel}: ${what} has shape [${actual}], expected [${expected}]`);
}

/**
 * True when row p of the im2col matrix is row p of the input (1x1 kernels with stride 1, or a
 * kernel covering the whole unpadded input): no copy needed (as in native/genlab_conv.c).
 */
function patchesAreRows(info: tf.backend_util.Conv2DInfo): boolean {
  const { padInfo: p } = info;
  const pointwise =
    info.filterHeight === 1 &&
    info.filterWidth === 1 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.outHeight === info.inHeight &&
    info.outWidth === info.inWidth;
  const whole =
    info.filterHeight === info.inHeight &&
    info.filterWidth === info.inWidth &&
    info.outHeight === 1 &&
    info.outWidth === 1;
  return p.top === 0 && p.left === 0 && (pointwise || whole);
}

/**
 * act(conv(x, W) + b) by the addon, or with `transposed` act(conv^T(x, W) + b) (the gradient of
 * the convolution with respect to its input, bias and activation aside): x is then [info.outShape]
 * and the output [info.inShape].
 */
function nativeConv(
  backend: WasmBackend,
  info: tf.backend_util.Conv2DInfo,
  transposed: boolean,
  x: tf.TensorInfo,
  w: tf.TensorInfo,
  bias: tf.TensorInfo | undefined,
  act: number,
  alpha: number,
): tf.TensorInfo {
  const out = backend.makeOutput(transposed ? info.inShape : info.outShape, 'float32');
  const convolve = transposed ? addon!.conv2dBackpropInput : addon!.conv2d;
  convolve(
    heap(backend),
    geometry(info),
    offset(backend, x),
    offset(backend, w),
    offset(backend, out),
    bias ? offset(backend, bias) : -1,
    act,
    alpha,
  );
  return out;
}

function nativeFilterGradient(
  backend: WasmBackend,
  info: tf.backend_util.Conv2DInfo,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
): tf.TensorInfo {
  const out = backend.makeOutput(info.filterShape, 'float32');
  addon!.conv2dBackpropFilter(
    heap(backend),
    geometry(info),
    offset(backend, x),
    offset(backend, dy),
    offset(backend, out),
  );
  return out;
}

/**
 * Calls `visit(patchAt, inputAt, length)` for each run of in-range input pixels in the patch of
 * output pixel p: `length` floats at `inputAt` of the input go to `patchAt` of the patch (the rest
 * of the patch is padding).
 */
function forEachPatchRun(
  info: tf.backend_util.Conv2DInfo,
  p: number,
  visit: (patchAt: number, inputAt: number, length: number) => void,
): void {
  const perImage = info.outHeight * info.outWidth;
  const b = Math.floor(p / perImage);
  const r = p % perImage;
  const iy0 = Math.floor(r / info.outWidth) * info.strideHeight - info.padInfo.top;
  const ix0 = (r % info.outWidth) * info.strideWidth - info.padInfo.left;
  const kx0 = Math.max(0, -ix0);
  const kx1 = Math.min(info.filterWidth, info.inWidth - ix0);
  if (kx1 <= kx0) return;
  const c = info.inChannels;
  for (let ky = 0; ky < info.filterHeight; ky++) {
    const iy = iy0 + ky;
    if (iy < 0 || iy >= info.inHeight) continue;
    visit(
      (ky * info.filterWidth + kx0) * c,
      ((b * info.inHeight + iy) * info.inWidth + ix0 + kx0) * c,
      (kx1 - kx0) * c,
    );
  }
}

/** The product of the (transposed) operands by wasm's BatchMatMul kernel, as [1, m, n]. */
function wasmProduct(
  backend: WasmBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): tf.TensorInfo {
  return tf.getKernel(tf.BatchMatMul, 'wasm')!.kernelFunc({
    inputs: { a, b },
    backend: backend as never,
    attrs: { transposeA, transposeB },
  }) as tf.TensorInfo;
}

const asMatrix = (t: tf.TensorInfo, rows: number, cols: number): tf.TensorInfo => ({
  ...t,
  shape: [1, rows, cols],
});

/** Pure wasm: dx = col2im(dy W^T). */
function wasmConvTranspose(
  backend: WasmBackend,
  info: tf.backend_util.Conv2DInfo,
  dy: tf.TensorInfo,
  w: tf.TensorInfo,
): tf.TensorInfo {
  const { pixels, patch } = patchMatrix(info);
  const oc = info.outChannels;
  const dcols = wasmProduct(backend, asMatrix(dy, pixels, oc), asMatrix(w, patch, oc), false, true);
  if (patchesAreRows(info)) return { ...dcols, shape: info.inShape };
  const dx = backend.makeOutput(info.inShape, 'float32');
  const f32 = new Float32Array(heap(backend));
  const dxAt = offset(backend, dx) / 4;
  const colsAt = offset(backend, dcols) / 4;
  f32.fill(0, dxAt, dxAt + sizeOf(info.inShape));
  for (let p = 0; p < pixels; p++) {
    const row = colsAt + p * patch;
    forEachPatchRun(info, p, (patchAt, inputAt, length) => {
      for (let j = 0; j < length; j++) f32[dxAt + inputAt + j] += f32[row + patchAt + j];
    });
  }
  backend.disposeData(dcols.dataId);
  return dx;
}

/** Pure wasm: dW = im2col(x)^T dy. */
function wasmFilterGradient(
  backend: WasmBackend,
  info: tf.backend_util.Conv2DInfo,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
): tf.TensorInfo {
  const { pixels, patch } = patchMatrix(info);
  let cols = asMatrix(x, pixels, patch);
  const temporary = !patchesAreRows(info);
  if (temporary) {
    cols = backend.makeOutput([1, pixels, patch], 'float32');
    const f32 = new Float32Array(heap(backend));
    const colsAt = offset(backend, cols) / 4;
    const xAt = offset(backend, x) / 4;
    f32.fill(0, colsAt, colsAt + pixels * patch);
    for (let p = 0; p < pixels; p++) {
      const row = colsAt + p * patch;
      forEachPatchRun(info, p, (patchAt, inputAt, length) =>
        f32.copyWithin(row + patchAt, xAt + inputAt, xAt + inputAt + length),
      );
    }
  }
  const dw = wasmProduct(backend, cols, asMatrix(dy, pixels, info.outChannels), true, false);
  if (temporary) backend.disposeData(cols.dataId);
  return { ...dw, shape: info.filterShape };
}

/** A zero-filled output (the filter gradient of an empty batch). */
function zeros(backend: WasmBackend, shape: number[]): tf.TensorInfo {
  const out = backend.makeOutput(shape, 'float32');
  const at = offset(backend, out) / 4;
  new Float32Array(heap(backend)).fill(0, at, at + sizeOf(shape));
  return out;
}

function installFilterGradient(): void {
  registerWasmKernel(tf.Conv2DBackpropFilter, ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs;
    checkFloat32('conv2d filter gradient', x, dy);
    if (!supported(attrs))
      throw new Error(
        `conv2d filter gradient on wasm: only the NHWC data format is supported, got ` +
          `${String(attrs.dataFormat)}`,
      );
    const info = convInfo(x.shape, attrs.filterShape as number[], attrs);
    checkShape('conv2d filter gradient', 'dy', dy.shape, info.outShape);
    if (!nonEmpty(info)) return zeros(backend, info.filterShape);
    return addon
      ? nativeFilterGradient(backend, info, x, dy)
      : wasmFilterGradient(backend, info, x, dy);
  });
}

function installInputGradient(): void {
  overrideWasmKernel(tf.Conv2DBackpropInput, (original) => (args) => {
    const { dy, filter } = args.inputs;
    const { attrs, backend } = args;
    if (!supported(attrs) || dy.dtype !== 'float32' || filter.dtype !== 'float32')
      return original(args);
    const info = convInfo(attrs.inputShape as number[], filter.shape, attrs);
    checkShape('conv2dTranspose', 'dy', dy.shape, info.outShape);
    if (!nonEmpty(info)) return original(args);
    return addon
      ? nativeConv(backend, info, true, dy, filter, undefined, ACTIVATION_CODES.linear, 0)
      : wasmConvTranspose(backend, info, dy, filter);
  });
}

/**
 * tf.fused.conv2d's activations the native kernel applies (others go to the stock kernel). Names
 * only: this module and ./kernels import each other, so nothing of theirs is read at load time.
 */
const FUSED_NATIVE: Record<string, KernelActivation> = {
  linear: 'linear',
  relu: 'relu',
  sigmoid: 'sigmoid',
  leakyrelu: 'leakyRelu',
};

function installForward(): void {
  overrideWasmKernel(tf.Conv2D, (original) => (args) => {
    const { x, filter } = args.inputs;
    if (!supported(args.attrs) || x.dtype !== 'float32' || filter.dtype !== 'float32')
      return original(args);
    const info = convInfo(x.shape, filter.shape, args.attrs);
    if (!nonEmpty(info)) return original(args);
    return nativeConv(args.backend, info, false, x, filter, undefined, ACTIVATION_CODES.linear, 0);
  });
  overrideWasmKernel(tf.FusedConv2D, (original) => (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs;
    const { attrs } = args;
    const activation = FUSED_NATIVE[String(attrs.activation ?? 'linear')];
    if (
      !supported(attrs) ||
      activation === undefined ||
      preluActivationWeights != null ||
      x.dtype !== 'float32' ||
      filter.dtype !== 'float32'
    )
      return original(args);
    const info = convInfo(x.shape, filter.shape, attrs);
    const plainBias =
      bias == null || (bias.shape.length === 1 && bias.shape[0] === info.outChannels);
    if (!plainBias || !nonEmpty(info)) return original(args);
    const alpha = Number(attrs.leakyreluAlpha ?? LEAKY_RELU_ALPHA);
    const code = ACTIVATION_CODES[activation];
    return nativeConv(args.backend, info, false, x, filter, bias ?? undefined, code, alpha);
  });
}

/** The forward geometry of GenlabConvTranspose2d: the convolution from its output to its input. */
function transposeInfo(x: tf.TensorInfo, w: tf.TensorInfo, attrs: Record<string, unknown>) {
  const info = convInfo(attrs.outputShape as number[], w.shape, attrs);
  checkShape(CONV_TRANSPOSE2D_KERNEL, 'x', x.shape, info.outShape);
  return info;
}

/** dz = dy act'(y) and the bias gradient db, seeing the NHWC maps as [pixels, channels]. */
function activationGradient(
  dy: tf.Tensor,
  y: tf.Tensor,
  activation: KernelActivation,
): { dz: tf.Tensor; db: tf.Tensor } {
  const channels = y.shape[y.rank - 1];
  const [dz, db] = tf
    .engine()
    .runKernel(
      DENSE_GRAD_KERNEL,
      { dy: tf.reshape(dy, [-1, channels]), y: tf.reshape(y, [-1, channels]) },
      { activation },
    ) as tf.Tensor[];
  return { dz: tf.reshape(dz, y.shape), db };
}

function filterGradient(
  x: tf.Tensor,
  dy: tf.Tensor,
  filterShape: number[],
  attrs: ConvAttrs,
): tf.Tensor {
  return tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, {
    strides: attrs.strides,
    pad: attrs.pad,
    dataFormat: 'NHWC',
    dimRoundingMode: attrs.dimRoundingMode,
    filterShape,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

function installLayerKernels(): void {
  for (const [name, transposed] of [
    [CONV2D_KERNEL, false],
    [CONV_TRANSPOSE2D_KERNEL, true],
  ] as const) {
    registerWasmKernel(name, ({ inputs, backend, attrs }) => {
      const { x, w, b } = inputs;
      checkFloat32(name, x, w, ...(b ? [b] : []));
      const info = transposed ? transposeInfo(x, w, attrs) : convInfo(x.shape, w.shape, attrs);
      const act = ACTIVATION_CODES[attrs.activation as KernelActivation];
      return nativeConv(backend, info, transposed, x, w, b, act, LEAKY_RELU_ALPHA);
    });
  }
  // y = act(conv(x, W) + b): x gets conv^T(dz, W), W gets the filter gradient of (x, dz).
  registerLayerGradient(
    CONV2D_KERNEL,
    (dz, w, x, a) =>
      tf.conv2dTranspose(dz, w, x.shape as Shape4, a.strides, a.pad, a.dimRoundingMode),
    (x, dz) => [x, dz],
  );
  // y = act(conv^T(x, W) + b): x gets conv(dz, W), W gets the filter gradient of (dz, x).
  registerLayerGradient(
    CONV_TRANSPOSE2D_KERNEL,
    (dz, w, _x, a) => tf.conv2d(dz, w, a.strides, a.pad, 'NHWC', 1, a.dimRoundingMode),
    (x, dz) => [dz, x],
  );
}

/**
 * The gradient of a conv layer kernel y = act(conv(x, W) + b): dz = dy act'(y) and db in one pass,
 * then x's gradient `inputGradient(dz, W, x)` and W's the filter gradient of
 * `filterOperands(x, dz)`.
 */
function registerLayerGradient(
  kernelName: string,
  inputGradient: (dz: tf.Tensor4D, w: tf.Tensor4D, x: tf.Tensor, attrs: ConvAttrs) => tf.Tensor,
  filterOperands: (x: tf.Tensor, dz: tf.Tensor) => [tf.Tensor, tf.Tensor],
): void {
  tf.registerGradient({
    kernelName,
    inputsToSave: ['x', 'w'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, w, y] = saved;
      const a = attrs as unknown as ConvAttrs;
      const { dz, db } = activationGradient(dy as tf.Tensor, y, a.activation);
      return {
        x: () => inputGradient(dz as tf.Tensor4D, w as tf.Tensor4D, x, a),
        w: () => filterGradient(...filterOperands(x, dz), w.shape, a),
        b: () => db,
      };
    },
  });
}

/** Rows (everything but the last axis) and columns (the channels) of batch norm's input. */
function channelMatrix(x: tf.TensorInfo): { rows: number; cols: number } {
  const cols = x.shape[x.shape.length - 1];
  return { rows: sizeOf(x.shape) / cols, cols };
}

function installBatchNorm(): void {
  registerWasmKernel(BATCH_NORM_KERNEL, ({ inputs, backend, attrs }) => {
    const { x, gamma, beta } = inputs;
    checkFloat32('batchNorm', x, gamma, beta);
    const { rows, cols } = channelMatrix(x);
    checkShape(BATCH_NORM_KERNEL, 'gamma', gamma.shape, [cols]);
    checkShape(BATCH_NORM_KERNEL, 'beta', beta.shape, [cols]);
    const [y, mean, variance] = [x.shape, [cols], [cols]].map((s) =>
      backend.makeOutput(s, 'float32'),
    );
    addon!.batchNorm(
      heap(backend),
      rows,
      cols,
      offset(backend, x),
      offset(backend, gamma),
      offset(backend, beta),
      attrs.epsilon as number,
      ACTIVATION_CODES[attrs.activation as KernelActivation],
      LEAKY_RELU_ALPHA,
      offset(backend, y),
      offset(backend, mean),
      offset(backend, variance),
    );
    return [y, mean, variance];
  });
  registerWasmKernel(BATCH_NORM_GRAD_KERNEL, ({ inputs, backend, attrs }) => {
    const { dy, y, x, mean, variance, gamma, dMean, dVariance } = inputs;
    const { rows, cols } = channelMatrix(x);
    const [dx, dGamma, dBeta] = [x.shape, [cols], [cols]].map((s) =>
      backend.makeOutput(s, 'float32'),
    );
    addon!.batchNormGrad(
      heap(backend),
      rows,
      cols,
      offset(backend, dy),
      offset(backend, y),
      offset(backend, x),
      offset(backend, mean),
      offset(backend, variance),
      offset(backend, gamma),
      offset(backend, dMean),
      offset(backend, dVariance),
      attrs.epsilon as number,
      ACTIVATION_CODES[attrs.activation as KernelActivation],
      LEAKY_RELU_ALPHA,
      offset(backend, dx),
      offset(backend, dGamma),
      offset(backend, dBeta),
    );
    return [dx, dGamma, dBeta];
  });
  tf.registerGradient({
    kernelName: BATCH_NORM_KERNEL,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [true, true, true],
    gradFunc: (dys, saved, attrs) => {
      const [dy, dMean, dVariance] = dys as tf.Tensor[];
      const [x, gamma, y, mean, variance] = saved;
      const [dx, dGamma, dBeta] = tf
        .engine()
        .runKernel(
          BATCH_NORM_GRAD_KERNEL,
          { dy, y, x, mean, variance, gamma, dMean, dVariance },
          attrs,
        ) as tf.Tensor[];
      return { x: () => dx, gamma: () => dGamma, beta: () => dBeta };
    },
  });
  tf.registerGradient({
    kernelName: BATCH_NORM_GRAD_KERNEL,
    gradFunc: () => {
      throw new Error(
        'Second-order gradients through batch norm in training mode (e.g. a gradient penalty) ' +
          'are not available with the native kernels: run with GENLAB_NATIVE=0, or leave batch ' +
          'norm out of the network that the penalty differentiates.',
      );
    },
  });
}

/**
 * Installs the convolution kernels on wasm: native ones when the addon is loaded, else the
 * pure-wasm filter and input gradients. Called once by `installWasmKernels`.
 */
export function installConvKernels(native: NativeKernels | undefined): void {
  addon = native as unknown as ConvAddon | undefined;
  installFilterGradient();
  installInputGradient();
  if (!addon) return;
  installForward();
  installLayerKernels();
  installBatchNorm();
}
