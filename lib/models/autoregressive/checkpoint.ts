/**
 * Saving and loading a trained autoregressive model (MADE with its masks, PixelCNN) with its Adam
 * state and history through the kit's atomic checkpoints, and `trainOrLoadMade` /
 * `trainOrLoadPixelCnn`: a notebook trains a model once and reuses it, and training continues
 * exactly where it stopped.
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
import { AdamTrainerOptions } from '../../training/trainer';
import { MADE, MadeConfig, madeConfig } from './made';
import { MadeDegrees } from './masks';
import { PixelCNN, PixelCnnConfig, pixelCnnConfig, PixelCnnOptions } from './pixelcnn';
import {
  AutoregressiveFitOptions,
  AutoregressiveTrainer,
  ExactBinaryModel,
  MadeFitOptions,
  MadeTrainer,
  PixelCnnTrainer,
} from './train';

/** How a saved model was trained: a saved model is reused only for the same recipe. */
interface Recipe<C> {
  model: C;
  learningRate: number;
  batchSize: number;
  /** How the training images were binarized ('none': used as they are). */
  binarize: 'none' | 'dynamic';
  /** `data.fingerprint` of the training images. */
  train: string;
}

/** How a saved MADE was trained. */
export interface MadeRecipe extends Recipe<MadeConfig> {
  /** Whether the output bias started at the training images' pixel log-odds. */
  outputBiasFromData: boolean;
}

/** How a saved PixelCNN was trained. */
export type PixelCnnRecipe = Recipe<PixelCnnConfig>;

/** What `config.json` of a saved model holds (MADE adds its masks' degrees). */
interface SavedConfig<R> {
  kind: string;
  recipe: R;
  epochsDone: number;
  optimizerWeights: string[];
  history: HistoryRow[];
}

export interface SavedMadeConfig extends SavedConfig<MadeRecipe> {
  kind: 'made';
  degrees: MadeDegrees[];
}

export interface SavedPixelCnnConfig extends SavedConfig<PixelCnnRecipe> {
  kind: 'pixelcnn';
}

/** What differs between the families in a checkpoint. */
interface Family<M extends ExactBinaryModel, R extends Recipe<unknown>, S extends SavedConfig<R>> {
  kind: S['kind'];
  name: string;
  /** Checks the family's own fields of a saved config (recipe.model included) and returns it. */
  read(who: string, c: Record<string, unknown>, recipe: Record<string, unknown>): S;
  /** The family's own fields to save beside the recipe (MADE: degrees). */
  saved(model: M): Omit<S, keyof SavedConfig<R>>;
  /** The model of a saved config (its weights are then overwritten). */
  rebuild(saved: S): M;
  trainer(model: M, recipe: R): AutoregressiveTrainer<M>;
}

const MADE_FAMILY: Family<MADE, MadeRecipe, SavedMadeConfig> = {
  kind: 'made',
  name: 'MADE',
  read: (who, c, r) => {
    const model = madeConfig(checkRecord(who, 'recipe.model', r.model) as unknown as MadeConfig);
    if (typeof r.outputBiasFromData !== 'boolean')
      throw new Error(`${who}: recipe.outputBiasFromData must be true or false`);
    checkArray(who, 'degrees', c.degrees, (d) => typeof d === 'object' && d !== null, 'an object');
    return { ...(c as unknown as SavedMadeConfig), recipe: { ...(r as object), model } } as never;
  },
  saved: (model) => ({ degrees: model.degrees }),
  rebuild: (saved) => new MADE(saved.recipe.model, { degrees: saved.degrees }),
  trainer: (model, { learningRate, batchSize }) =>
    new MadeTrainer(model, { learningRate, batchSize }),
};

const PIXELCNN_FAMILY: Family<PixelCNN, PixelCnnRecipe, SavedPixelCnnConfig> = {
  kind: 'pixelcnn',
  name: 'PixelCNN',
  read: (who, c, r) => {
    const record = checkRecord(who, 'recipe.model', r.model) as unknown as PixelCnnConfig;
    const model = pixelCnnConfig(record);
    return {
      ...(c as unknown as SavedPixelCnnConfig),
      recipe: { ...(r as object), model },
    } as never;
  },
  saved: () => ({}),
  rebuild: (saved) => new PixelCNN(saved.recipe.model),
  trainer: (model, { learningRate, batchSize }) =>
    new PixelCnnTrainer(model, { learningRate, batchSize }),
};

/** Checks a saved model's config.json field by field. */
function readSaved<R extends Recipe<unknown>, S extends SavedConfig<R>>(
  family: Family<ExactBinaryModel, R, S>,
  raw: unknown,
): S {
  const who = `saved ${family.name}`;
  const c = savedConfig(raw, family.kind);
  const r = checkRecord(who, 'recipe', c.recipe);
  checkPositive(who, 'recipe.learningRate', r.learningRate);
  checkInteger(who, 'recipe.batchSize', r.batchSize);
  checkOneOf(who, 'recipe.binarize', r.binarize, ['none', 'dynamic']);
  if (typeof r.train !== 'string') throw new Error(`${who}: recipe.train must be a fingerprint`);
  checkSavedTrainer(who, c);
  const saved = family.read(who, c, r);
  return { ...saved, history: historyRowsFromJson(who, 'history', c.history) };
}

async function save<
  M extends ExactBinaryModel,
  R extends Recipe<unknown>,
  S extends SavedConfig<R>,
>(
  family: Family<M, R, S>,
  dir: string,
  trainer: AutoregressiveTrainer<M>,
  recipe: R,
  history?: History,
): Promise<void> {
  const optimizer = await optimizerTensors(trainer.optimizer);
  const config = {
    kind: family.kind,
    recipe,
    ...family.saved(trainer.model),
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

interface Loaded<M extends ExactBinaryModel, R> {
  model: M;
  trainer: AutoregressiveTrainer<M>;
  recipe: R;
  history: HistoryRow[];
}

async function load<
  M extends ExactBinaryModel,
  R extends Recipe<unknown>,
  S extends SavedConfig<R>,
>(family: Family<M, R, S>, dir: string): Promise<Loaded<M, R>> {
  const { config, tensors } = loadCheckpoint(dir, (raw) => readSaved(family, raw));
  // The new model's random weights are overwritten: putting the kit's random stream back makes
  // loading draw nothing, so a run that loads gives the same later numbers as one that trains.
  const stream = generatorState();
  let model: M | undefined;
  try {
    model = family.rebuild(config);
  } catch (err) {
    tf.dispose(Object.values(tensors));
    throw new Error(
      `${dir}: the saved model is not a valid ${family.name} (${(err as Error).message})`,
      { cause: err },
    );
  }
  if (stream) restoreGeneratorState(stream);
  const trainer = family.trainer(model, config.recipe);
  await restoreTrainer(trainer, tensors, config, dir);
  return { model, trainer, recipe: config.recipe, history: config.history };
}

/** Saves weights, masks, Adam state, epochs done, recipe and history rows to `dir` (atomically). */
export function saveMade(
  dir: string,
  trainer: MadeTrainer,
  recipe: MadeRecipe,
  history?: History,
): Promise<void> {
  return save(MADE_FAMILY, dir, trainer, recipe, history);
}

/** Loads a MADE saved by `saveMade`, with a trainer that continues the saved run. */
export async function loadMade(
  dir: string,
): Promise<{ model: MADE; trainer: MadeTrainer; recipe: MadeRecipe; history: HistoryRow[] }> {
  return (await load(MADE_FAMILY, dir)) as Loaded<MADE, MadeRecipe> & { trainer: MadeTrainer };
}

/** Saves weights, Adam state, epochs done, recipe and history rows to `dir` (atomically). */
export function savePixelCnn(
  dir: string,
  trainer: PixelCnnTrainer,
  recipe: PixelCnnRecipe,
  history?: History,
): Promise<void> {
  return save(PIXELCNN_FAMILY, dir, trainer, recipe, history);
}

/** Loads a PixelCNN saved by `savePixelCnn`, with a trainer that continues the saved run. */
export async function loadPixelCnn(dir: string): Promise<{
  model: PixelCNN;
  trainer: PixelCnnTrainer;
  recipe: PixelCnnRecipe;
  history: HistoryRow[];
}> {
  const loaded = await load(PIXELCNN_FAMILY, dir);
  return loaded as Loaded<PixelCNN, PixelCnnRecipe> & { trainer: PixelCnnTrainer };
}

/** Options of `trainOrLoadMade` and `trainOrLoadPixelCnn` but the model's own. */
interface TrainOrLoadOptions extends AdamTrainerOptions, AutoregressiveFitOptions {
  /** Saved-model name under build/models/ (omit to train without saving). */
  name?: string;
  /** Folder to use instead of build/models/<name>. */
  dir?: string;
  train: ImageDataset;
}

const TRAIN_OR_LOAD_KEYS: OptionKeys<TrainOrLoadOptions> = {
  name: true,
  dir: true,
  train: true,
  learningRate: true,
  batchSize: true,
  epochs: true,
  test: true,
  binarize: true,
  history: true,
  progress: true,
};

/**
 * The shared recipe of `options` and the loop that trains a family's model: loads the model saved
 * in the folder if it was trained by `recipe`, else trains `create()`; saves after every epoch.
 */
async function trainOrLoad<
  M extends ExactBinaryModel,
  R extends Recipe<unknown>,
  S extends SavedConfig<R>,
>(
  family: Family<M, R, S>,
  options: TrainOrLoadOptions,
  recipe: R,
  create: () => M,
): Promise<{ model: M; trainer: AutoregressiveTrainer<M>; loaded: boolean; interrupted: boolean }> {
  const dir = options.dir ?? (options.name ? modelDir(options.name) : undefined);
  // The model's own rows: rows of an earlier call (the same cell run again) must not pile up.
  const history = options.history ?? new History();
  history.clear();
  const { test, binarize, progress } = options;
  const trainEpochs = (trainer: AutoregressiveTrainer<M>, epochs: number): Promise<boolean> =>
    runLoop(
      `${family.name} training`,
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
          if (dir) await save(family, dir, trainer, recipe, history);
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
    const saved = await load(family, dir);
    if (JSON.stringify(saved.recipe) === JSON.stringify(recipe)) {
      for (const row of saved.history) history.push(row);
      const remaining = options.epochs - saved.trainer.epochsDone;
      console.log(
        `loaded the ${family.name} saved in ${dir} (${saved.trainer.epochsDone} epochs` +
          `${remaining > 0 ? `; training ${remaining} more` : ''}; delete the folder to retrain)`,
      );
      const interrupted = remaining > 0 && (await trainEpochs(saved.trainer, remaining));
      return { model: saved.model, trainer: saved.trainer, loaded: true, interrupted };
    }
    console.log(
      `${dir} holds a ${family.name} trained otherwise: training a new one (it will be replaced)`,
    );
    saved.trainer.dispose();
    saved.model.dispose();
  }
  const model = create();
  const trainer = family.trainer(model, recipe);
  const interrupted = await trainEpochs(trainer, options.epochs);
  return { model, trainer, loaded: false, interrupted };
}

/** The recipe fields every family shares, from the options. */
function sharedRecipe<C>(options: TrainOrLoadOptions, model: C): Recipe<C> {
  return {
    model,
    learningRate: options.learningRate ?? 1e-3,
    batchSize: options.batchSize ?? 100,
    binarize: options.binarize ?? 'none',
    train: fingerprint(options.train),
  };
}

export interface TrainOrLoadMadeOptions extends TrainOrLoadOptions, MadeFitOptions {
  model: Partial<MadeConfig> & Pick<MadeConfig, 'inputDim' | 'hidden'>;
  /**
   * Start a new model's output bias at the pixel log-odds of `train` (default true), so the
   * untrained model is the independent-pixel model.
   */
  outputBiasFromData?: boolean;
}

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
  checkOptions('trainOrLoadMade', options, {
    ...TRAIN_OR_LOAD_KEYS,
    model: true,
    outputBiasFromData: true,
  });
  const recipe: MadeRecipe = {
    ...sharedRecipe(options, madeConfig(options.model)),
    outputBiasFromData: options.outputBiasFromData !== false,
  };
  const made = await trainOrLoad(MADE_FAMILY, options, recipe, () => {
    const outputBias = recipe.outputBiasFromData
      ? pixelLogits(options.train.images, options.train.pixels, 1e-3)
      : undefined;
    const model = new MADE(recipe.model, { outputBias });
    outputBias?.dispose();
    return model;
  });
  return { ...made, trainer: made.trainer as MadeTrainer };
}

export interface TrainOrLoadPixelCnnOptions extends TrainOrLoadOptions {
  model: PixelCnnOptions;
}

/**
 * `trainOrLoadMade` for a PixelCNN: loads the model saved under `name` (or in `dir`) if it was
 * trained by the same recipe, continues it to `epochs`, or trains a new one, saving after every
 * epoch (an interrupted run continues from its last completed epoch).
 */
export async function trainOrLoadPixelCnn(
  options: TrainOrLoadPixelCnnOptions,
): Promise<{ model: PixelCNN; trainer: PixelCnnTrainer; loaded: boolean; interrupted: boolean }> {
  checkOptions('trainOrLoadPixelCnn', options, { ...TRAIN_OR_LOAD_KEYS, model: true });
  const recipe = sharedRecipe(options, pixelCnnConfig(options.model));
  const trained = await trainOrLoad(
    PIXELCNN_FAMILY,
    options,
    recipe,
    () => new PixelCNN(recipe.model),
  );
  return { ...trained, trainer: trained.trainer as PixelCnnTrainer };
}
