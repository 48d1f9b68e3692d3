import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtime, tf } from 'genlab';

test('toNumber and toArray return the values and leave no tensor behind', async () => {
  await runtime.init({ seed: 0, report: false });
  const before = tf.memory().numTensors;
  assert.equal(runtime.toNumber(tf.scalar(2.5)), 2.5);
  assert.equal(
    runtime.toNumber(() => tf.sum(tf.tensor1d([1, 2, 3]))),
    6,
  );
  assert.deepEqual(
    runtime.toArray(
      tf.tensor2d([
        [1, 2],
        [3, 4],
      ]),
    ),
    [1, 2, 3, 4],
  );
  assert.deepEqual(
    runtime.toArray(() => tf.mul(tf.tensor1d([1, 2]), 3)),
    [3, 6],
  );
  assert.equal(tf.memory().numTensors, before);
});

test('toNumber and toArray refuse what is not one live tensor, and free it anyway', () => {
  const before = tf.memory().numTensors;
  assert.throws(
    () => runtime.toNumber(tf.tensor1d([1, 2])),
    /expected a tensor with one element, got shape \[2\] \(use toArray\)/,
  );
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => runtime.toNumber(3 as unknown as tf.Tensor), /expected a tensor/);
  assert.throws(() => runtime.toArray(() => 'x' as unknown as tf.Tensor), /expected a tensor/);
  const gone = tf.scalar(1);
  gone.dispose();
  assert.throws(() => runtime.toNumber(gone), /already disposed/);
});

test('toRows returns the rows of a matrix, refuses other ranks, and frees the tensor', async () => {
  await runtime.init({ seed: 0, report: false });
  const before = tf.memory().numTensors;
  assert.deepEqual(
    runtime.toRows(
      tf.tensor2d([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    ),
    [
      [1, 2, 3],
      [4, 5, 6],
    ],
  );
  assert.deepEqual(
    runtime.toRows(() => tf.ones([1, 2])),
    [[1, 1]],
  );
  assert.throws(
    () => runtime.toRows(tf.tensor1d([1, 2])),
    /toRows: expected a rank-2 tensor \[rows, columns\], got shape \[2\] \(use toArray/,
  );
  assert.throws(() => runtime.toRows(tf.zeros([1, 2, 2])), /got shape \[1, 2, 2\]/);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => runtime.toRows(NaN as unknown as tf.Tensor), /toRows: expected a tensor/);
});
