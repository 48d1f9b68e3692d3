/**
 * Watching forbidden library functions (lib/grading/forbid.ts), in a child process as in a
 * submission's kernel (the watch changes the library for the whole process): every way of reaching
 * a watched function counts, and what the watch documents it cannot see, it does not see.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import { grading } from 'genlab';
import * as genlab from 'genlab';

const SCRIPT = `'use strict';
const genlab = require('genlab');
const { watchCalls } = require('genlab/dist/grading/forbid');
const take = watchCalls(genlab, [
  'distributions.kl',
  'distributions.Normal.prototype.logProb',
  'distributions.Categorical',
  'models.gmm.bic',
  'tf.softplus',
]);
const { distributions, tf } = genlab;
const seen = {};
const run = (name, fn) => {
  take();
  try { fn(); } catch (e) { seen[name + ' threw'] = String(e.message).slice(0, 60); }
  seen[name] = take();
};
const N = (m, s) => new distributions.Normal(m, s);
run('direct', () => distributions.kl(N(0, 1), N(1, 2)));
const { kl: alias } = distributions;
run('destructured alias', () => alias(N(0, 1), N(1, 2)));
run('computed name', () => genlab['distri' + 'butions']['k' + 'l'](N(0, 1), N(1, 2)));
run('stored in an object', () => ({ f: distributions.kl }).f(N(0, 1), N(1, 2)));
run('through another library module', () => {
  const q = new distributions.MultivariateNormal([0], { covariance: [[1]] });
  new distributions.LinearGaussianModel([[1]], [0], 1).elbo([0.5], q);
});
run('prototype method', () => N(0, 1).logProb(0.5));
run('constructor', () => new distributions.Categorical({ probs: [0.5, 0.5] }));
const made = new distributions.Categorical({ probs: [0.5, 0.5] });
seen.instanceof = made instanceof distributions.Categorical;
run('tf op', () => tf.softplus(tf.scalar(1)));
run('tf chained method (not watched)', () => tf.scalar(1).softplus());
run('nothing forbidden', () => N(0, 1).sample(3));
const file = require.resolve('genlab/dist/distributions/kl.js');
delete require.cache[file];
const fresh = require(file).kl;
run('a second copy of the file', () => fresh(N(0, 1), N(1, 2)));
const attempt = (name, fn) => {
  try { fn(); } catch (e) { seen[name] = e.constructor.name; }
};
attempt('reassign', () => { distributions.kl = () => 0; });
attempt('reassign in its module', () => { require(file).kl = () => 0; });
attempt('unhook the loader', () => { require('module')._load = null; });
run('after the attempts', () => distributions.kl(N(0, 1), N(1, 2)));
console.log(JSON.stringify(seen));
`;

test('every way of reaching a watched function is seen; chained tfjs methods are not', () => {
  const r = spawnSync(process.execPath, ['-e', SCRIPT], { encoding: 'utf8', cwd: __dirname });
  assert.equal(r.status, 0, r.stderr);
  const seen = JSON.parse(r.stdout.trim().split('\n').pop() as string);
  // A second copy of kl.js has its own (empty) table of closed forms: it may throw; it is seen.
  delete seen['a second copy of the file threw'];
  assert.deepEqual(seen, {
    direct: ['distributions.kl'],
    'destructured alias': ['distributions.kl'],
    'computed name': ['distributions.kl'],
    'stored in an object': ['distributions.kl'],
    'through another library module': seen['through another library module'],
    'prototype method': ['distributions.Normal.prototype.logProb'],
    constructor: ['distributions.Categorical'],
    instanceof: true,
    'tf op': ['tf.softplus'],
    'tf chained method (not watched)': [],
    'nothing forbidden': [],
    'a second copy of the file': ['distributions.kl'],
    reassign: 'TypeError',
    'reassign in its module': 'TypeError',
    'unhook the loader': 'TypeError',
    'after the attempts': ['distributions.kl'],
  });
  assert.ok(seen['through another library module'].includes('distributions.kl'));
});

test('a forbidden path that is not a library function is an error with a suggestion', () => {
  const resolve = (p: string) => () => grading.resolveLibraryFunction(genlab, p);
  assert.throws(
    resolve('distributions.kll'),
    /distributions.kll: distributions has no 'kll' \(did you mean kl\?\)/,
  );
  assert.throws(
    resolve('distribution.kl'),
    /genlab has no 'distribution' \(did you mean distributions\?\)/,
  );
  assert.throws(resolve('runtime.QUICK_ENV'), /runtime.QUICK_ENV is not a function/);
  assert.throws(resolve('kl'), /'kl' is not a library function path like "distributions.kl"/);
  assert.throws(resolve('distributions.kl()'), /is not a library function path/);
  assert.equal(grading.resolveLibraryFunction(genlab, 'models.gmm.bic').key, 'bic');
});
