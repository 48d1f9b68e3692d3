/**
 * Where things are. The kit's own files (the native addon that `npm ci` builds into native/build,
 * the optional native backend that `npm run native` installs into .native/) sit in the kit's
 * checkout beside the genlab package; a user's trained models go to the project the user works in.
 */
import * as fs from 'fs';
import * as path from 'path';

/** The genlab package (the kit's lib/ folder); this file is compiled to lib/dist/runtime. */
const PACKAGE_DIR = path.resolve(__dirname, '..', '..');

/** The course kit's checkout: the folder that holds the genlab package, native/ and .native/. */
export const KIT_DIR = path.dirname(PACKAGE_DIR);

/** Environment variable naming the folder of trained models (default: build/models). */
export const MODELS_ENV = 'GENLAB_MODELS';

/**
 * The project the process works in: the nearest folder at or above `from` that holds a
 * package.json (for a notebook, the kit's checkout above notebooks/), else `from` itself.
 */
export function projectDir(from: string = process.cwd()): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from);
  }
}

/** The folder of trained models: $GENLAB_MODELS, else build/models of the current project. */
export function modelsRoot(): string {
  const forced = process.env[MODELS_ENV];
  if (forced !== undefined && forced.trim() !== '') return path.resolve(forced);
  return path.join(projectDir(), 'build', 'models');
}
