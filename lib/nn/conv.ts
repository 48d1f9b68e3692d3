/**
 * Convolutional layers over images in TensorFlow.js's NHWC layout, [batch, height, width, channels]
 * (PyTorch's is NCHW), with filters [kernelHeight, kernelWidth, in, out]. The layer functions
 * `conv2d` and `conv2dTranspose` run as one fused kernel on wasm with the native addon (see
 * lib/runtime/conv-kernels) and as tfjs's ops elsewhere, so a model written with them is fast on
 * the default backend and still runs on cpu and tfjs-node.
 */
import * as tf from '@tensorflow/tfjs';
import {
  CONV2D_KERNEL,
  CONV_TRANSPOSE2D_KERNEL,
  convKernelsActive,
  ConvPad,
} from '../runtime/conv-kernels';
import { checkOptions, OptionKeys } from '../runtime/checks';
import { KERNELS_TFJS_VERSION } from '../runtime/kernels';
import { Activation, activate, checkActivation } from './dense';

/** PyTorch's padding: p zero rows and columns on every side, or 'same' / 'valid' as in tfjs. */
export type Padding = number | 'same' | 'valid';

/** A size given as one number for both axes or as [height, width]. */
export type Size2 = number | [number, number];

export interface ConvOptions {
  /** Step of the window (default 1). */
  stride?: Size2;
  /** Zero padding (default 0, PyTorch's). */
  padding?: Padding;
  activation?: Activation;
  /** Learn a bias per output channel (default true; leave it out before a batch norm). */
  bias?: boolean;
  /** Variable name prefix, used as the key when saving (default 'conv' / 'convT'). */
  name?: string;
}

export interface ConvTransposeOptions extends ConvOptions {
  /**
   * Extra rows and columns at the bottom and right of the output, as PyTorch's output_padding
   * (default 0; less than the stride). With padding 'same' the output is the input times the
   * stride and this must be 0.
   */
  outputPadding?: Size2;
}

const CONV_KEYS: OptionKeys<ConvOptions> = {
  stride: true,
  padding: true,
  activation: true,
  bias: true,
  name: true,
};

/** `options`, after checking that every key is one of `keys` (a misspelled key is an error). */
function checkedOptions<T extends object>(layer: string, options: T, keys: OptionKeys<T>): T {
  checkOptions(layer, options, keys);
  return options;
}

const pair = (s: Size2): [number, number] => (typeof s === 'number' ? [s, s] : s);

/** The tfjs padding of a PyTorch-style one (a number is that many zeros on each side). */
function tfjsPad(padding: Padding): ConvPad {
  if (typeof padding !== 'number') return padding;
  return [
    [0, 0],
    [padding, padding],
    [padding, padding],
    [0, 0],
  ];
}

/** One axis of a convolution's output: out = floor((in + 2p - k) / s) + 1. */
export function convOutputSize(size: number, kernel: number, stride: number, padding: Padding) {
  if (padding === 'same') return Math.ceil(size / stride);
  const p = padding === 'valid' ? 0 : padding;
  return Math.floor((size + 2 * p - kernel) / stride) + 1;
}

/** Throws unless `shape` is [height, width, channels] of positive integers (`what`: the owner). */
export function checkImageShape(what: string, shape: unknown): void {
  if (
    !Array.isArray(shape) ||
    shape.length !== 3 ||
    shape.some((d) => !Number.isInteger(d) || d < 1)
  )
    throw new Error(
      `${what}: imageShape must be [height, width, channels] of positive integers, got ` +
        `${JSON.stringify(shape)}`,
    );
}

/** Throws unless `channels` lists at least one positive integer (`what` names the field). */
export function checkChannelList(what: string, channels: unknown): void {
  if (
    !Array.isArray(channels) ||
    channels.length === 0 ||
    channels.some((c) => !Number.isInteger(c) || c < 1)
  )
    throw new Error(
      `${what} must list at least one positive integer, got ${JSON.stringify(channels)}`,
    );
}

/**
 * [height, width] of the smallest map after `layers` halvings by stride-2 convolutions (4x4,
 * padding 1) of an image [height, width, ...]: an error naming `what` unless 2^layers divides both.
 */
export function halvedMapSize(
  imageShape: number[],
  layers: number,
  what: string,
): [number, number] {
  const f = 2 ** layers;
  const [h, w] = imageShape;
  if (h % f !== 0 || w % f !== 0)
    throw new Error(
      `${what}: ${layers} stride-2 layers need an image side divisible by ${f}, got imageShape ` +
        `[${imageShape}]`,
    );
  return [h / f, w / f];
}

/** One axis of a transposed convolution's output: out = (in - 1) s - 2p + k + outputPadding. */
export function convTransposeOutputSize(
  size: number,
  kernel: number,
  stride: number,
  padding: Padding,
  outputPadding = 0,
) {
  if (padding === 'same') return size * stride;
  const p = padding === 'valid' ? 0 : padding;
  return (size - 1) * stride - 2 * p + kernel + outputPadding;
}

/** Options of the functional forms `conv2d` and `conv2dTranspose`. */
export interface ConvOpOptions {
  stride?: Size2;
  padding?: Padding;
  activation?: Activation;
}

/**
 * act(z + b) for z the (transposed) convolution of x and W: one fused kernel when the conv kernels
 * are active, else tfjs's op `convolve` followed by the bias and the activation. tfjs-node's conv
 * kernels take only 'same' and 'valid' padding, so `convolve` turns numeric padding into tf.pad /
 * tf.slice around a 'valid' op.
 */
function convolution(
  what: string,
  kernel: string,
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  b: tf.Tensor1D | undefined,
  options: ConvOpOptions,
  convolve: (strides: [number, number], padding: Padding) => tf.Tensor4D,
  attrs: Record<string, unknown> = {},
): tf.Tensor4D {
  const strides = pair(options.stride ?? 1);
  const padding = options.padding ?? 0;
  const activation = options.activation ?? 'linear';
  checkActivation(what, activation);
  if (convKernelsActive() && x.dtype === 'float32') {
    const inputs: tf.NamedTensorMap = b ? { x, w, b } : { x, w };
    return tf.engine().runKernel(kernel, inputs, {
      strides,
      pad: tfjsPad(padding),
      activation,
      ...attrs,
    } as tf.NamedAttrMap) as tf.Tensor4D;
  }
  const compute = () =>
    tf.tidy(() => {
      const z = convolve(strides, padding);
      return activate(b ? tf.add(z, b) : z, activation) as tf.Tensor4D;
    });
  return convGradientsMissing()
    ? withRefusedGradient(what, compute, b ? [x, w, b] : [x, w])
    : compute();
}

/**
 * True on wasm served by tfjs's own kernels (GENLAB_KERNELS=stock, or another TensorFlow.js
 * version): they compute a convolution but not its gradient (no Conv2DBackpropFilter, tfjs issue
 * 8474).
 */
function convGradientsMissing(): boolean {
  return tf.getBackend() === 'wasm' && tf.getKernel('Conv2DBackpropFilter', 'wasm') === undefined;
}

/** `compute()`, whose gradient with respect to `inputs` throws an error that says what to do. */
function withRefusedGradient(
  what: string,
  compute: () => tf.Tensor4D,
  inputs: tf.Tensor[],
): tf.Tensor4D {
  const refused = tf.customGrad(() => ({
    value: compute(),
    gradFunc: () => {
      throw new Error(
        `${what}: cannot train a convolution on the wasm backend with TensorFlow.js's own ` +
          `kernels, which have no convolution gradient. Use the kit's kernels: start the ` +
          `kernel without GENLAB_KERNELS=stock (or call runtime.init({ kernels: 'kit' })) ` +
          `with TensorFlow.js ${KERNELS_TFJS_VERSION} installed, or use another backend.`,
      );
    },
  }));
  return refused(...inputs) as tf.Tensor4D;
}

/**
 * y = act(conv(x, W) + b) for x [n, h, w, in], W [kh, kw, in, out], b [out] (or none): the
 * functional form of `Conv2d`, as `dense` is of `Dense`.
 */
export function conv2d(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  b: tf.Tensor1D | undefined,
  options: ConvOpOptions = {},
): tf.Tensor4D {
  return convolution('conv2d', CONV2D_KERNEL, x, w, b, options, (strides, padding) => {
    if (typeof padding !== 'number') return tf.conv2d(x, w, strides, padding);
    const p = padding;
    const padded =
      p > 0
        ? tf.pad(x, [
            [0, 0],
            [p, p],
            [p, p],
            [0, 0],
          ])
        : x;
    return tf.conv2d(padded, w, strides, 'valid');
  });
}

/**
 * y = act(conv^T(x, W) + b) for x [n, h, w, in], W [kh, kw, out, in] (tfjs's layout), b [out], to
 * an output of `outputShape` [n, h', w', out]: the functional form of `ConvTranspose2d`.
 */
export function conv2dTranspose(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  b: tf.Tensor1D | undefined,
  outputShape: [number, number, number, number],
  options: ConvOpOptions = {},
): tf.Tensor4D {
  return convolution(
    'conv2dTranspose',
    CONV_TRANSPOSE2D_KERNEL,
    x,
    w,
    b,
    options,
    (strides, padding) => {
      if (typeof padding !== 'number')
        return tf.conv2dTranspose(x, w, outputShape, strides, padding);
      // The 'valid' transposed convolution, less p rows and columns on each side (plus zero rows
      // at the bottom and right for an output padding beyond them).
      const [n, h, width] = x.shape;
      const [kh, kw, c] = w.shape;
      const full = [(h - 1) * strides[0] + kh, (width - 1) * strides[1] + kw];
      const z = tf.conv2dTranspose(x, w, [n, full[0], full[1], c], strides, 'valid');
      const p = padding;
      const extra = [0, 1].map((i) => Math.max(0, p + outputShape[i + 1] - full[i]));
      const padded =
        extra[0] + extra[1] > 0
          ? tf.pad(z, [
              [0, 0],
              [0, extra[0]],
              [0, extra[1]],
              [0, 0],
            ])
          : z;
      return tf.slice(padded, [0, p, p, 0], outputShape);
    },
    { outputShape },
  );
}

function checkSize2(layer: string, what: string, value: Size2, min: number): [number, number] {
  const [a, b] = pair(value);
  const ok = (v: number) => Number.isInteger(v) && v >= min;
  if (!(Array.isArray(value) ? value.length === 2 : true) || !ok(a) || !ok(b)) {
    throw new Error(
      `${layer}: ${what} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer or a ` +
        `pair [height, width] of them, got ${JSON.stringify(value)}`,
    );
  }
  return [a, b];
}

function checkPadding(layer: string, padding: Padding): void {
  if (padding === 'same' || padding === 'valid') return;
  if (!Number.isInteger(padding) || padding < 0)
    throw new Error(
      `${layer}: padding must be a non-negative integer, 'same' or 'valid', got ` +
        `${JSON.stringify(padding)}`,
    );
}

/** The layer's input checks: rank 4 NHWC with the expected channels. */
function checkImages(layer: string, x: tf.Tensor, channels: number): void {
  if (x.rank !== 4 || x.shape[3] !== channels) {
    throw new Error(
      `${layer}: expected images [batch, height, width, ${channels}] (NHWC), got ` +
        `[${x.shape.join(', ')}]` +
        (x.rank === 2
          ? ': reshape flat images with tf.reshape(x, [n, height, width, channels])'
          : ''),
    );
  }
}

/** U(-1/sqrt(fanIn), 1/sqrt(fanIn)): PyTorch's default start of conv weights and biases. */
function uniformVariable(shape: number[], fanIn: number): tf.Variable {
  const bound = 1 / Math.sqrt(fanIn);
  return tf.tidy(() => tf.variable(tf.randomUniform(shape, -bound, bound), true));
}

/** What the two conv layers share: options, weights and their names. */
abstract class ConvLayer {
  readonly w: tf.Variable<tf.Rank.R4>;
  readonly b: tf.Variable<tf.Rank.R1> | undefined;
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly padding: Padding;
  readonly activation: Activation;
  readonly name: string;

  protected constructor(
    kind: string,
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Size2,
    options: ConvOptions,
    filterShape: (kh: number, kw: number) => number[],
    fanIn: (kh: number, kw: number) => number,
  ) {
    this.name = options.name ?? (kind === 'Conv2d' ? 'conv' : 'convT');
    const layer = `${kind} '${this.name}'`;
    for (const [what, n] of [
      ['inChannels', inChannels],
      ['outChannels', outChannels],
    ] as const) {
      if (!Number.isInteger(n) || n < 1)
        throw new Error(`${layer}: ${what} must be a positive integer, got ${n}`);
    }
    this.kernel = checkSize2(layer, 'kernelSize', kernelSize, 1);
    this.stride = checkSize2(layer, 'stride', options.stride ?? 1, 1);
    this.padding = options.padding ?? 0;
    checkPadding(layer, this.padding);
    this.activation = options.activation ?? 'linear';
    checkActivation(layer, this.activation);
    const [kh, kw] = this.kernel;
    this.w = uniformVariable(filterShape(kh, kw), fanIn(kh, kw)) as tf.Variable<tf.Rank.R4>;
    this.b =
      options.bias === false
        ? undefined
        : (uniformVariable([outChannels], fanIn(kh, kw)) as tf.Variable<tf.Rank.R1>);
  }

  /** Trainable variables keyed by name, e.g. { 'D.0.w': ..., 'D.0.b': ... }. */
  namedVariables(): Record<string, tf.Variable> {
    return { [`${this.name}.w`]: this.w, ...(this.b ? { [`${this.name}.b`]: this.b } : {}) };
  }

  dispose(): void {
    tf.dispose(this.b ? [this.w, this.b] : [this.w]);
  }
}

/**
 * A 2-D convolution layer, as PyTorch's nn.Conv2d on NHWC images: y = act(conv(x, W) + b),
 * out = floor((in + 2p - k) / s) + 1 per axis. Weights and bias start as PyTorch's,
 * U(-1/sqrt(in kh kw), 1/sqrt(in kh kw)).
 */
export class Conv2d extends ConvLayer {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: Size2,
    options: ConvOptions = {},
  ) {
    super(
      'Conv2d',
      inChannels,
      outChannels,
      kernelSize,
      checkedOptions('Conv2d', options, CONV_KEYS),
      (kh, kw) => [kh, kw, inChannels, outChannels],
      (kh, kw) => inChannels * kh * kw,
    );
  }

  /** [height, width] of the output for an input of [height, width]; an error if none fits. */
  outputSize(height: number, width: number): [number, number] {
    const pad = this.padding === 'same' ? 0 : this.padding === 'valid' ? 0 : this.padding;
    const [kh, kw] = this.kernel;
    if (this.padding !== 'same' && (height + 2 * pad < kh || width + 2 * pad < kw)) {
      throw new Error(
        `Conv2d '${this.name}': the ${kh}x${kw} kernel is larger than the padded input ` +
          `${height + 2 * pad}x${width + 2 * pad} (input ${height}x${width}, padding ` +
          `${JSON.stringify(this.padding)})`,
      );
    }
    return [
      convOutputSize(height, kh, this.stride[0], this.padding),
      convOutputSize(width, kw, this.stride[1], this.padding),
    ];
  }

  /** Throws unless x is images [batch, height, width, inChannels] the kernel fits. */
  checkInput(x: tf.Tensor4D): void {
    checkImages(`${this.constructor.name} '${this.name}'`, x, this.inChannels);
    this.outputSize(x.shape[1], x.shape[2]);
  }

  /** y = act(conv(x, W) + b) for images x [batch, height, width, inChannels]. */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    this.checkInput(x);
    return conv2d(x, this.w, this.b, {
      stride: this.stride,
      padding: this.padding,
      activation: this.activation,
    });
  }
}

/**
 * A 2-D transposed convolution, as PyTorch's nn.ConvTranspose2d on NHWC images (the adjoint of
 * Conv2d, which upsamples by the stride): y = act(conv^T(x, W) + b),
 * out = (in - 1) s - 2p + k + outputPadding per axis. W is [kh, kw, out, in] (tfjs's layout);
 * weights and bias start as PyTorch's, U(-1/sqrt(out kh kw), 1/sqrt(out kh kw)).
 */
export class ConvTranspose2d extends ConvLayer {
  readonly outputPadding: [number, number];

  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: Size2,
    options: ConvTransposeOptions = {},
  ) {
    super(
      'ConvTranspose2d',
      inChannels,
      outChannels,
      kernelSize,
      checkedOptions('ConvTranspose2d', options, { ...CONV_KEYS, outputPadding: true }),
      (kh, kw) => [kh, kw, outChannels, inChannels],
      (kh, kw) => outChannels * kh * kw,
    );
    const layer = `ConvTranspose2d '${this.name}'`;
    this.outputPadding = checkSize2(layer, 'outputPadding', options.outputPadding ?? 0, 0);
    this.outputPadding.forEach((op, i) => {
      if (op >= this.stride[i] || (op > 0 && this.padding === 'same'))
        throw new Error(
          `${layer}: outputPadding ${op} must be less than the stride ${this.stride[i]} (and 0 ` +
            `with padding 'same')`,
        );
    });
  }

  /** [height, width] of the output for an input of [height, width]; an error if it is empty. */
  outputSize(height: number, width: number): [number, number] {
    const size: [number, number] = [
      convTransposeOutputSize(
        height,
        this.kernel[0],
        this.stride[0],
        this.padding,
        this.outputPadding[0],
      ),
      convTransposeOutputSize(
        width,
        this.kernel[1],
        this.stride[1],
        this.padding,
        this.outputPadding[1],
      ),
    ];
    if (size[0] < 1 || size[1] < 1)
      throw new Error(
        `ConvTranspose2d '${this.name}': input ${height}x${width} gives an empty output ` +
          `${size[0]}x${size[1]} (padding ${JSON.stringify(this.padding)} is too large)`,
      );
    return size;
  }

  /** y = act(conv^T(x, W) + b) for images x [batch, height, width, inChannels]. */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    checkImages(`ConvTranspose2d '${this.name}'`, x, this.inChannels);
    const [h, w] = this.outputSize(x.shape[1], x.shape[2]);
    return conv2dTranspose(x, this.w, this.b, [x.shape[0], h, w, this.outChannels], {
      stride: this.stride,
      padding: this.padding,
      activation: this.activation,
    });
  }
}
