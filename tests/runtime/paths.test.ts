import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runtime, training } from 'genlab';

test('trained models go to build/models of the project the process works in', () => {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-project-'));
  const notebooks = path.join(project, 'notebooks', 'week1');
  fs.mkdirSync(notebooks, { recursive: true });
  fs.writeFileSync(path.join(project, 'package.json'), '{}');
  assert.equal(runtime.projectDir(notebooks), project);
  const cwd = process.cwd();
  const saved = process.env[runtime.MODELS_ENV];
  try {
    delete process.env[runtime.MODELS_ENV];
    process.chdir(notebooks);
    assert.equal(training.modelDir('vae'), path.join(project, 'build', 'models', 'vae'));
    process.env[runtime.MODELS_ENV] = path.join(project, 'shared-models');
    assert.equal(training.modelDir('vae'), path.join(project, 'shared-models', 'vae'));
  } finally {
    process.chdir(cwd);
    if (saved === undefined) delete process.env[runtime.MODELS_ENV];
    else process.env[runtime.MODELS_ENV] = saved;
  }
});

test('a folder with no package.json above it is its own project', () => {
  const loose = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-loose-'));
  const above = path.dirname(loose);
  // (skipped where the temp folder is itself inside a project)
  if (fs.existsSync(path.join(above, 'package.json'))) return;
  assert.equal(runtime.projectDir(loose), loose);
});

test('the kit folder holds the genlab package', () => {
  assert.ok(fs.existsSync(path.join(runtime.KIT_DIR, 'lib', 'package.json')));
});
