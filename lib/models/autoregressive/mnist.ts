/**
 * The MADE that notebook 13 trains on binarized MNIST and the leaderboard scores: one hidden layer
 * of 500 ReLUs as in Germain et al.'s one-layer model, plus masked direct connections from the
 * inputs to the outputs (a logistic autoregressive model beside the hidden layer), in the raster
 * order; Adam 1e-3, batches of 100, the output bias started at the pixel log-odds.
 */
import { MadeConfig } from './made';

export const MNIST_MADE: {
  model: Partial<MadeConfig> & Pick<MadeConfig, 'inputDim' | 'hidden'>;
  epochs: number;
} = {
  model: { inputDim: 784, hidden: [500], directConnections: true },
  epochs: 40,
};
