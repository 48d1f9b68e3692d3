import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pruneDist } from '../../scripts/prune-dist';

function write(root: string, file: string): void {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  fs.writeFileSync(path.join(root, file), '');
}

test('the build removes compiled files whose source is gone, and nothing else', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-prune-'));
  try {
    const kept = [
      'tests/a/kept.test.ts',
      'dist/tests/a/kept.test.js',
      'dist/tests/a/kept.test.js.map',
      'lib/models/x.ts',
      'lib/dist/models/x.js',
      'lib/dist/models/x.d.ts',
      'lib/dist/models/x.d.ts.map',
      'lib/dist/tsconfig.tsbuildinfo',
    ];
    const stale = [
      'dist/tests/a/gone.test.js',
      'dist/tests/a/gone.test.js.map',
      'lib/dist/models/old.js',
      'lib/dist/models/old.d.ts',
    ];
    for (const f of [...kept, ...stale]) write(root, f);
    assert.deepEqual(pruneDist(root).sort(), stale.sort());
    for (const f of kept) assert.ok(fs.existsSync(path.join(root, f)), `${f} kept`);
    assert.deepEqual(pruneDist(root), [], 'a second build removes nothing');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
