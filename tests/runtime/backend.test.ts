import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import { runtime, tf } from 'genlab';

test('parseBackendName accepts the three backends, case-insensitively', () => {
  assert.equal(runtime.parseBackendName('wasm'), 'wasm');
  assert.equal(runtime.parseBackendName(' CPU '), 'cpu');
  assert.equal(runtime.parseBackendName('tensorflow'), 'tensorflow');
});

test('a wrong backend name gives one clear error listing the valid ones', () => {
  assert.throws(
    () => runtime.parseBackendName('webgpu'),
    /GENLAB_BACKEND='webgpu' is not a TensorFlow.js backend .*tensorflow, wasm, cpu/,
  );
});

function runInNode(code: string, env: Record<string, string>) {
  return spawnSync(process.execPath, ['-e', code], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
}

test('GENLAB_BACKEND with a wrong name makes init fail with that message', () => {
  const r = runInNode(
    "require('genlab').runtime.init().catch(e => { console.error(e.message); process.exit(3); })",
    { GENLAB_BACKEND: 'gpu' },
  );
  assert.equal(r.status, 3);
  assert.match(r.stderr, /GENLAB_BACKEND='gpu' is not a TensorFlow.js backend/);
});

test('GENLAB_BACKEND=cpu forces cpu, reported in one line with no tfjs banner', () => {
  const r = runInNode(
    "require('genlab').runtime.init().then(() => require('genlab').tf.square(2).data()).then(v " +
      "=> console.log('value', v[0]))",
    { GENLAB_BACKEND: 'cpu' },
  );
  assert.equal(r.status, 0, r.stderr);
  const lines = (r.stdout + r.stderr).trim().split('\n');
  assert.deepEqual(
    lines.length,
    2,
    `expected one report line and one value line, got:\n${lines.join('\n')}`,
  );
  assert.match(lines[0], /^genlab: backend cpu \(1 thread; forced by GENLAB_BACKEND\)/);
  assert.equal(lines[1], 'value 4');
});

test('forcing the native backend when it is not installed says how to install it', () => {
  const r = runInNode(
    "require('genlab').runtime.init().catch(e => { console.error(e.message); process.exit(3); })",
    { GENLAB_BACKEND: 'tensorflow' },
  );
  if (r.status === 0) return; // the native backend is installed on this machine: nothing to check
  assert.equal(r.status, 3);
  assert.match(
    r.stderr,
    /'tensorflow' backend was requested but could not be loaded.*npm run native/,
  );
});

test('without a forced backend, init picks the native backend when loaded, else wasm', async () => {
  delete process.env.GENLAB_BACKEND;
  await runtime.init({ report: false });
  const info = runtime.backendInfo() as runtime.BackendInfo;
  assert.equal(tf.getBackend(), info.name);
  assert.ok(
    info.name === 'tensorflow' || info.name === 'wasm',
    `unexpected default backend ${info.name}`,
  );
  assert.ok(info.threads >= 1);
});
