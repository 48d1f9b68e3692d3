/**
 * The code that grading runs use: the library and the kit's Jupyter kernel, compiled by the grader
 * itself from lib/'s and scripts/kernel/'s sources into build/grading/lib-<hash of the sources>/
 * (package.json and dist/ of the library, and kernel/), once per version of the sources, with a
 * manifest of its files' hashes that is checked before each use, and mounted read-only into every
 * sandbox. So neither a student's code nor an earlier run that could write lib/dist or dist/ (an
 * unsandboxed one) can change what the next submission's kernel loads. The grader also compares
 * lib/dist, which its own process loads, with that fresh build, and refuses to grade when the
 * grading code differs.
 */
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BUILD_DIR, ROOT } from '../jupyter';

const LIB = path.join(ROOT, 'lib');
const KERNEL = path.join(ROOT, 'scripts', 'kernel');
const CACHE = path.join(BUILD_DIR, 'grading');

function sha256(data: string | Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** Files under `dir` (relative paths, sorted), skipping the named top-level folders. */
function listFiles(dir: string, skip: string[] = []): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = path.join(rel, entry.name);
      if (rel === '' && skip.includes(entry.name)) continue;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) out.push(child);
    }
  };
  walk('');
  return out.sort();
}

/** A hash of everything the build depends on: the sources and the compiler. */
function sourceHash(): string {
  const hash = crypto.createHash('sha256');
  for (const [name, dir] of [
    ['lib', LIB],
    ['kernel', KERNEL],
  ])
    for (const rel of listFiles(dir, ['dist', 'node_modules'])) {
      hash.update(`${name}/${rel}\0`);
      hash.update(fs.readFileSync(path.join(dir, rel)));
    }
  hash.update(fs.readFileSync(path.join(ROOT, 'tsconfig.base.json')));
  hash.update(fs.readFileSync(compiler()));
  return hash.digest('hex').slice(0, 16);
}

/** The compiler `npm run build` uses (node_modules/.bin/tsc), so that both builds agree. */
function compiler(): string {
  return fs.realpathSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'));
}

function manifestOf(dir: string): Record<string, string> {
  return Object.fromEntries(
    listFiles(dir, ['manifest.json']).map((rel) => [
      rel,
      sha256(fs.readFileSync(path.join(dir, rel))),
    ]),
  );
}

function intact(dir: string): boolean {
  const file = path.join(dir, 'manifest.json');
  if (!fs.existsSync(file)) return false;
  const expected = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
  const actual = manifestOf(dir);
  return (
    Object.keys(expected).length === Object.keys(actual).length &&
    Object.entries(expected).every(([rel, h]) => actual[rel] === h)
  );
}

/** Compiles the TypeScript files under `rootDir` into `outDir` with the kit's options. */
function compileTree(rootDir: string, outDir: string, scratch: string): void {
  const config = path.join(scratch, 'tsconfig.json');
  fs.writeFileSync(
    config,
    JSON.stringify({
      extends: path.join(ROOT, 'tsconfig.base.json'),
      compilerOptions: {
        rootDir,
        outDir,
        composite: false,
        incremental: false,
        sourceMap: false,
        declaration: true,
        typeRoots: [path.join(ROOT, 'node_modules', '@types')],
      },
      include: [path.join(rootDir, '**', '*.ts')],
      exclude: [path.join(rootDir, 'dist'), path.join(rootDir, 'node_modules')],
    }),
  );
  const r = spawnSync(process.execPath, [compiler(), '-p', config], { encoding: 'utf8' });
  fs.rmSync(config);
  if (r.status !== 0)
    throw new Error(
      `compiling ${path.relative(ROOT, rootDir)} for grading failed:\n` +
        (r.stdout + r.stderr).trim().split('\n').slice(0, 10).join('\n'),
    );
}

function compile(into: string): void {
  compileTree(LIB, path.join(into, 'dist'), into);
  fs.copyFileSync(path.join(LIB, 'package.json'), path.join(into, 'package.json'));
  compileTree(KERNEL, path.join(into, 'kernel'), into);
}

/**
 * The folder of the grader's own build (the library's package.json and dist/, and kernel/),
 * compiled now if this version of the sources has none or its files do not match their manifest.
 */
export function gradingLibrary(log: (line: string) => void = () => undefined): string {
  const dir = path.join(CACHE, `lib-${sourceHash()}`);
  if (intact(dir)) return dir;
  log('Compiling the library and the kernel for grading (once per version of their sources)...');
  fs.mkdirSync(CACHE, { recursive: true });
  const temp = fs.mkdtempSync(path.join(CACHE, `.lib-${os.hostname()}-${process.pid}-`));
  try {
    compile(temp);
    fs.writeFileSync(path.join(temp, 'manifest.json'), JSON.stringify(manifestOf(temp), null, 1));
    readOnly(temp);
    fs.rmSync(dir, { recursive: true, force: true });
    try {
      fs.renameSync(temp, dir);
    } catch (err) {
      // Another grader (a shard) finished the same build first.
      if (!intact(dir)) throw err;
    }
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
  if (!intact(dir)) throw new Error(`the grading build of the library in ${dir} is incomplete`);
  return dir;
}

/** Files readable by all and writable by none, folders readable and searchable by all. */
function readOnly(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const child = path.join(dir, entry.name);
    if (entry.isDirectory()) readOnly(child);
    else fs.chmodSync(child, 0o444);
  }
}

/** A compiled file's code without its source-map comment. */
function code(file: string): string {
  return fs.readFileSync(file, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
}

/**
 * The compiled files of lib/dist that differ from the grading build (missing, edited after the
 * build, or stale), as paths relative to dist/.
 */
export function changedCompiledFiles(library: string): string[] {
  const fresh = path.join(library, 'dist');
  const used = path.join(LIB, 'dist');
  return listFiles(fresh)
    .filter((rel) => rel.endsWith('.js'))
    .filter((rel) => {
      const file = path.join(used, rel);
      return !fs.existsSync(file) || code(file) !== code(path.join(fresh, rel));
    });
}
