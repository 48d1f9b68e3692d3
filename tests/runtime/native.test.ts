/**
 * The native backend cannot be installed on the CI machines (its install downloads libtensorflow),
 * so its selection is tested with stand-in packages in a folder named by GENLAB_NATIVE_DIR: one
 * that registers a 'tensorflow' backend (as the real @tensorflow/tfjs-node does) and one that does
 * not (as the plain-tfjs alias that the danfojs-node override installs under the same name).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

function fakeNative(registers: boolean): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-native-'));
  const pkg = path.join(dir, 'node_modules', '@tensorflow', 'tfjs-node');
  fs.mkdirSync(pkg, { recursive: true });
  fs.writeFileSync(
    path.join(pkg, 'package.json'),
    JSON.stringify({ name: '@tensorflow/tfjs-node', main: 'index.js' }),
  );
  const tfjs = require.resolve('@tensorflow/tfjs');
  fs.writeFileSync(
    path.join(pkg, 'index.js'),
    registers
      ? `const tf = require(${JSON.stringify(tfjs)}); const cpu = tf.findBackend('cpu') || ` +
          `(tf.getBackend(), tf.findBackend('cpu'));\n` +
          `tf.registerBackend('tensorflow', () => cpu);\nmodule.exports = tf;\n`
      : `module.exports = require(${JSON.stringify(tfjs)});\n`,
  );
  return dir;
}

function init(nativeDir: string): { status: number | null; out: string } {
  const r = spawnSync(
    process.execPath,
    [
      '-e',
      "require('genlab').runtime.init().catch(e => { console.error(e.message); process.exit(3); })",
    ],
    {
      env: { ...process.env, GENLAB_NATIVE_DIR: nativeDir, GENLAB_BACKEND: '' },
      encoding: 'utf8',
    },
  );
  return { status: r.status, out: r.stdout + r.stderr };
}

test('a really loaded native backend is chosen first and reported', () => {
  const r = init(fakeNative(true));
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /^genlab: backend tensorflow \(\d+ threads?; tfjs-node\)/);
});

test(
  'a package named @tensorflow/tfjs-node that registers no native backend is not ' +
    'mistaken for it',
  () => {
    const r = init(fakeNative(false));
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /^genlab: backend wasm /);
  },
);
