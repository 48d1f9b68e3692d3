/**
 * Values across the boundary of a grading run: exact round trips through JSON (NaN, infinities,
 * -0, float32/int32/bool tensors, typed arrays), descriptions of what is not data, size limits, and
 * the strict reading of untrusted JSON.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from 'genlab';
import {
  Wire,
  formatWire,
  wireFromJson,
  wireToJson,
  wireToNumeric,
} from 'genlab/dist/grading/wire';
import { decode, encode } from 'genlab/dist/grading/values';

const roundTrip = (w: Wire) => wireFromJson(JSON.parse(JSON.stringify(wireToJson(w))));

test('numbers, arrays, typed arrays, tensors and objects come back exactly', () => {
  const t = tf.tensor2d([
    [1.5, -2],
    [Math.fround(0.1), 3e-8],
  ]);
  const ints = tf.tensor1d([1, -7, 2 ** 30], 'int32');
  const bools = tf.tensor1d([true, false, true], 'bool');
  const value = {
    x: 0.1 + 0.2,
    special: [NaN, Infinity, -Infinity, -0, 5e-324, Number.MAX_VALUE],
    typed: Float64Array.of(Math.PI, -1e300),
    bytes: Uint8Array.of(0, 255),
    t,
    ints,
    bools,
    nested: [[1, 2], [3]],
    word: 'b',
    flag: true,
  };
  const back = decode(roundTrip(encode(value))) as typeof value;
  assert.equal(back.x, 0.1 + 0.2);
  assert.deepEqual(back.special, [NaN, Infinity, -Infinity, -0, 5e-324, Number.MAX_VALUE]);
  assert.ok(Object.is(back.special[3], -0));
  assert.deepEqual(Array.from(back.typed), [Math.PI, -1e300]);
  assert.ok(back.typed instanceof Float64Array && back.bytes instanceof Uint8Array);
  for (const [a, b] of [
    [back.t, t],
    [back.ints, ints],
    [back.bools, bools],
  ] as const) {
    assert.equal(a.dtype, b.dtype);
    assert.deepEqual(a.shape, b.shape);
    assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  }
  assert.deepEqual(back.nested, [[1, 2], [3]]);
  assert.equal(back.word, 'b');
  assert.equal(back.flag, true);
  tf.dispose([t, ints, bools, back.t, back.ints, back.bools]);
});

test('what is not data is described, and cannot be decoded into a value', () => {
  const t = tf.scalar(1);
  t.dispose();
  assert.deepEqual(encode(undefined), { other: 'undefined' });
  assert.deepEqual(encode(Promise.resolve(1)), { other: 'a Promise' });
  assert.deepEqual(
    encode(() => 1),
    { other: 'a function' },
  );
  assert.deepEqual(encode(new Map()), { other: 'an object' });
  assert.deepEqual(encode(t), {
    other: 'a disposed tensor (do not dispose the tensor you return)',
  });
  assert.deepEqual(wireToNumeric(encode([1, undefined])), 'an array whose element 1 is undefined');
  assert.equal(wireToNumeric(encode({ a: 'x' })), "an object whose field 'a' is a string");
  assert.throws(() => decode({ other: 'a Promise' }), /a Promise is not a value that can be sent/);
});

test('values past the size limit are described by their shape only', () => {
  const big = tf.zeros([100, 100]);
  const w = encode(big, { maxEntries: 1000 });
  assert.deepEqual(w, { tensor: 'float32', shape: [100, 100], data: null });
  assert.equal(
    wireToNumeric(w),
    'a float32 tensor of shape [100, 100] (10000 entries: too large to compare)',
  );
  assert.deepEqual(encode(new Array(2000).fill(1), { maxEntries: 1000 }), {
    other: 'an array (2000 numbers: too large to send)',
  });
  big.dispose();
});

test('formatWire shows values compactly', () => {
  assert.equal(formatWire(encode([1, 2, 3, 4, 5, 6])), '[1, 2, 3, 4, ...]');
  assert.equal(formatWire(encode({ mean: 0.5, s: 'ok' })), '{ mean: 0.5, s: "ok" }');
  assert.equal(formatWire({ special: 'NaN' }), 'NaN');
});

test('untrusted JSON is read strictly: every malformed part is an error naming where it is', () => {
  const bad: Array<[unknown, RegExp]> = [
    [{ evil: 1 }, /value: unknown wire value with fields evil/],
    [{ special: 'Inf' }, /unknown special number "Inf"/],
    [{ string: 'x', extra: 1 }, /unexpected fields string, extra/],
    [{ typed: 'BigInt64Array', data: '' }, /unknown typed array "BigInt64Array"/],
    [{ typed: 'Float32Array', data: 'AAA' }, /2 bytes do not make whole Float32Array entries/],
    [{ typed: 'Float32Array', data: '!!' }, /data is not base64/],
    [{ tensor: 'float32', shape: [2], data: 'AAAAAA==' }, /1 values for a tensor of shape \[2\]/],
    [{ tensor: 'float32', shape: [-1], data: null }, /is not a list of sizes/],
    [{ tensor: 'complex64', shape: [1], data: null }, /unknown tensor dtype "complex64"/],
    [{ object: [['a']] }, /value.object\[0\]: not a \[name, value\] pair/],
    [[1, [2, { x: 1 }]], /value\[1\]\[1\]: unknown wire value/],
    ['plain string', /"plain string" is not a wire value/],
    [null, /null is not a wire value/],
  ];
  for (const [json, message] of bad)
    assert.throws(() => wireFromJson(json), message, JSON.stringify(json));
  let deep: unknown = 1;
  for (let i = 0; i < 100; i++) deep = [deep];
  assert.throws(() => wireFromJson(deep), /nested too deeply/);
  assert.throws(() => wireFromJson(new Array(20).fill(1), { maxEntries: 10 }), /too many numbers/);
  assert.throws(
    () => wireFromJson({ string: 'x'.repeat(20) }, { maxString: 10 }),
    /at most 10 characters/,
  );
});
