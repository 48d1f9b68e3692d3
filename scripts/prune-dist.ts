/**
 * Removes compiled files whose TypeScript source is gone (a test or module deleted or renamed
 * upstream and pulled into an existing checkout): `tsc -b` never deletes them, and `node --test
 * dist/tests/` would still run a stale test. Part of `npm run build`.
 */
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');

/** The compiled-output folders and the source folders they mirror (as the tsconfig files say). */
const OUTPUTS: Array<{ out: string; source: string }> = [
  { out: 'dist', source: '.' },
  { out: path.join('lib', 'dist'), source: 'lib' },
];

const COMPILED = /\.(js|js\.map|d\.ts|d\.ts\.map)$/;

function* files(dir: string): Generator<string> {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else yield full;
  }
}

/** Deletes the stale compiled files under ROOT; returns their paths relative to ROOT. */
export function pruneDist(root = ROOT): string[] {
  const removed: string[] = [];
  for (const { out, source } of OUTPUTS) {
    const outDir = path.join(root, out);
    if (!fs.existsSync(outDir)) continue;
    for (const file of files(outDir)) {
      if (!COMPILED.test(file)) continue;
      const relative = path.relative(outDir, file).replace(COMPILED, '.ts');
      if (fs.existsSync(path.join(root, source, relative))) continue;
      fs.rmSync(file);
      removed.push(path.relative(root, file));
    }
  }
  return removed;
}

if (require.main === module) {
  const removed = pruneDist();
  if (removed.length > 0)
    console.log(
      `removed ${removed.length} compiled files whose source is gone: ${removed.join(', ')}`,
    );
}
