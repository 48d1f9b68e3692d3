/**
 * The MADE and the PixelCNN that notebook 13 trains on binarized MNIST and the leaderboard scores.
 *
 * The MADE that notebook 13 trains on binarized MNIST and the leaderboard scores: one hidden layer
 * of 500 ReLUs as in Germain et al.'s one-layer model, plus masked direct connections from the
 * inputs to the outputs (a logistic autoregressive model beside the hidden layer), in the raster
 * order; Adam 1e-3, batches of 100, the output bias started at the pixel log-odds.
 */
import { ImageDataset } from '../../data/mnist';
import { withSeed } from '../../runtime/random';
import { modelDir } from '../../training/checkpoint';
import { trainOrLoadMade, trainOrLoadPixelCnn } from './checkpoint';
import { MADE, MadeConfig } from './made';
import { PixelCNN, PixelCnnOptions } from './pixelcnn';
import { MadeFitOptions, MadeTrainer, PixelCnnTrainer } from './train';

export const MNIST_MADE: {
  model: Partial<MadeConfig> & Pick<MadeConfig, 'inputDim' | 'hidden'>;
  epochs: number;
  seed: number;
} = {
  model: { inputDim: 784, hidden: [500], directConnections: true },
  epochs: 40,
  seed: 8,
};

/**
 * Trains MNIST_MADE on `train` (binarized images) from the kit's seed 8, or loads it from its
 * folder `dir`, build/models/made-500-direct-<images>: notebook 13 and the leaderboard share it.
 * The caller's random stream is left as it was (runtime.withSeed), so what is drawn after this
 * call is the same whether the model was trained or loaded.
 */
export async function trainOrLoadMnistMade(
  train: ImageDataset,
  options: Omit<MadeFitOptions, 'binarize'>,
): Promise<{
  model: MADE;
  trainer: MadeTrainer;
  loaded: boolean;
  interrupted: boolean;
  dir: string;
}> {
  const dir = modelDir(`made-500-direct-${train.size}`);
  const made = await withSeed(MNIST_MADE.seed, () =>
    trainOrLoadMade({ ...options, dir, model: MNIST_MADE.model, train }),
  );
  return { ...made, dir };
}

/**
 * The PixelCNN of notebook 13: a 7x7 type-A layer and 4 residual blocks of 3x3 type-B convolutions
 * with 32 feature maps (sized so that an epoch of 60,000 images takes minutes on two cores), Adam
 * 1e-3, batches of 100.
 */
export const MNIST_PIXELCNN: { model: PixelCnnOptions; epochs: number; seed: number } = {
  model: { imageShape: [28, 28], channels: 32, residualBlocks: 4, firstKernel: 7, kernel: 3 },
  epochs: 4,
  seed: 9,
};

/**
 * Trains MNIST_PIXELCNN on `train` (binarized images) from the kit's seed 9, or loads it from its
 * folder build/models/pixelcnn-32x4-<images>, leaving the caller's random stream as it was.
 */
export async function trainOrLoadMnistPixelCnn(
  train: ImageDataset,
  options: Omit<MadeFitOptions, 'binarize'>,
): Promise<{
  model: PixelCNN;
  trainer: PixelCnnTrainer;
  loaded: boolean;
  interrupted: boolean;
  dir: string;
}> {
  const dir = modelDir(`pixelcnn-32x4-${train.size}`);
  const trained = await withSeed(MNIST_PIXELCNN.seed, () =>
    trainOrLoadPixelCnn({ ...options, dir, model: MNIST_PIXELCNN.model, train }),
  );
  return { ...trained, dir };
}
