/**
 * Dense layers and MLPs over TensorFlow.js variables: the building block of every neural model in
 * the kit. All layers go through `dense`, so the fast path (see lib/runtime/kernels) serves every
 * model.
 */
import * as tf from '@tensorflow/tfjs';
import {
  checkArray,
  checkInteger,
  checkInterval,
  checkOptions,
  isPositiveInteger,
} from '../runtime/checks';
import { DENSE_KERNEL, denseKernelActive, LEAKY_RELU_ALPHA } from '../runtime/kernels';
import { nextSeed } from '../runtime/random';

export type Activation = 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'leakyRelu' | 'softplus';

const ACTIVATIONS: Activation[] = ['linear', 'relu', 'sigmoid', 'tanh', 'leakyRelu', 'softplus'];

/** Throws if `activation` is not one of the kit's activations (`what` names the caller). */
export function checkActivation(what: string, activation: Activation): void {
  if (!ACTIVATIONS.includes(activation))
    throw new Error(
      `${what}: unknown activation '${activation}': use one of ${ACTIVATIONS.join(', ')}`,
    );
}

/** Applies an activation by name. */
export function activate(x: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case 'linear':
      return x;
    case 'relu':
      return tf.relu(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'tanh':
      return tf.tanh(x);
    case 'leakyRelu':
      return tf.leakyRelu(x, LEAKY_RELU_ALPHA);
    case 'softplus':
      return tf.softplus(x);
  }
}

/**
 * y = act(x W + b) for x [batch, in], W [in, out], b [out]. On wasm this is one fused kernel whose
 * gradient is one fused kernel plus two products (lib/runtime/kernels); elsewhere it is the plain
 * composition.
 */
export function dense(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  activation: Activation = 'linear',
): tf.Tensor2D {
  checkActivation('dense', activation);
  if (
    x.rank !== 2 ||
    w.rank !== 2 ||
    b.rank !== 1 ||
    x.shape[1] !== w.shape[0] ||
    b.shape[0] !== w.shape[1]
  ) {
    throw new Error(
      `dense: expected x [batch, in], w [in, out], b [out], got x [${x.shape}], w [${w.shape}], ` +
        `b [${b.shape}]`,
    );
  }
  if (denseKernelActive() && x.dtype === 'float32') {
    return tf.engine().runKernel(DENSE_KERNEL, { x, w, b }, { activation }) as tf.Tensor2D;
  }
  return tf.tidy(() => activate(tf.add(tf.matMul(x, w), b), activation)) as tf.Tensor2D;
}

export interface DenseOptions {
  activation?: Activation;
  /** Variable name prefix, used as the key when saving (default 'dense'). */
  name?: string;
}

/** A fully connected layer with PyTorch's default initialization, W, b ~ U(-1/√in, 1/√in). */
export class Dense {
  readonly w: tf.Variable<tf.Rank.R2>;
  readonly b: tf.Variable<tf.Rank.R1>;
  readonly activation: Activation;
  readonly name: string;

  constructor(
    readonly inDim: number,
    readonly outDim: number,
    options: DenseOptions = {},
  ) {
    checkInteger('Dense', 'inDim', inDim);
    checkInteger('Dense', 'outDim', outDim);
    checkOptions('Dense', options, { activation: true, name: true });
    this.activation = options.activation ?? 'linear';
    this.name = options.name ?? 'dense';
    checkActivation(this.name, this.activation);
    const bound = 1 / Math.sqrt(inDim);
    // tf.variable shares its initial tensor's data; tidy disposes the initial tensors' own handles.
    this.w = tf.tidy(() =>
      tf.variable(tf.randomUniform([inDim, outDim], -bound, bound), true),
    ) as tf.Variable<tf.Rank.R2>;
    this.b = tf.tidy(() =>
      tf.variable(tf.randomUniform([outDim], -bound, bound), true),
    ) as tf.Variable<tf.Rank.R1>;
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    if (x.rank !== 2 || x.shape[1] !== this.inDim) {
      throw new Error(
        `${this.name}: expected input [batch, ${this.inDim}], got [${x.shape.join(', ')}]`,
      );
    }
    return dense(x, this.w, this.b, this.activation);
  }

  /** Trainable variables keyed by name, e.g. { 'enc.0.w': ..., 'enc.0.b': ... }. */
  namedVariables(): Record<string, tf.Variable> {
    return { [`${this.name}.w`]: this.w, [`${this.name}.b`]: this.b };
  }

  dispose(): void {
    tf.dispose([this.w, this.b]);
  }
}

export interface MLPOptions {
  /** Activation of hidden layers (default 'relu'). */
  hidden?: Activation;
  /** Activation of the last layer (default 'linear'). */
  output?: Activation;
  /**
   * Dropout rate after every hidden layer, in [0, 1) (default 0): in training mode each hidden unit
   * is zeroed with this probability and the survivors are scaled by 1 / (1 - rate), so evaluation
   * needs no rescaling.
   */
  dropout?: number;
  name?: string;
}

export interface ApplyOptions {
  /** Training mode: apply dropout (default false). */
  training?: boolean;
}

/** A stack of Dense layers with sizes [in, h1, ..., out]. */
export class MLP {
  readonly layers: Dense[];
  readonly name: string;
  readonly dropout: number;

  constructor(
    readonly sizes: number[],
    options: MLPOptions = {},
  ) {
    checkArray('MLP', 'sizes', sizes, isPositiveInteger, 'a positive integer');
    if (sizes.length < 2)
      throw new Error(
        `MLP sizes must list at least input and output sizes, got [${sizes.join(', ')}]`,
      );
    checkOptions('MLP', options, { hidden: true, output: true, dropout: true, name: true });
    this.name = options.name ?? 'mlp';
    this.dropout = options.dropout ?? 0;
    checkInterval(this.name, 'dropout', this.dropout, 0, 1, '[)');
    this.layers = sizes.slice(1).map(
      (out, i) =>
        new Dense(sizes[i], out, {
          activation:
            i === sizes.length - 2 ? (options.output ?? 'linear') : (options.hidden ?? 'relu'),
          name: `${this.name}.${i}`,
        }),
    );
  }

  /**
   * The network's output for a batch x [n, inDim]; dropout (if any) only when `training` is set.
   */
  apply(x: tf.Tensor2D, options: ApplyOptions = {}): tf.Tensor2D {
    checkOptions(`${this.name}.apply`, options, { training: true });
    const drop = options.training === true && this.dropout > 0;
    const last = this.layers.length - 1;
    return tf.tidy(() =>
      this.layers.reduce((h, layer, i) => {
        const y = layer.apply(h);
        return drop && i < last
          ? (tf.dropout(y, this.dropout, undefined, nextSeed()) as tf.Tensor2D)
          : y;
      }, x),
    );
  }

  get inDim(): number {
    return this.sizes[0];
  }

  get outDim(): number {
    return this.sizes[this.sizes.length - 1];
  }

  namedVariables(): Record<string, tf.Variable> {
    return Object.assign({}, ...this.layers.map((l) => l.namedVariables()));
  }

  variables(): tf.Variable[] {
    return Object.values(this.namedVariables());
  }

  dispose(): void {
    this.layers.forEach((l) => l.dispose());
  }
}
