/**
 * Saving and loading a trained VAE with its optimizer state and training history, through the kit's
 * atomic checkpoints (`training.saveCheckpoint`): a notebook reuses a model trained earlier, and
 * training can continue exactly where it stopped.
 */
import * as tf from '@tensorflow/tfjs';
import { ImageDataset } from '../../data/mnist';
import { pixelLogits } from '../../data/pixels';
import { runLoop } from '../../runtime/loop';
import { generatorState, restoreGeneratorState, withSeed } from '../../runtime/random';
import {
  checkInteger,
  checkOptions,
  checkPositive,
  checkRecord,
  OptionKeys,
} from '../../runtime/checks';
import {
  checkSavedTrainer,
  hasCheckpoint,
  loadCheckpoint,
  modelDir,
  optimizerTensors,
  restoreTrainer,
  saveCheckpoint,
  savedConfig,
  WriteFile,
} from '../../training/checkpoint';
import { History, HistoryRow, historyRowsFromJson } from '../../training/history';
import { FitOptions, TrainerOptions, VaeTrainer } from './train';
import { VAE, VaeConfig, vaeConfig } from './vae';

/** What `config.json` of a saved VAE holds. */
export interface SavedVaeConfig {
  kind: 'vae';
  model: VaeConfig;
  learningRate: number;
  batchSize: number;
  epochsDone: number;
  /** Names of the optimizer tensors, in the optimizer's order. */
  optimizerWeights: string[];
  history: HistoryRow[];
  /**
   * Whether the decoder's output bias started at the training data's pixel log-odds (absent in
   * older saves: false).
   */
  outputBiasFromData?: boolean;
  /** Seed of the training's random draws (absent in older saves: their draws were the caller's). */
  seed?: number;
}

/** Checks a saved VAE's config.json field by field. */
function readSavedVae(raw: unknown): SavedVaeConfig {
  const who = 'saved VAE';
  const c = savedConfig(raw, 'vae');
  const model = vaeConfig(checkRecord(who, 'model', c.model) as Partial<VaeConfig>);
  checkPositive(who, 'learningRate', c.learningRate);
  checkInteger(who, 'batchSize', c.batchSize);
  checkSavedTrainer(who, c);
  if (c.outputBiasFromData !== undefined && typeof c.outputBiasFromData !== 'boolean')
    throw new Error(`${who}: outputBiasFromData must be true or false`);
  if (c.seed !== undefined) checkInteger(who, 'seed', c.seed, 0);
  return {
    ...(c as unknown as SavedVaeConfig),
    model,
    history: historyRowsFromJson(who, 'history', c.history),
  };
}

export interface SaveVaeOptions {
  /** The run's history rows, saved with the model. */
  history?: History;
  /**
   * Record that the decoder's output bias started at the data's pixel log-odds (default false:
   * PyTorch's start).
   */
  outputBiasFromData?: boolean;
  /** Record the seed the training drew its random numbers from (see trainOrLoad). */
  seed?: number;
  /** Writes one file; tests inject failures through it. */
  writeFile?: WriteFile;
}

/**
 * Saves model weights, Adam state, epochs done, history rows and how the run started to `dir`
 * (atomically).
 */
export async function saveVae(
  dir: string,
  trainer: VaeTrainer,
  options: SaveVaeOptions = {},
): Promise<void> {
  checkOptions('saveVae', options, {
    history: true,
    outputBiasFromData: true,
    seed: true,
    writeFile: true,
  });
  const optimizer = await optimizerTensors(trainer.optimizer);
  const config: SavedVaeConfig = {
    kind: 'vae',
    model: trainer.model.config,
    learningRate: trainer.learningRate,
    batchSize: trainer.batchSize,
    epochsDone: trainer.epochsDone,
    optimizerWeights: optimizer.names,
    history: options.history ? options.history.rows : [],
    outputBiasFromData: options.outputBiasFromData ?? false,
    seed: options.seed,
  };
  try {
    saveCheckpoint(
      dir,
      config,
      { ...trainer.model.namedVariables(), ...optimizer.tensors },
      options.writeFile,
    );
  } finally {
    optimizer.dispose();
  }
}

/**
 * Loads a VAE saved by `saveVae`: the model, a trainer whose Adam state continues the saved run,
 * the history rows, and whether the run started from the data's pixel log-odds.
 */
export async function loadVae(dir: string): Promise<{
  model: VAE;
  trainer: VaeTrainer;
  history: HistoryRow[];
  outputBiasFromData: boolean;
  seed: number | undefined;
}> {
  const { config, tensors } = loadCheckpoint(dir, readSavedVae);
  // The model's random initial weights are overwritten below: putting the kit's random stream back
  // makes loading draw nothing, so a run that finds a stale save and retrains gives the same
  // numbers as a fresh one.
  const stream = generatorState();
  const model = new VAE(config.model);
  if (stream) restoreGeneratorState(stream);
  const trainer = new VaeTrainer(model, {
    learningRate: config.learningRate,
    batchSize: config.batchSize,
  });
  await restoreTrainer(trainer, tensors, config, dir);
  return {
    model,
    trainer,
    history: config.history,
    outputBiasFromData: config.outputBiasFromData ?? false,
    seed: config.seed,
  };
}

export interface TrainOrLoadOptions extends TrainerOptions, FitOptions {
  /** Saved-model name under build/models/ (omit to train without saving, as in quick mode). */
  name?: string;
  /** Folder to use instead of build/models/<name>. */
  dir?: string;
  model: Partial<VaeConfig>;
  train: ImageDataset;
  /**
   * Start a new model's decoder at the independent-pixel model of `train` (default true): its
   * output bias becomes the log-odds of the mean training pixel (see `outputBiasFromData`). False
   * keeps PyTorch's default initialization throughout, as in the reference script.
   */
  outputBiasFromData?: boolean;
  /** Seed of the training's random draws (default 0; see trainOrLoad). */
  seed?: number;
}

const TRAIN_OR_LOAD_KEYS: OptionKeys<TrainOrLoadOptions> = {
  name: true,
  dir: true,
  model: true,
  train: true,
  outputBiasFromData: true,
  learningRate: true,
  batchSize: true,
  epochs: true,
  test: true,
  history: true,
  progress: true,
  seed: true,
};

/**
 * The decoder output bias that makes an untrained VAE decode every z to (nearly) the mean image of
 * `train`: logit of the pixel means, smoothed by 1e-3 so never-inked border pixels start at logit
 * -6.9, not -infinity.
 */
export function outputBiasFromData(train: ImageDataset): tf.Tensor1D {
  return pixelLogits(train.images, train.pixels, 1e-3);
}

/**
 * Loads the model saved under `name` if there is one with the same configuration (model, learning
 * rate, batch size, start of the output bias, seed); if it has fewer epochs than asked, training
 * continues from where it stopped (weights and Adam state). Without a saved model it trains from
 * scratch. The model is saved after every epoch, so an interrupted run continues from its last
 * completed epoch when the cell runs again. Either way `options.history` ends up holding the
 * model's history rows (and only those). Initialization and training draw their random numbers
 * from `seed`, not from the caller's stream, which they leave as it was: the model is the same
 * whichever notebook trains it first, and the cells after this call draw the same numbers whether
 * it trained or loaded.
 */
export async function trainOrLoad(
  options: TrainOrLoadOptions,
): Promise<{ model: VAE; trainer: VaeTrainer; loaded: boolean; interrupted: boolean }> {
  checkOptions('trainOrLoad', options, TRAIN_OR_LOAD_KEYS);
  const dir = options.dir ?? (options.name ? modelDir(options.name) : undefined);
  // The model's own rows: rows of an earlier call (the same cell run again) must not pile up.
  const history = options.history ?? new History();
  history.clear();
  const config = vaeConfig(options.model);
  const learningRate = options.learningRate ?? 1e-3;
  const batchSize = options.batchSize ?? 128;
  const fromData = options.outputBiasFromData !== false;
  const seed = options.seed ?? 0;
  checkInteger('trainOrLoad', 'seed', seed, 0);
  const { test, progress } = options;
  const trainEpochs = (trainer: VaeTrainer, epochs: number): Promise<boolean> =>
    runLoop(
      'VAE training',
      async () => {
        for (let e = 0; e < epochs; e++) {
          const fit = await trainer.fit(options.train, { epochs: 1, test, progress, history });
          if (fit.interrupted) return true;
          if (dir) await saveVae(dir, trainer, { history, outputBiasFromData: fromData, seed });
        }
        return false;
      },
      {
        then: dir
          ? `completed epochs are saved in ${dir}, and running the cell again continues from ` +
            `the last one`
          : 'running the cell again trains from the start',
      },
    );
  if (dir && hasCheckpoint(dir)) {
    const saved = await loadVae(dir);
    const same =
      JSON.stringify(saved.model.config) === JSON.stringify(config) &&
      saved.trainer.learningRate === learningRate &&
      saved.trainer.batchSize === batchSize &&
      saved.outputBiasFromData === fromData &&
      saved.seed === seed;
    if (same) {
      for (const row of saved.history) history.push(row);
      const remaining = options.epochs - saved.trainer.epochsDone;
      console.log(
        `loaded the model saved in ${dir} (${saved.trainer.epochsDone} ` +
          `epochs${remaining > 0 ? `; training ${remaining} more` : ''}; delete the folder to ` +
          `retrain)`,
      );
      const interrupted =
        remaining > 0 && (await withSeed(seed, () => trainEpochs(saved.trainer, remaining)));
      return { model: saved.model, trainer: saved.trainer, loaded: true, interrupted };
    }
    console.log(
      `${dir} holds a different configuration: training a new model (it will be replaced)`,
    );
    saved.trainer.dispose();
    saved.model.dispose();
  }
  return withSeed(seed, async () => {
    const outputBias = fromData ? outputBiasFromData(options.train) : undefined;
    const model = new VAE(config, { outputBias });
    outputBias?.dispose();
    const trainer = new VaeTrainer(model, { learningRate, batchSize });
    const interrupted = await trainEpochs(trainer, options.epochs);
    return { model, trainer, loaded: false, interrupted };
  });
}
