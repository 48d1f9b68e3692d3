import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { nn, runtime, tf, training } from 'genlab';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-ckpt-'));
}

test('save then load restores config and every value exactly', async () => {
  await runtime.init({ seed: 0, report: false });
  const mlp = new nn.MLP([5, 4, 3], { name: 'enc' });
  const dir = path.join(tempDir(), 'model');
  training.saveCheckpoint(dir, { sizes: mlp.sizes }, mlp.namedVariables());
  const loaded = training.loadCheckpoint<{ sizes: number[] }>(dir);
  assert.deepEqual(loaded.config, { sizes: [5, 4, 3] });
  const copy = new nn.MLP([5, 4, 3], { name: 'enc' });
  training.assignVariables(copy.namedVariables(), loaded.tensors);
  const x = tf.randomNormal([2, 5]) as tf.Tensor2D;
  assert.deepEqual(copy.apply(x).arraySync(), mlp.apply(x).arraySync());
  assert.ok(training.hasCheckpoint(dir));
});

test('a save that fails midway leaves the earlier checkpoint intact and no loadable partial one', () => {
  const root = tempDir();
  const dir = path.join(root, 'model');
  const a = { w: tf.tensor([1, 2, 3]) };
  training.saveCheckpoint(dir, { version: 1 }, a);
  let writes = 0;
  const failing: training.WriteFile = (file, bytes) => {
    if (++writes === 2) throw new Error('disk full (injected)');
    fs.writeFileSync(file, bytes);
  };
  assert.throws(
    () => training.saveCheckpoint(dir, { version: 2 }, { w: tf.tensor([4, 5, 6]) }, failing),
    /disk full/,
  );
  const loaded = training.loadCheckpoint<{ version: number }>(dir);
  assert.equal(loaded.config.version, 1);
  assert.deepEqual(Array.from(loaded.tensors.w.dataSync()), [1, 2, 3]);
  assert.deepEqual(fs.readdirSync(root), ['model'], 'no temporary folder is left behind');
  const fresh = path.join(root, 'fresh');
  writes = 0;
  assert.throws(() => training.saveCheckpoint(fresh, {}, a, failing), /disk full/);
  assert.equal(training.hasCheckpoint(fresh), false);
  assert.throws(
    () => training.loadCheckpoint(fresh),
    /is not a saved model: .*manifest.json is missing/,
  );
});

test('truncated or corrupted weights and mismatched models are refused with the reason', () => {
  const dir = path.join(tempDir(), 'model');
  training.saveCheckpoint(dir, {}, { 'l.w': tf.ones([2, 2]), 'l.b': tf.zeros([2]) });
  const weights = path.join(dir, 'weights.bin');
  const bytes = fs.readFileSync(weights);
  fs.writeFileSync(weights, bytes.subarray(0, 8));
  assert.throws(
    () => training.loadCheckpoint(dir),
    /weights.bin has 8 bytes, the manifest says 24/,
  );
  bytes[0] ^= 0xff;
  fs.writeFileSync(weights, bytes);
  assert.throws(
    () => training.loadCheckpoint(dir),
    /weights.bin is corrupted \(checksum mismatch\)/,
  );
  const v = { 'l.w': tf.variable(tf.zeros([2, 3])), 'l.b': tf.variable(tf.zeros([2])) };
  assert.throws(
    () => training.assignVariables(v, { 'l.w': tf.ones([2, 2]), 'l.b': tf.zeros([2]) }),
    /'l.w' has shape \[2,2\], the model expects \[2,3\]/,
  );
  assert.throws(() => training.assignVariables(v, { 'l.w': tf.ones([2, 3]) }), /missing \[l.b\]/);
});

test('history keeps rows, columns, CSV and a DataFrame', () => {
  const h = new training.History();
  h.push({ epoch: 1, loss: 3 });
  h.push({ epoch: 2, loss: 2, 'test loss': 2.5 });
  assert.deepEqual(h.column('loss'), [3, 2]);
  assert.deepEqual(h.column('test loss'), [NaN, 2.5]);
  assert.equal(h.toCsv(), 'epoch,loss,test loss\n1,3,\n2,2,2.5\n');
  const df = h.toDataFrame();
  assert.deepEqual(df.shape, [2, 3]);
  const fig = h.figure('epoch', ['loss', 'test loss'], { yTitle: 'loss (nats)' });
  assert.equal(fig.data.length, 2);
  assert.throws(
    () => h.push({ epoch: 'x' as unknown as number }),
    /metric 'epoch' must be a number/,
  );
});
