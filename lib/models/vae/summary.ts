/**
 * What a VAE's networks look like, for a notebook to state beside another model: the shapes an
 * image takes through the encoder (the decoder mirrors them) and the number of trained parameters.
 */
import { halvedMapSize } from '../../nn';
import { VAE, VaeConfig, vaeConfig } from './vae';

/**
 * The shape of one image at each stage of the encoder, from the config: for the MLP [inputDim],
 * each hidden width, [latentDim]; for the conv networks [h, w, c] of the image and of each stride-2
 * convolution's map, then [latentDim] (the mean and log-variance heads each have this shape).
 */
export function encoderShapes(options: Partial<VaeConfig>): number[][] {
  const config = vaeConfig(options);
  if (config.architecture !== 'conv')
    return [[config.inputDim], ...config.hidden.map((width) => [width]), [config.latentDim]];
  const image = config.imageShape!;
  const maps = config.channels!.map((c, i) => [...halvedMapSize(image, i + 1, 'encoderShapes'), c]);
  return [[...image], ...maps, [config.latentDim]];
}

/** Number of trained values (weights and biases) of a model's encoder and decoder. */
export function parameterCount(model: VAE): number {
  return Object.values(model.namedVariables()).reduce((sum, v) => sum + v.size, 0);
}
