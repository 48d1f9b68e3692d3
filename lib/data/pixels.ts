/**
 * The independent-pixel Bernoulli model of a set of images: p_i = mean of pixel i over the images,
 * the maximum-likelihood fit of prod_i Bernoulli(x_i; p_i). Its logits log(p_i / (1 - p_i)) are the
 * natural starting point of any model whose output is a vector of Bernoulli logits: an RBM's
 * visible biases (Hinton's practical guide), the base model of AIS, a VAE decoder's output bias.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * logit of the smoothed pixel means of `images` [n * width], values in [0, 1]:
 *   p_i = (mean_i + smoothing) / (1 + 2 * smoothing),  logit_i = log(p_i / (1 - p_i)).
 * The smoothing keeps pixels that are always 0 (or always 1) finite: with smoothing s they get
 * logit ~ log(s) (resp. -log(s)).
 */
export function pixelLogits(images: Float32Array, width: number, smoothing = 0.05): tf.Tensor1D {
  if (!Number.isInteger(width) || width < 1)
    throw new Error(
      `pixelLogits: width must be a positive integer (pixels per image), got ${width}`,
    );
  if (!(smoothing > 0) || !Number.isFinite(smoothing))
    throw new Error(
      `pixelLogits: smoothing must be a positive number (0 would give infinite logits for ` +
        `never-inked pixels), got ${smoothing}`,
    );
  const n = images.length / width;
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`pixelLogits: ${images.length} values are not whole images of ${width} pixels`);
  const means = new Float32Array(width);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < width; i++) {
      const x = images[k * width + i];
      if (!(x >= 0 && x <= 1))
        throw new Error(
          `pixelLogits: image ${k}, pixel ${i} is ${x}; pixel values must lie in [0, 1] (divide ` +
            `raw bytes by 255)`,
        );
      means[i] += x;
    }
  }
  for (let i = 0; i < width; i++) {
    const p = (means[i] / n + smoothing) / (1 + 2 * smoothing);
    means[i] = Math.log(p / (1 - p));
  }
  return tf.tensor1d(means);
}
