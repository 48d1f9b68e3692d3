/**
 * Saving and loading a trained MADE with its masks, Adam state and history through the kit's
 * atomic checkpoints, and `trainOrLoadMade`: a notebook trains a model once and reuses it, and
 * training continues exactly where it stopped.
 */
import * as tf from '@tensorflow/tfjs';
import { fingerprint } from '../../data/binarized';
import { ImageDataset } from '../../data/mnist';
import { pixelLogits } from '../../data/pixels';
import {
  checkArray,
  checkInteger,
  checkOneOf,
  checkOptions,
  checkPositive,
  checkRecord,
  OptionKeys,
} from '../../runtime/checks';
import { runLoop } from '../../runtime/loop';
import { generatorState, restoreGeneratorState } from '../../runtime/random';
import {
  checkSavedTrainer,
  hasCheckpoint,
  loadCheckpoint,
  modelDir,
  optimizerTensors,
  restoreTrainer,
  saveCheckpoint,
  savedConfig,
} from '../../training/checkpoint';
import { History, HistoryRow, historyRowsFromJson } from '../../training/history';
import { MADE, MadeConfig, madeConfig } from './made';
import { MadeDegrees } from './masks';
import { MadeFitOptions, MadeTrainer, MadeTrainerOptions } from './train';

/** How a saved MADE was trained: a saved model is reused only for the same recipe. */
export interface MadeRecipe {
  model: MadeConfig;
  learningRate: number;
  batchSize: number;
  /** How the training images were binarized ('none': used as they are). */
  binarize: 'none' | 'dynamic';
  /** `data.fingerprint` of the training images. */
  train: string;
  /** Whether the output bias started at the training images' pixel log-odds. */
  outputBiasFromData: boolean;
}

/** What `config.json` of a saved MADE holds. */
export interface SavedMadeConfig {
  kind: 'made';
  recipe: MadeRecipe;
  degrees: MadeDegrees[];
  epochsDone: number;
  optimizerWeights: string[];
  history: HistoryRow[];
}

/** Checks a saved MADE's config.json field by field (the degrees are checked by the model). */
function readSavedMade(raw: unknown): SavedMadeConfig {
  const who = 'saved MADE';
  const c = savedConfig(raw, 'made');
  const r = checkRecord(who, 'recipe', c.recipe);
  const model = madeConfig(checkRecord(who, 'recipe.model', r.model) as unknown as MadeConfig);
  checkPositive(who, 'recipe.learningRate', r.learningRate);
  checkInteger(who, 'recipe.batchSize', r.batchSize);
  checkOneOf(who, 'recipe.binarize', r.binarize, ['none', 'dynamic']);
  if (typeof r.train !== 'string') throw new Error(`${who}: recipe.train must be a fingerprint`);
  if (typeof r.outputBiasFromData !== 'boolean')
    throw new Error(`${who}: recipe.outputBiasFromData must be true or false`);
  checkArray(who, 'degrees', c.degrees, (d) => typeof d === 'object' && d !== null, 'an object');
  checkSavedTrainer(who, c);
  return {
    ...(c as unknown as SavedMadeConfig),
    recipe: { ...(r as unknown as MadeRecipe), model },
    history: historyRowsFromJson(who, 'history', c.history),
  };
}

/** Saves weights, masks, Adam state, epochs done, recipe and history rows to `dir` (atomically). */
export async function saveMade(
  dir: string,
  trainer: MadeTrainer,
  recipe: MadeRecipe,
  history?: History,
): Promise<void> {
  const optimizer = await optimizerTensors(trainer.optimizer);
  const config: SavedMadeConfig = {
    kind: 'made',
    recipe,
    degrees: trainer.model.degrees,
    epochsDone: trainer.epochsDone,
    optimizerWeights: optimizer.names,
    history: history ? history.rows : [],
  };
  try {
    saveCheckpoint(dir, config, { ...trainer.model.namedVariables(), ...optimizer.tensors });
  } finally {
    optimizer.dispose();
  }
}

/** Loads a MADE saved by `saveMade`, with a trainer that continues the saved run. */
export async function loadMade(
  dir: string,
): Promise<{ model: MADE; trainer: MadeTrainer; recipe: MadeRecipe; history: HistoryRow[] }> {
  const { config, tensors } = loadCheckpoint(dir, readSavedMade);
  // The new model's random weights are overwritten: putting the kit's random stream back makes
  // loading draw nothing, so a run that loads gives the same later numbers as one that trains.
  const stream = generatorState();
  let model: MADE | undefined;
  try {
    model = new MADE(config.recipe.model, { degrees: config.degrees });
  } catch (err) {
    tf.dispose(Object.values(tensors));
    throw new Error(`${dir}: the saved model is not a valid MADE (${(err as Error).message})`, {
      cause: err,
    });
  }
  if (stream) restoreGeneratorState(stream);
  const { learningRate, batchSize } = config.recipe;
  const trainer = new MadeTrainer(model, { learningRate, batchSize });
  await restoreTrainer(trainer, tensors, config, dir);
  return { model, trainer, recipe: config.recipe, history: config.history };
}

export interface TrainOrLoadMadeOptions extends MadeTrainerOptions, MadeFitOptions {
  /** Saved-model name under build/models/ (omit to train without saving). */
  name?: string;
  /** Folder to use instead of build/models/<name>. */
  dir?: string;
  model: Partial<MadeConfig> & Pick<MadeConfig, 'inputDim' | 'hidden'>;
  train: ImageDataset;
  /**
   * Start a new model's output bias at the pixel log-odds of `train` (default true), so the
   * untrained model is the independent-pixel model.
   */
  outputBiasFromData?: boolean;
}

const TRAIN_OR_LOAD_KEYS: OptionKeys<TrainOrLoadMadeOptions> = {
  name: true,
  dir: true,
  model: true,
  train: true,
  outputBiasFromData: true,
  learningRate: true,
  batchSize: true,
  epochs: true,
  test: true,
  binarize: true,
  history: true,
  progress: true,
};

/**
 * Loads the MADE saved under `name` if it was trained by the same recipe (model, optimizer,
 * training images and their binarization, start); with fewer epochs than asked, training continues.
 * Otherwise trains a new model. The model is saved under `name` after every epoch, so an
 * interrupted run (`interrupted`) continues from its last completed epoch when the cell runs
 * again. Either way `options.history` ends up holding the model's history rows (and only those).
 */
export async function trainOrLoadMade(
  options: TrainOrLoadMadeOptions,
): Promise<{ model: MADE; trainer: MadeTrainer; loaded: boolean; interrupted: boolean }> {
  checkOptions('trainOrLoadMade', options, TRAIN_OR_LOAD_KEYS);
  const dir = options.dir ?? (options.name ? modelDir(options.name) : undefined);
  // The model's own rows: rows of an earlier call (the same cell run again) must not pile up.
  const history = options.history ?? new History();
  history.clear();
  const recipe: MadeRecipe = {
    model: madeConfig(options.model),
    learningRate: options.learningRate ?? 1e-3,
    batchSize: options.batchSize ?? 100,
    binarize: options.binarize ?? 'none',
    train: fingerprint(options.train),
    outputBiasFromData: options.outputBiasFromData !== false,
  };
  const { test, binarize, progress } = options;
  const trainEpochs = (trainer: MadeTrainer, epochs: number): Promise<boolean> =>
    runLoop(
      'MADE training',
      async () => {
        for (let e = 0; e < epochs; e++) {
          const fit = await trainer.fit(options.train, {
            epochs: 1,
            test,
            binarize,
            progress,
            history,
          });
          if (fit.interrupted) return true;
          if (dir) await saveMade(dir, trainer, recipe, history);
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
    const saved = await loadMade(dir);
    if (JSON.stringify(saved.recipe) === JSON.stringify(recipe)) {
      for (const row of saved.history) history.push(row);
      const remaining = options.epochs - saved.trainer.epochsDone;
      console.log(
        `loaded the MADE saved in ${dir} (${saved.trainer.epochsDone} epochs` +
          `${remaining > 0 ? `; training ${remaining} more` : ''}; delete the folder to retrain)`,
      );
      const interrupted = remaining > 0 && (await trainEpochs(saved.trainer, remaining));
      return { model: saved.model, trainer: saved.trainer, loaded: true, interrupted };
    }
    console.log(`${dir} holds a MADE trained otherwise: training a new one (it will be replaced)`);
    saved.trainer.dispose();
    saved.model.dispose();
  }
  const outputBias = recipe.outputBiasFromData
    ? pixelLogits(options.train.images, options.train.pixels, 1e-3)
    : undefined;
  const model = new MADE(recipe.model, { outputBias });
  outputBias?.dispose();
  const trainer = new MadeTrainer(model, {
    learningRate: recipe.learningRate,
    batchSize: recipe.batchSize,
  });
  const interrupted = await trainEpochs(trainer, options.epochs);
  return { model, trainer, loaded: false, interrupted };
}
