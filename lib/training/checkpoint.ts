/**
 * Saving and loading trained models: a folder with `config.json` (what the model is), `weights.bin`
 * (float32 values) and `manifest.json` (names, shapes, byte offsets, a checksum). Saves are atomic:
 * every file is written and flushed into a temporary folder that is renamed into place last, so a
 * crash mid-save leaves either the previous model or none, never a half-written one that loads.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { modelsRoot } from '../runtime/paths';
import { AdamTrainer, TrainableModel } from './trainer';

export const CHECKPOINT_FORMAT = 'genlab-checkpoint/1';

/**
 * The folder of the trained model `name`: <models>/<name>, where <models> is $GENLAB_MODELS or
 * build/models of the current project (runtime.modelsRoot; build/ is git-ignored).
 */
export function modelDir(name: string): string {
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name))
    throw new Error(
      `model name '${name}' must be letters, digits, '.', '_' or '-' (it names a folder)`,
    );
  return path.join(modelsRoot(), name);
}

interface ManifestEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

interface Manifest {
  format: string;
  sha256: string;
  bytes: number;
  tensors: ManifestEntry[];
}

export interface Checkpoint<C> {
  config: C;
  tensors: Record<string, tf.Tensor>;
}

/** File writing used by `saveCheckpoint`; tests inject failures through it. */
export type WriteFile = (file: string, data: Uint8Array | string) => void;

function writeAndSync(file: string, data: Uint8Array | string): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes `config` and `tensors` to folder `dir` atomically (replacing an earlier checkpoint there).
 */
export function saveCheckpoint<C>(
  dir: string,
  config: C,
  tensors: Record<string, tf.Tensor>,
  writeFile: WriteFile = writeAndSync,
): void {
  const target = path.resolve(dir);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const temp = `${target}.partial-${process.pid}-${Date.now()}`;
  fs.rmSync(temp, { recursive: true, force: true });
  fs.mkdirSync(temp);
  try {
    const entries: ManifestEntry[] = [];
    const chunks: Buffer[] = [];
    let offset = 0;
    for (const [name, t] of Object.entries(tensors)) {
      const values = Buffer.from(new Float32Array(t.dataSync()).buffer);
      entries.push({ name, shape: t.shape, offset, length: values.length });
      chunks.push(values);
      offset += values.length;
    }
    const weights = Buffer.concat(chunks);
    const manifest: Manifest = {
      format: CHECKPOINT_FORMAT,
      sha256: crypto.createHash('sha256').update(weights).digest('hex'),
      bytes: weights.length,
      tensors: entries,
    };
    writeFile(path.join(temp, 'weights.bin'), weights);
    writeFile(path.join(temp, 'config.json'), JSON.stringify(config, null, 2));
    // The manifest goes last: a folder without a valid one is never taken for a checkpoint.
    writeFile(path.join(temp, 'manifest.json'), JSON.stringify(manifest, null, 2));
    const old = `${target}.old-${process.pid}-${Date.now()}`;
    if (fs.existsSync(target)) fs.renameSync(target, old);
    fs.renameSync(temp, target);
    fs.rmSync(old, { recursive: true, force: true });
  } catch (err) {
    fs.rmSync(temp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * True when `dir` holds a complete checkpoint (manifest present and weights of the declared size).
 */
export function hasCheckpoint(dir: string): boolean {
  try {
    readManifest(dir);
    return true;
  } catch {
    return false;
  }
}

function readManifest(dir: string): Manifest {
  const file = path.join(dir, 'manifest.json');
  if (!fs.existsSync(file))
    throw new Error(`${dir} is not a saved model: ${file} is missing (was the save interrupted?)`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}); save the model again`, {
      cause: err,
    });
  }
  if (manifest.format !== CHECKPOINT_FORMAT)
    throw new Error(`${file}: format '${manifest.format}', expected '${CHECKPOINT_FORMAT}'`);
  const weights = path.join(dir, 'weights.bin');
  const size = fs.existsSync(weights) ? fs.statSync(weights).size : -1;
  if (size !== manifest.bytes)
    throw new Error(
      `${weights} has ${size < 0 ? 'gone missing' : size + ' bytes'}, the manifest says ` +
        `${manifest.bytes}; save the model again`,
    );
  return manifest;
}

/**
 * Reads a checkpoint written by `saveCheckpoint`; any missing, truncated or corrupted file is an
 * error naming it.
 */
export function loadCheckpoint<C>(dir: string): Checkpoint<C> {
  const manifest = readManifest(dir);
  const weights = fs.readFileSync(path.join(dir, 'weights.bin'));
  const digest = crypto.createHash('sha256').update(weights).digest('hex');
  if (digest !== manifest.sha256)
    throw new Error(
      `${path.join(dir, 'weights.bin')} is corrupted (checksum mismatch); save the model again`,
    );
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as C;
  const tensors: Record<string, tf.Tensor> = {};
  for (const e of manifest.tensors) {
    const values = new Float32Array(
      weights.buffer.slice(weights.byteOffset + e.offset, weights.byteOffset + e.offset + e.length),
    );
    tensors[e.name] = tf.tensor(values, e.shape);
  }
  return { config, tensors };
}

/** Copies saved values into a model's variables, checking that names and shapes match exactly. */
export function assignVariables(
  variables: Record<string, tf.Variable>,
  tensors: Record<string, tf.Tensor>,
  source = 'checkpoint',
): void {
  const missing = Object.keys(variables).filter((k) => !(k in tensors));
  const extra = Object.keys(tensors).filter((k) => !(k in variables));
  if (missing.length || extra.length) {
    throw new Error(
      `${source} does not match the model: missing [${missing.join(', ')}], unexpected ` +
        `[${extra.join(', ')}]`,
    );
  }
  for (const [name, v] of Object.entries(variables)) {
    const t = tensors[name];
    if (t.shape.join() !== v.shape.join())
      throw new Error(
        `${source}: '${name}' has shape [${t.shape}], the model expects [${v.shape}]`,
      );
    v.assign(t);
  }
}

const OPTIMIZER_PREFIX = 'optimizer/';

/**
 * An optimizer's state (Adam's step count and moments) as checkpoint tensors keyed 'optimizer/0',
 * 'optimizer/1', ... with their names in order; `dispose` frees the copies made for saving.
 */
export async function optimizerTensors(
  optimizer: tf.Optimizer,
): Promise<{ tensors: Record<string, tf.Tensor>; names: string[]; dispose: () => void }> {
  const weights = await optimizer.getWeights();
  const tensors: Record<string, tf.Tensor> = {};
  const names = weights.map((w, i) => {
    tensors[`${OPTIMIZER_PREFIX}${i}`] = w.tensor;
    return `${OPTIMIZER_PREFIX}${i}`;
  });
  // getWeights returns the iteration counter as a fresh scalar; the moments are the optimizer's
  // own variables.
  return { tensors, names, dispose: () => weights[0]?.tensor.dispose() };
}

/** The model's tensors of a checkpoint: all but the optimizer's. */
export function modelTensors(tensors: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
  return Object.fromEntries(
    Object.entries(tensors).filter(([k]) => !k.startsWith(OPTIMIZER_PREFIX)),
  );
}

/** Puts back an optimizer state saved by `optimizerTensors` (names as it returned them). */
export async function restoreOptimizer(
  optimizer: tf.Optimizer,
  tensors: Record<string, tf.Tensor>,
  names: string[],
): Promise<void> {
  if (names.length > 0)
    await optimizer.setWeights(names.map((name) => ({ name, tensor: tensors[name] })));
}

/**
 * Copies a loaded checkpoint's tensors into a new trainer's model and optimizer and sets its
 * epochs done. The checkpoint's tensors are disposed either way; on an error the trainer and its
 * model are too.
 */
export async function restoreTrainer(
  trainer: AdamTrainer<TrainableModel>,
  tensors: Record<string, tf.Tensor>,
  saved: { optimizerWeights: string[]; epochsDone: number },
  dir: string,
): Promise<void> {
  try {
    assignVariables(trainer.model.namedVariables(), modelTensors(tensors), dir);
    await restoreOptimizer(trainer.optimizer, tensors, saved.optimizerWeights);
    trainer.epochsDone = saved.epochsDone;
  } catch (err) {
    trainer.dispose();
    trainer.model.dispose();
    throw err;
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
