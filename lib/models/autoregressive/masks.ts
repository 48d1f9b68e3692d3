/**
 * The masks of MADE (Germain et al. 2015). Every unit gets a degree: input i the position of x_i in
 * the ordering (1..D), a hidden unit a number in [smallest degree of the layer below, D - 1]. A
 * hidden unit may see the units below whose degree is at most its own; output d may see the hidden
 * units whose degree is below the degree of input d. Then output d depends only on the inputs that
 * come before x_d in the ordering, whatever the weights: the network computes the conditionals
 * p(x_d | x_<d) of the chain rule, all in one pass.
 */
import { permutation, random } from '../../runtime/random';

/** The degrees of one MADE: inputs (the ordering) and each hidden layer. */
export interface MadeDegrees {
  /** Degree of input i: its position in the ordering, 1..D. */
  input: number[];
  /** Degrees of the units of each hidden layer, each in [1, D - 1]. */
  hidden: number[][];
}

function checkDim(inputDim: number): void {
  if (!Number.isInteger(inputDim) || inputDim < 2)
    throw new Error(
      `MADE: inputDim must be an integer >= 2 (one input has no conditionals to mask), got ` +
        `${inputDim}`,
    );
}

/**
 * Checks that `order` lists each of 0..D-1 once (x_order[0] first) and returns the input degrees:
 * degree[order[k]] = k + 1.
 */
export function degreesOfOrder(order: ArrayLike<number>, inputDim: number): number[] {
  checkDim(inputDim);
  if (order.length !== inputDim)
    throw new Error(
      `MADE: an ordering must list each of the ${inputDim} inputs once, got ${order.length} ` +
        `entries`,
    );
  const degree = new Array<number>(inputDim).fill(0);
  for (let k = 0; k < inputDim; k++) {
    const i = order[k];
    if (!Number.isInteger(i) || i < 0 || i >= inputDim || degree[i] !== 0)
      throw new Error(
        `MADE: an ordering must be a permutation of 0..${inputDim - 1}; entry ${k} is ${i}` +
          (degree[i] !== 0 ? ' (repeated)' : ''),
      );
    degree[i] = k + 1;
  }
  return degree;
}

/** The ordering (inputs first to last) of input degrees: the inverse of `degreesOfOrder`. */
export function orderOfDegrees(inputDegrees: number[]): number[] {
  const order = new Array<number>(inputDegrees.length);
  inputDegrees.forEach((d, i) => (order[d - 1] = i));
  return order;
}

/** 'natural' is x_0, x_1, ... (raster scan for images); 'random' a uniform random permutation. */
export type Ordering = 'natural' | 'random' | number[];

/** An ordering of `inputDim` inputs: the natural one, a random one, or the given permutation. */
export function resolveOrdering(ordering: Ordering, inputDim: number): number[] {
  checkDim(inputDim);
  if (ordering === 'natural') return Array.from({ length: inputDim }, (_, i) => i);
  if (ordering === 'random') return Array.from(permutation(inputDim));
  if (Array.isArray(ordering)) {
    degreesOfOrder(ordering, inputDim);
    return [...ordering];
  }
  throw new Error(
    `MADE: ordering must be 'natural', 'random' or a permutation of 0..${inputDim - 1}, got ` +
      `${JSON.stringify(ordering)}`,
  );
}

/**
 * Degrees for an ordering and hidden layer sizes; hidden degrees are drawn uniformly from [smallest
 * degree below, D - 1] with the kit's generator (so the same seed gives the same masks).
 */
export function drawDegrees(order: number[], hidden: number[]): MadeDegrees {
  const input = degreesOfOrder(order, order.length);
  const d = order.length;
  const layers: number[][] = [];
  let below = 1;
  for (const [l, size] of hidden.entries()) {
    if (!Number.isInteger(size) || size < 1)
      throw new Error(`MADE: hidden[${l}] must be a positive integer, got ${size}`);
    const layer = Array.from({ length: size }, () => below + Math.floor(random() * (d - below)));
    below = Math.min(...layer);
    layers.push(layer);
  }
  return { input, hidden: layers };
}

/**
 * The mask [in, out] (row-major, 1 = connected) between units of degrees `from` and `to`: a hidden
 * unit sees degree <= its own, an output (`strict`) sees degree < its own.
 */
export function maskMatrix(from: number[], to: number[], strict: boolean): Float32Array {
  const mask = new Float32Array(from.length * to.length);
  for (let i = 0; i < from.length; i++)
    for (let j = 0; j < to.length; j++)
      mask[i * to.length + j] = (strict ? to[j] > from[i] : to[j] >= from[i]) ? 1 : 0;
  return mask;
}
