/**
 * Saving and loading trained models: a folder with `config.json` (what the model is), `weights.bin`
 * (float32 values) and `manifest.json` (names, shapes, byte offsets, a checksum).
 *
 * Saves are atomic: every file is written and flushed into `<dir>.partial-<pid>-<stamp>`, the
 * previous model is renamed to `<dir>.old-<pid>-<stamp>`, the new one into place, and the old one
 * removed. A process killed at any moment leaves the previous model, or the new one complete in its
 * temporary folder: the next save, load or `hasCheckpoint` puts the newest complete model back in
 * place and removes every leftover of dead processes. Saves and loads of one folder are serialized
 * by a lock file `<dir>.lock` (a second process waits for the first, and is refused clearly if it
 * waits too long). Whatever is wrong with a checkpoint is a `CheckpointError` naming the file and
 * the problem; non-finite weights are refused both when saving and when loading.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { FileError, readRegularFile } from '../data/files';
import {
  checkArray,
  checkInteger,
  checkRecord,
  checkValues,
  describeValue,
} from '../runtime/checks';
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

/** A checkpoint file or folder that cannot be used, with what is wrong with it. */
export class CheckpointError extends FileError {
  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(file, problem, options);
    this.name = 'CheckpointError';
  }
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

/**
 * The parsed config.json of a model of kind `kind` as a record, for a ConfigReader; throws if it is
 * not an object or is the config of another kind of model. (Configs without a kind pass: VAEs and
 * RBMs saved before kinds were recorded.)
 */
export function savedConfig(raw: unknown, kind: string): Record<string, unknown> {
  const config = checkRecord('config.json', 'the model description', raw);
  if (config.kind !== undefined && config.kind !== kind)
    throw new Error(`holds a saved ${describeValue(config.kind)}, not a '${kind}'`);
  return config;
}

export interface Checkpoint<C> {
  config: C;
  tensors: Record<string, tf.Tensor>;
}

/**
 * Checks the parsed `config.json` of one kind of model and returns it typed; throws an Error saying
 * what is wrong (the loader adds the file).
 */
export type ConfigReader<C> = (raw: unknown) => C;

/** File writing used by `saveCheckpoint`; tests inject failures through it. */
export type WriteFile = (file: string, data: Uint8Array | string) => void;

/** Largest file of a checkpoint that is read (8 GiB; MNIST models take a few MB). */
const MAX_FILE_BYTES = 2 ** 33;
/** What to do about a damaged checkpoint. */
const DAMAGED = 'delete the folder and save the model again (or train it again)';
/** How long a save or load waits for another process's lock on the same folder. */
const LOCK_WAIT_MS = 60_000;

function writeAndSync(file: string, data: Uint8Array | string): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Flushes a folder's entries (the renames in it) to disk. */
function syncFolder(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Runs `work` holding `<target>.lock`, which names its owner from the moment it exists (it is
 * written as `<target>.locking-<pid>-<stamp>` and hard-linked into place, which fails if a lock is
 * there); a lock left by a dead process on this machine is taken over. Where no lock can be created
 * (a read-only or missing folder), nothing can change there either, and `work` runs without one.
 */
function withLock<T>(target: string, work: () => T): T {
  const lock = `${target}.lock`;
  const draft = `${target}.locking-${process.pid}-${Date.now()}`;
  try {
    fs.writeFileSync(draft, JSON.stringify({ pid: process.pid, host: os.hostname() }));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A read-only folder, or none: nothing can change there, and work() says what is missing.
    if (['EACCES', 'EROFS', 'EPERM', 'ENOENT'].includes(code ?? '')) return work();
    throw err;
  }
  const started = Date.now();
  for (let locked = false; !locked;) {
    try {
      fs.linkSync(draft, lock);
      locked = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        fs.rmSync(draft, { force: true });
        throw err;
      }
      let owner: { pid?: number; host?: string } = {};
      try {
        owner = JSON.parse(fs.readFileSync(lock, 'utf8'));
      } catch {
        // Being written or removed right now: look again.
      }
      const dead =
        typeof owner.pid === 'number' && owner.host === os.hostname() && !isAlive(owner.pid);
      if (dead) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() - started > LOCK_WAIT_MS) {
        fs.rmSync(draft, { force: true });
        throw new CheckpointError(
          target,
          `is being saved or loaded by process ${owner.pid ?? '?'} on ${owner.host ?? '?'} ` +
            `(lock file ${lock}); waited ${LOCK_WAIT_MS / 1000} s. If no such process is ` +
            'running, delete the lock file.',
        );
      }
      sleep(20);
    }
  }
  fs.rmSync(draft, { force: true });
  try {
    return work();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/**
 * What a save leaves next to `<name>` until it ends: `<name>.partial-<pid>-<stamp>` (the new model
 * being written), `<name>.old-<pid>-<stamp>` (the previous one, moved aside) and
 * `<name>.locking-<pid>-<stamp>` (a lock being taken).
 */
interface Leftover {
  path: string;
  kind: 'partial' | 'old' | 'locking';
  pid: number;
  stamp: number;
}

function leftovers(target: string): Leftover[] {
  const parent = path.dirname(target);
  const prefix = `${path.basename(target)}.`;
  if (!fs.existsSync(parent)) return [];
  return fs.readdirSync(parent).flatMap((name) => {
    const m =
      name.startsWith(prefix) &&
      /^(partial|old|locking)-(\d+)-(\d+)$/.exec(name.slice(prefix.length));
    if (!m) return [];
    const kind = m[1] as Leftover['kind'];
    return [{ path: path.join(parent, name), kind, pid: +m[2], stamp: +m[3] }];
  });
}

/**
 * Called holding the lock: when the checkpoint is missing because a save was killed between its two
 * renames, moves the newest complete leftover into place (the new model if it was complete, else
 * the previous one); then removes the leftovers of dead processes (and this process's own).
 */
function settle(target: string): void {
  const stale = leftovers(target).filter((l) => l.pid === process.pid || !isAlive(l.pid));
  if (!fs.existsSync(target)) {
    const newestFirst = stale
      .filter((l) => l.kind !== 'locking')
      .sort((a, b) => b.stamp - a.stamp || (a.kind === 'partial' ? -1 : 1));
    const complete = newestFirst.find((l) => {
      try {
        readManifest(l.path);
        return true;
      } catch {
        return false;
      }
    });
    if (complete) {
      fs.renameSync(complete.path, target);
      syncFolder(path.dirname(target));
    }
  }
  for (const l of stale) fs.rmSync(l.path, { recursive: true, force: true });
}

/** Throws unless `target` is absent, an empty folder or a checkpoint folder (never overwrites). */
function checkReplaceable(target: string): void {
  if (!fs.existsSync(target)) return;
  const stats = fs.lstatSync(target);
  if (!stats.isDirectory())
    throw new CheckpointError(target, 'exists and is not a folder; save the model elsewhere');
  const entries = fs.readdirSync(target);
  if (entries.length > 0 && !entries.includes('manifest.json'))
    throw new CheckpointError(
      target,
      `is a folder of other files (${entries.slice(0, 3).join(', ')}...), not a saved model; ` +
        'save the model elsewhere (saving replaces the whole folder)',
    );
}

/**
 * Writes `config` and `tensors` to folder `dir` atomically (replacing an earlier checkpoint there).
 * Refuses tensors holding NaN or infinity, so a diverged run never replaces a good model.
 */
export function saveCheckpoint<C>(
  dir: string,
  config: C,
  tensors: Record<string, tf.Tensor>,
  writeFile: WriteFile = writeAndSync,
): void {
  const target = path.resolve(dir);
  const entries: ManifestEntry[] = [];
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const values = new Float32Array(t.dataSync());
    checkValues(
      'saveCheckpoint',
      `tensor '${name}'`,
      values,
      Number.isFinite,
      'finite',
      `Not saved to ${target}: the model holds non-finite values (did training diverge?)`,
    );
    const bytes = Buffer.from(values.buffer);
    entries.push({ name, shape: t.shape, offset, length: bytes.length });
    chunks.push(bytes);
    offset += bytes.length;
  }
  const weights = Buffer.concat(chunks);
  const manifest: Manifest = {
    format: CHECKPOINT_FORMAT,
    sha256: crypto.createHash('sha256').update(weights).digest('hex'),
    bytes: weights.length,
    tensors: entries,
  };
  fs.mkdirSync(path.dirname(target), { recursive: true });
  withLock(target, () => {
    settle(target);
    checkReplaceable(target);
    const stamp = `${process.pid}-${Date.now()}`;
    const temp = `${target}.partial-${stamp}`;
    const old = `${target}.old-${stamp}`;
    fs.mkdirSync(temp);
    let movedAside = false;
    try {
      writeFile(path.join(temp, 'weights.bin'), weights);
      writeFile(path.join(temp, 'config.json'), JSON.stringify(config, null, 2));
      // The manifest goes last: a folder without a valid one is never taken for a checkpoint.
      writeFile(path.join(temp, 'manifest.json'), JSON.stringify(manifest, null, 2));
      if (fs.existsSync(target)) {
        fs.renameSync(target, old);
        movedAside = true;
      }
      fs.renameSync(temp, target);
      syncFolder(path.dirname(target));
    } catch (err) {
      // The new model did not get into place: put the previous one back.
      if (movedAside && !fs.existsSync(target)) fs.renameSync(old, target);
      throw err;
    } finally {
      for (const leftover of [temp, old]) fs.rmSync(leftover, { recursive: true, force: true });
    }
  });
}

/**
 * True when `dir` holds a checkpoint (its manifest.json), after putting back a model whose save was
 * killed between its renames and removing leftovers. A folder that holds other files is an error
 * (nothing would load from it, and a save would refuse to replace it).
 */
export function hasCheckpoint(dir: string): boolean {
  const target = path.resolve(dir);
  if (!fs.existsSync(path.dirname(target))) return false;
  return withLock(target, () => {
    settle(target);
    checkReplaceable(target);
    return fs.existsSync(path.join(target, 'manifest.json'));
  });
}

function readJson(file: string, what: string): unknown {
  const bytes = readRegularFile(file, MAX_FILE_BYTES, (f, p) => new CheckpointError(f, p));
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new CheckpointError(
      file,
      `is not valid JSON (${(err as Error).message}): the ${what} is damaged; ${DAMAGED}`,
      { cause: err },
    );
  }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Reads and checks manifest.json: every field, and each tensor's place inside weights.bin. */
function readManifest(dir: string): Manifest {
  const file = path.join(dir, 'manifest.json');
  if (!fs.existsSync(file))
    throw new CheckpointError(
      dir,
      `is not a saved model: ${file} is missing (was the save interrupted?)`,
    );
  const raw = readJson(file, 'manifest') as Partial<Manifest> | null;
  const bad = (problem: string) => new CheckpointError(file, `${problem}; ${DAMAGED}`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw bad(`holds ${describeValue(raw)}, not a manifest object`);
  if (raw.format !== CHECKPOINT_FORMAT)
    throw bad(`has format ${describeValue(raw.format)}, expected '${CHECKPOINT_FORMAT}'`);
  if (typeof raw.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(raw.sha256))
    throw bad('has no valid sha256 checksum');
  if (!isCount(raw.bytes)) throw bad(`has bytes = ${describeValue(raw.bytes)}`);
  if (!Array.isArray(raw.tensors)) throw bad('has no list of tensors');
  let end = 0;
  const names = new Set<string>();
  raw.tensors.forEach((e: Partial<ManifestEntry>, i) => {
    const where = `tensor ${i} (${describeValue(e?.name)})`;
    if (typeof e?.name !== 'string' || e.name === '' || names.has(e.name))
      throw bad(`${where} has a missing or repeated name`);
    names.add(e.name);
    if (!Array.isArray(e.shape) || !e.shape.every(isCount))
      throw bad(`${where} has shape ${describeValue(e.shape)}`);
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (e.offset !== end || e.length !== 4 * size)
      throw bad(
        `${where} is placed at bytes ${e.offset} + ${e.length}; a float32 tensor of shape ` +
          `[${e.shape}] after the previous ones is at ${end} + ${4 * size}`,
      );
    end += e.length;
  });
  if (end !== raw.bytes)
    throw bad(`lists tensors of ${end} bytes in all, but declares ${raw.bytes}`);
  // (A weights.bin that is not a regular file is refused when it is read.)
  const weights = path.join(dir, 'weights.bin');
  const stats = fs.existsSync(weights) ? fs.statSync(weights) : undefined;
  if (!stats || (stats.isFile() && stats.size !== raw.bytes))
    throw new CheckpointError(
      weights,
      `has ${stats ? stats.size + ' bytes' : 'gone missing'}, the manifest says ${raw.bytes}; ` +
        DAMAGED,
    );
  return raw as Manifest;
}

/**
 * Reads a checkpoint written by `saveCheckpoint`. Any missing, truncated, corrupted or foreign file
 * is a CheckpointError naming it: the manifest and weights are checked field by field, by checksum
 * and for non-finite values, and `readConfig` checks that config.json describes the expected kind
 * of model.
 */
export function loadCheckpoint<C>(dir: string, readConfig: ConfigReader<C>): Checkpoint<C> {
  const target = path.resolve(dir);
  const weightsFile = path.join(target, 'weights.bin');
  const configFile = path.join(target, 'config.json');
  const { manifest, weights, rawConfig } = withLock(target, () => {
    settle(target);
    const m = readManifest(target);
    const error = (f: string, p: string) => new CheckpointError(f, p);
    return {
      manifest: m,
      weights: readRegularFile(weightsFile, MAX_FILE_BYTES, error),
      rawConfig: readJson(configFile, 'model description'),
    };
  });
  const digest = crypto.createHash('sha256').update(weights).digest('hex');
  if (digest !== manifest.sha256)
    throw new CheckpointError(weightsFile, `is corrupted (checksum mismatch); ${DAMAGED}`);
  let config: C;
  try {
    config = readConfig(rawConfig);
  } catch (err) {
    throw new CheckpointError(configFile, (err as Error).message, { cause: err });
  }
  const arrays = manifest.tensors.map((e) => {
    const values = new Float32Array(
      weights.buffer.slice(weights.byteOffset + e.offset, weights.byteOffset + e.offset + e.length),
    );
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new CheckpointError(
        weightsFile,
        `tensor '${e.name}' holds ${values[bad]} at element ${bad}: the model was saved after ` +
          'training diverged; delete the folder and train again',
      );
    return { name: e.name, values, shape: e.shape };
  });
  const tensors: Record<string, tf.Tensor> = {};
  for (const a of arrays) tensors[a.name] = tf.tensor(a.values, a.shape);
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

/** What `restoreTrainer` reads from a saved config. */
export interface SavedTrainer {
  epochsDone: number;
  /** Names of the optimizer tensors, in the optimizer's order. */
  optimizerWeights: string[];
}

/**
 * Checks the fields of a saved config (`c`, from `savedConfig`) that `restoreTrainer` reads: epochs
 * done and optimizer tensor names.
 */
export function checkSavedTrainer(who: string, c: Record<string, unknown>): void {
  checkInteger(who, 'epochsDone', c.epochsDone, 0);
  const isName = (n: unknown) => typeof n === 'string' && n.startsWith(OPTIMIZER_PREFIX);
  checkArray(who, 'optimizerWeights', c.optimizerWeights, isName, `a name '${OPTIMIZER_PREFIX}i'`);
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
  dir: string,
): Promise<void> {
  const missing = names.filter((name) => !(name in tensors));
  if (missing.length > 0)
    throw new CheckpointError(
      dir,
      `config.json names optimizer tensors that weights.bin lacks: ${missing.join(', ')}`,
    );
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
  saved: SavedTrainer,
  dir: string,
): Promise<void> {
  try {
    assignVariables(trainer.model.namedVariables(), modelTensors(tensors), dir);
    await restoreOptimizer(trainer.optimizer, tensors, saved.optimizerWeights, dir);
    trainer.epochsDone = saved.epochsDone;
  } catch (err) {
    trainer.dispose();
    trainer.model.dispose();
    throw err;
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
