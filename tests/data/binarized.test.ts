import { test } from 'node:test';
import assert from 'node:assert/strict';
import { data, runtime } from 'genlab';

test(
  'loadBinarizedMnist: 10,000 binary test images, the same whatever the seed, a prefix for a ' +
    'limit, each pixel on with the probability of its intensity',
  () => {
    runtime.seed(0);
    const a = data.loadBinarizedMnist('test');
    runtime.seed(7);
    const b = data.loadBinarizedMnist('test');
    assert.equal(a.size, 10000);
    assert.equal(data.fingerprint(a), data.fingerprint(b));
    assert.deepEqual(a.labels, b.labels);
    const few = data.loadBinarizedMnist('test', { limit: 300 });
    assert.deepEqual(few.images, a.images.subarray(0, 300 * 784));
    assert.notEqual(data.fingerprint(few), data.fingerprint(a));
    // E[x] = intensity, pixel by pixel: the sum over the 7.84 million pixels of x - intensity is
    // within 5 standard deviations of 0, and so is the sum over the grey pixels alone (where a
    // threshold would be far off).
    const grey = data.loadMnist('test');
    const sums = { all: [0, 0], grey: [0, 0] };
    for (let i = 0; i < grey.images.length; i++) {
      const p = grey.images[i];
      const x = a.images[i];
      assert.ok(x === 0 || x === 1, `pixel ${i} is ${x}`);
      sums.all[0] += x - p;
      sums.all[1] += p * (1 - p);
      if (p > 0.1 && p < 0.9) {
        sums.grey[0] += x - p;
        sums.grey[1] += p * (1 - p);
      }
    }
    for (const [what, [deviation, variance]] of Object.entries(sums))
      assert.ok(Math.abs(deviation) < 5 * Math.sqrt(variance), `${what}: ${deviation}`);
    assert.ok(sums.grey[1] > 1e5, 'there are enough grey pixels for the check to bite');
    // The training split is binarized with other draws, not as a copy of the test pattern.
    const train = data.loadBinarizedMnist('train', { limit: 10000 });
    const fromTest = new data.ImageDataset(grey.images, grey.labels, 28, 28, 'train').binarized(
      'static',
    );
    assert.notEqual(data.fingerprint(fromTest), data.fingerprint(a));
    assert.equal(train.size, 10000);
  },
);

test('fingerprint tells data sets apart by pixels and by shape', () => {
  const ds = data.loadBinarizedMnist('test', { limit: 4 });
  const copy = new data.ImageDataset(ds.images.slice(), ds.labels, 28, 28, 'test');
  assert.equal(data.fingerprint(copy), data.fingerprint(ds));
  assert.match(data.fingerprint(ds), /^[0-9a-f]{16}$/);
  const flipped = ds.images.slice();
  flipped[100] = 1 - flipped[100];
  assert.notEqual(
    data.fingerprint(new data.ImageDataset(flipped, ds.labels, 28, 28, 'test')),
    data.fingerprint(ds),
  );
  const transposed = new data.ImageDataset(ds.images, ds.labels, 14, 56, 'test');
  assert.notEqual(data.fingerprint(transposed), data.fingerprint(ds));
  assert.throws(
    () => data.loadBinarizedMnist('valid' as data.Split),
    /split must be one of 'train', 'test', got 'valid'/,
  );
});
