/** Input checks shared by the energy-based models. */
import * as tf from '@tensorflow/tfjs';

/** Throws unless `x` is a [n, dim] tensor (any dim when undefined). */
export function checkPoints(caller: string, x: tf.Tensor, dim?: number): void {
  if (!(x instanceof tf.Tensor) || x.rank !== 2 || (dim !== undefined && x.shape[1] !== dim)) {
    const got = x instanceof tf.Tensor ? `[${x.shape.join(', ')}]` : typeof x;
    throw new Error(`${caller}: expected points [n, ${dim ?? 'd'}], got ${got}`);
  }
}

/** Throws unless every value of `x` is finite (reads the values: for inputs, not inner loops). */
export function checkFinite(caller: string, x: tf.Tensor): void {
  const values = x.dataSync();
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0)
    throw new Error(`${caller}: value ${bad} is ${values[bad]}; every value must be finite`);
}

/** Throws on an option name outside `known` (a misspelled option would otherwise do nothing). */
export function checkOptionNames(caller: string, options: object, known: string[]): void {
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length > 0)
    throw new Error(
      `${caller}: unknown option '${unknown[0]}'; the options are ${known.join(', ')}`,
    );
}
