/**
 * The kit's likelihood leaderboard on binarized MNIST (`data.loadBinarizedMnist`): one entry per
 * row, each training (or loading from build/models) its model on the kit's binarized training
 * images and scoring it on the test images it is given, with the estimator its family allows. To
 * add a row, add one entry to the list of `mnistLeaderboard`.
 *
 * Every model is trained on the same binarized training images (the first `trainImages` of them)
 * and every stochastic step is seeded, so a rerun on a fresh clone gives the same numbers.
 */
import * as tf from '@tensorflow/tfjs';
import { fingerprint, loadBinarizedMnist } from '../data/binarized';
import { ImageDataset } from '../data/mnist';
import { pixelLogits } from '../data/pixels';
import {
  ExactBinaryModel,
  logLikelihoodOf as exactLogLikelihoodOf,
  MNIST_MADE,
  MNIST_PIXELCNN,
  trainOrLoadMnistMade,
  trainOrLoadMnistPixelCnn,
} from '../models/autoregressive';
import { annealedImportanceSampling, RbmRecipe, trainOrLoadRbm } from '../models/boltzmann';
import { BernoulliMixture } from '../models/gmm/bernoulli-mixture';
import { importanceWeightedLogLikelihoodOf, LECTURE_CONFIG, trainOrLoad, VAE } from '../models/vae';
import { progress } from '../runtime/progress';
import { quick } from '../runtime/quick';
import { seed } from '../runtime/random';
import { checkNonNegative, checkRecord } from '../runtime/checks';
import {
  CheckpointError,
  hasCheckpoint,
  loadCheckpoint,
  modelDir,
  saveCheckpoint,
  savedConfig,
} from '../training/checkpoint';
import { History } from '../training/history';
import { cachedScore, LeaderboardEntry, scoreOf } from './leaderboard';
import { logLikelihoodOfImages, summarizePerImage } from './likelihood';

/** Sizes of the leaderboard's runs: the lecture-scale ones, or small ones for quick mode. */
export interface MnistLeaderboardSizes {
  /** Training images of every model (the first of the binarized training set). */
  trainImages: number;
  mixtureComponents: number;
  emIterations: number;
  rbmEpochs: number;
  aisRuns: number;
  aisTemperatures: number;
  vaeEpochs: number;
  iwaeSamples: number;
  madeEpochs: number;
  pixelCnnEpochs: number;
}

export const MNIST_LEADERBOARD_SIZES: MnistLeaderboardSizes = {
  trainImages: 60000,
  mixtureComponents: 100,
  emIterations: 40,
  rbmEpochs: 20,
  aisRuns: 100,
  aisTemperatures: 14500,
  vaeEpochs: 30,
  iwaeSamples: 5000,
  madeEpochs: MNIST_MADE.epochs,
  pixelCnnEpochs: MNIST_PIXELCNN.epochs,
};

export const QUICK_MNIST_LEADERBOARD_SIZES: MnistLeaderboardSizes = {
  trainImages: 2000,
  mixtureComponents: 20,
  emIterations: 8,
  rbmEpochs: 2,
  aisRuns: 20,
  aisTemperatures: 300,
  vaeEpochs: 2,
  iwaeSamples: 50,
  madeEpochs: 2,
  pixelCnnEpochs: 1,
};

/** Seconds of training recorded in a history (its 'train seconds' column). */
function trainingSeconds(history: History): number {
  return history.column('train seconds').reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
}

/** The kit's training images for the leaderboard, binarized like the test images. */
function trainingImages(sizes: MnistLeaderboardSizes): ImageDataset {
  return loadBinarizedMnist('train', { limit: sizes.trainImages });
}

/**
 * A mixture of Bernoullis fitted by EM, saved under `dir`, or loaded when fitted by `recipe`. A fit
 * stopped by an interrupt is not saved.
 */
async function trainOrLoadMixture(
  dir: string,
  train: ImageDataset,
  recipe: { components: number; iterations: number; seed: number; train: string },
): Promise<{ model: BernoulliMixture; seconds: number }> {
  if (hasCheckpoint(dir)) {
    const saved = loadCheckpoint(dir, (raw) => {
      const config = savedConfig(raw, 'bernoulli-mixture');
      checkRecord('saved mixture', 'recipe', config.recipe);
      checkNonNegative('saved mixture', 'seconds', config.seconds);
      return config as unknown as { recipe: typeof recipe; seconds: number };
    });
    if (!saved.tensors.logWeights || saved.tensors.probs?.rank !== 2) {
      tf.dispose(Object.values(saved.tensors));
      throw new CheckpointError(dir, 'weights.bin lacks the tensors logWeights and probs [K, D]');
    }
    if (JSON.stringify(saved.config.recipe) === JSON.stringify(recipe)) {
      const model = new BernoulliMixture(
        saved.tensors.logWeights as tf.Tensor1D,
        saved.tensors.probs as tf.Tensor2D,
      );
      return { model, seconds: saved.config.seconds };
    }
    tf.dispose(Object.values(saved.tensors));
  }
  seed(recipe.seed);
  const started = Date.now();
  const { model, interrupted } = await BernoulliMixture.fit(train, recipe.components, {
    iterations: recipe.iterations,
  });
  const seconds = (Date.now() - started) / 1000;
  const config = { kind: 'bernoulli-mixture', recipe, seconds };
  if (!interrupted)
    saveCheckpoint(dir, config, { logWeights: model.logWeights, probs: model.probs });
  return { model, seconds };
}

function mixtureEntry(sizes: MnistLeaderboardSizes): LeaderboardEntry {
  const k = sizes.mixtureComponents;
  return {
    model: `mixture of ${k} Bernoullis (EM, ${sizes.emIterations} iterations)`,
    estimator: 'exact',
    kind: 'exact',
    literature: [{ logLikelihood: -137.64, source: 'Salakhutdinov & Hinton 2009, 500 components' }],
    score: async (test) => {
      const train = trainingImages(sizes);
      const dir = modelDir(`leaderboard-bernoulli-mixture-${k}-${train.size}`);
      const recipe = {
        components: k,
        iterations: sizes.emIterations,
        seed: 1,
        train: fingerprint(train),
      };
      const { model, seconds } = await trainOrLoadMixture(dir, train, recipe);
      try {
        return await cachedScore(dir, { estimator: 'exact' }, test, () =>
          scoreOf(
            test,
            logLikelihoodOfImages(test, (x) => model.logProb(x)),
            {
              trainSeconds: seconds,
            },
          ),
        );
      } finally {
        model.dispose();
      }
    },
  };
}

/** Notebook 07's PCD recipe: 500 hidden units, learning rate 0.03 decaying to 0, momentum 0.5. */
function rbmRecipe(sizes: MnistLeaderboardSizes): RbmRecipe {
  return {
    hidden: 500,
    fit: {
      epochs: sizes.rbmEpochs,
      k: 1,
      persistent: true,
      chains: 100,
      learningRate: 0.03,
      weightDecay: 2e-4,
      linearDecay: true,
      finalMomentum: 0.5,
    },
    seed: 3,
    images: sizes.trainImages,
  };
}

function rbmEntry(sizes: MnistLeaderboardSizes): LeaderboardEntry {
  const { aisRuns: runs, aisTemperatures: temperatures } = sizes;
  return {
    model: `RBM, 500 hidden units, PCD (${sizes.rbmEpochs} epochs)`,
    estimator: `AIS, ${runs} runs × ${temperatures.toLocaleString('en-US')} temperatures`,
    kind: 'estimate',
    literature: [{ logLikelihood: -86.34, source: 'Salakhutdinov & Murray 2008, CD-25' }],
    score: async (test) => {
      const train = trainingImages(sizes);
      const dir = modelDir(`leaderboard-rbm-pcd-500-${train.size}`);
      const trained = await trainOrLoadRbm(dir, train.images, train.pixels, rbmRecipe(sizes));
      try {
        return await cachedScore(dir, { estimator: 'AIS', runs, temperatures }, test, async () => {
          seed(4);
          const base = pixelLogits(train.images, train.pixels);
          const bar = progress(Math.ceil(temperatures / 100), { label: 'AIS (RBM)' });
          const ais = await annealedImportanceSampling(trained.rbm, {
            runs,
            betas: temperatures,
            baseVisibleBias: base,
            onProgress: (k) => k % 100 === 0 && bar.tick(),
          });
          bar.done();
          base.dispose();
          const values = logLikelihoodOfImages(test, (x) =>
            trained.rbm.logProbability(x, ais.logZ),
          );
          // An error in log Z shifts every image alike: it adds to the spread over images.
          const standardError = Math.hypot(values.standardError, ais.logZStdError);
          return scoreOf(test, values, {
            standardError,
            errorSource: `AIS log Z (± ${ais.logZStdError.toFixed(2)}) and test images`,
            trainSeconds: trained.seconds,
          });
        });
      } finally {
        trained.rbm.dispose();
      }
    },
  };
}

/** The lecture's VAE (784-400-20) trained on the binarized training images, cached. */
async function binarizedVae(sizes: MnistLeaderboardSizes): Promise<{
  model: VAE;
  dir: string;
  trainSeconds: number;
  dispose: () => void;
}> {
  const train = trainingImages(sizes);
  const name = `leaderboard-vae-binarized-${train.size}`;
  seed(5);
  const history = new History();
  const { model, trainer } = await trainOrLoad({
    name,
    model: LECTURE_CONFIG,
    train,
    epochs: sizes.vaeEpochs,
    history,
  });
  return {
    model,
    dir: modelDir(name),
    trainSeconds: trainingSeconds(history),
    dispose: () => {
      trainer.dispose();
      model.dispose();
    },
  };
}

function vaeEntries(sizes: MnistLeaderboardSizes): LeaderboardEntry[] {
  const model = `VAE 784-400-20, Bernoulli decoder (${sizes.vaeEpochs} epochs)`;
  const k = sizes.iwaeSamples;
  return [
    {
      model,
      estimator: 'ELBO, one sample of z per image',
      kind: 'lower bound',
      literature: [],
      score: async (test) => {
        const vae = await binarizedVae(sizes);
        try {
          return await cachedScore(vae.dir, { estimator: 'ELBO' }, test, () => {
            seed(6);
            const values = logLikelihoodOfImages(test, (x) =>
              tf.tidy(() => {
                const { reconstruction, kl } = vae.model.elboTerms(x);
                return tf.neg(tf.add(reconstruction, kl)) as tf.Tensor1D;
              }),
            );
            return scoreOf(test, values, {
              errorSource: 'over test images (one sample each)',
              trainSeconds: vae.trainSeconds,
            });
          });
        } finally {
          vae.dispose();
        }
      },
    },
    {
      model,
      estimator: `IWAE bound, K = ${k.toLocaleString('en-US')}`,
      kind: 'lower bound',
      literature: [
        {
          logLikelihood: -86.76,
          source: 'Burda et al. 2016, VAE with dynamic binarization, K = 5,000',
        },
        { logLikelihood: -84.78, source: 'the same trained as an IWAE, k = 50' },
      ],
      score: async (test) => {
        const vae = await binarizedVae(sizes);
        try {
          return await cachedScore(vae.dir, { estimator: 'IWAE', samples: k }, test, async () => {
            seed(7);
            const iwae = await importanceWeightedLogLikelihoodOf(vae.model, test, { samples: k });
            return scoreOf(test, summarizePerImage(iwae.perImage), {
              errorSource: 'over test images (K samples each)',
              trainSeconds: vae.trainSeconds,
            });
          });
        } finally {
          vae.dispose();
        }
      },
    },
  ];
}

/**
 * A row of an autoregressive model (exact log-likelihood): `trainOrLoad` trains or loads it on the
 * leaderboard's training images for `epochs`.
 */
function exactEntry(
  sizes: MnistLeaderboardSizes,
  row: Pick<LeaderboardEntry, 'model' | 'literature'>,
  epochs: number,
  trainOrLoad: (
    train: ImageDataset,
    options: { epochs: number; history: History },
  ) => Promise<{ model: ExactBinaryModel; trainer: { dispose(): void }; dir: string }>,
): LeaderboardEntry {
  return {
    ...row,
    model: `${row.model} (${epochs} epoch${epochs === 1 ? '' : 's'})`,
    estimator: 'exact',
    kind: 'exact',
    score: async (test) => {
      const history = new History();
      const { model, trainer, dir } = await trainOrLoad(trainingImages(sizes), {
        epochs,
        history,
      });
      try {
        return await cachedScore(dir, { estimator: 'exact' }, test, () =>
          scoreOf(test, exactLogLikelihoodOf(model, test), {
            trainSeconds: trainingSeconds(history),
          }),
        );
      } finally {
        trainer.dispose();
        model.dispose();
      }
    },
  };
}

function madeEntry(sizes: MnistLeaderboardSizes): LeaderboardEntry {
  const row = {
    model: 'MADE, 1 hidden layer of 500, direct connections',
    literature: [
      { logLikelihood: -88.04, source: 'Germain et al. 2015, 1 hidden layer, 32 masks' },
      { logLikelihood: -86.64, source: '2 hidden layers, 32 masks' },
      { logLikelihood: -88.86, source: 'NADE, Uria et al. 2016' },
    ],
  };
  return exactEntry(sizes, row, sizes.madeEpochs, trainOrLoadMnistMade);
}

function pixelCnnEntry(sizes: MnistLeaderboardSizes): LeaderboardEntry {
  const { channels, residualBlocks } = MNIST_PIXELCNN.model;
  const row = {
    model:
      `PixelCNN, 7x7 type A + ${residualBlocks} residual 3x3 type-B blocks, ${channels} ` +
      'channels',
    literature: [{ logLikelihood: -81.3, source: 'van den Oord et al. 2016' }],
  };
  return exactEntry(sizes, row, sizes.pixelCnnEpochs, trainOrLoadMnistPixelCnn);
}

/**
 * The leaderboard's rows, at lecture scale or (in quick mode, the default there) small: a mixture
 * of Bernoullis, an RBM with PCD, a VAE (ELBO and IWAE), MADE, PixelCNN, and the literature of the
 * deep Boltzmann machine, which the kit does not train yet.
 */
export function mnistLeaderboard(
  sizes: MnistLeaderboardSizes = quick() ? QUICK_MNIST_LEADERBOARD_SIZES : MNIST_LEADERBOARD_SIZES,
): LeaderboardEntry[] {
  return [
    mixtureEntry(sizes),
    rbmEntry(sizes),
    ...vaeEntries(sizes),
    madeEntry(sizes),
    pixelCnnEntry(sizes),
    {
      model: 'deep Boltzmann machine, 2 hidden layers',
      estimator: 'AIS',
      kind: 'estimate',
      literature: [{ logLikelihood: -84.62, source: 'Salakhutdinov & Hinton 2009' }],
    },
  ];
}
