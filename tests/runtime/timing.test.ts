import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtime, tf } from 'genlab';

test('millisecondsPerCall calls f warmup + repeats times and frees what it returns', () => {
  let calls = 0;
  const tensors = tf.memory().numTensors;
  const ms = runtime.millisecondsPerCall(
    () => {
      calls++;
      const a = tf.ones([3]);
      return { a, b: [tf.zeros([2]), tf.scalar(1)] };
    },
    { repeats: 5, warmup: 3 },
  );
  assert.equal(calls, 8);
  assert.equal(tf.memory().numTensors, tensors, 'every returned tensor must be freed');
  assert.ok(Number.isFinite(ms) && ms >= 0);
  calls = 0;
  runtime.millisecondsPerCall(() => {
    calls++;
  });
  assert.equal(calls, 9, 'default: 2 warm-up calls and 7 timed ones');
});

test('millisecondsPerCall rejects bad input, naming the problem', () => {
  assert.throws(
    () => runtime.millisecondsPerCall(42 as unknown as () => tf.Tensor),
    /millisecondsPerCall: f must be a function/,
  );
  assert.throws(
    () => runtime.millisecondsPerCall(() => tf.scalar(1), { repeats: 0 }),
    /repeats must be a positive integer/,
  );
  assert.throws(
    () => runtime.millisecondsPerCall(() => tf.scalar(1), { warmup: -1 }),
    /warmup must be a non-negative integer/,
  );
  assert.throws(
    () => runtime.millisecondsPerCall(() => tf.scalar(1), { repeat: 3 } as never),
    /unknown option 'repeat' \(did you mean 'repeats'\?\)/,
  );
});
