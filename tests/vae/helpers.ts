import { models, tf, training } from 'genlab';

/**
 * Sets every variable of a model to values from `fill(name, index)` (deterministic tiny networks).
 */
export function setWeights(model: models.vae.VAE, fill: (name: string, i: number) => number): void {
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, v] of Object.entries(model.namedVariables())) {
    tensors[name] = tf.tensor(
      Float32Array.from({ length: v.size }, (_, i) => fill(name, i)),
      v.shape,
    );
  }
  training.assignVariables(model.namedVariables(), tensors);
  tf.dispose(Object.values(tensors));
}

/**
 * A dense layer in plain double-precision JavaScript: act(x W + b), W stored row-major [in, out].
 */
export function denseJs(
  x: number[],
  w: Float32Array,
  b: Float32Array,
  act: 'relu' | 'linear',
): number[] {
  const out = b.length;
  return Array.from({ length: out }, (_, j) => {
    let s = b[j];
    for (let i = 0; i < x.length; i++) s += x[i] * w[i * out + j];
    return act === 'relu' ? Math.max(0, s) : s;
  });
}

export const softplus = (v: number): number =>
  v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
