/**
 * The README's install line, the list of system packages CI installs (scripts/debian-packages.txt)
 * and CI's own script cannot drift apart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from '../../scripts/jupyter';

const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

/** The packages of scripts/debian-packages.txt, in order (comments and blank lines dropped). */
function packageList(): string[] {
  return read('scripts/debian-packages.txt')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '');
}

/** The README's Quick start code block. */
function quickStart(): string[] {
  const readme = read('README.md');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const block = /```bash\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'the Quick start has a bash block');
  return block[1].trim().split('\n');
}

test('the README installs exactly the listed system packages, then npm ci', () => {
  const [install] = quickStart();
  const match = /^sudo apt-get install -y ((?:[a-z0-9.+-]+ )+)&& npm ci$/.exec(install);
  assert.ok(
    match,
    `the first command is "sudo apt-get install -y <packages> && npm ci": ${install}`,
  );
  assert.deepEqual(match[1].trim().split(' '), packageList());
});

test('the second command runs the notebooks, and CI runs the list, npm ci and npm test', () => {
  assert.deepEqual(quickStart().slice(1), ['npm run notebooks -- --quick']);
  const ci = read('.ci/run');
  assert.match(ci, /scripts\/debian-packages\.txt/, '.ci/run reads the package list');
  assert.match(ci, /apt-get install -y /);
  const commands = ci.split('\n').filter((line) => /^npm /.test(line));
  assert.deepEqual(commands, ['npm ci', 'npm test']);
});

test('every package in the list says what it is for', () => {
  const lines = read('scripts/debian-packages.txt')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'));
  for (const line of lines) assert.match(line, /^\S+\s+# \S/, `"${line}" has no comment`);
});
