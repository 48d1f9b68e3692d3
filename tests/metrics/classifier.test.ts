import { test } from 'node:test';
import assert from 'node:assert/strict';
import { data, metrics, runtime, tf } from 'genlab';

// Loads build/models/mnist-classifier (trains and saves it first if missing: a few minutes, once).
let clf: metrics.MnistClassifier;
let testSet: data.ImageDataset;

test('setup', async () => {
  await runtime.init({ seed: 0, report: false });
  clf = (await metrics.mnistClassifier()).classifier;
  testSet = data.loadMnist('test');
});

test('the metrics classifier reaches at least 98% accuracy on the 10,000 test images', () => {
  const acc = clf.accuracy(testSet);
  assert.ok(acc >= 0.98, `test accuracy ${acc}`);
});

test('on real test digits the class histogram covers 10 modes with the entropy of the labels', () => {
  const x = testSet.imagesTensor();
  const h = metrics.classHistogram(clf, x);
  const labelCounts = new Array(10).fill(0);
  for (const y of testSet.labels) labelCounts[y]++;
  assert.equal(h.modesCovered, 10);
  // At 98% accuracy at most 2% of the mass moves between classes.
  assert.ok(
    Math.abs(h.entropy - metrics.histogramEntropy(labelCounts)) < 0.02,
    `entropy ${h.entropy}`,
  );
  assert.ok(Math.abs(h.fractions.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  x.dispose();
});

test(
  'MNIST-FID: zero for identical sets, small for two halves of the test set, large against ' +
    'one class',
  () => {
    const all = testSet.take(4000);
    const a = tf.tensor2d(all.images.subarray(0, 2000 * 784), [2000, 784]);
    const b = tf.tensor2d(all.images.subarray(2000 * 784), [2000, 784]);
    const ones = testSet.ofClasses([1]).imagesTensor();
    const statsA = metrics.featureStats(clf, a);
    assert.ok(metrics.mnistFid(clf, statsA, a) < 1e-6);
    const floor = metrics.mnistFid(clf, statsA, b);
    const collapsed = metrics.mnistFid(clf, statsA, ones);
    assert.ok(floor > 0 && collapsed > 10 * floor, `halves ${floor}, ones only ${collapsed}`);
    tf.dispose([a, b, ones]);
  },
);

test('classifier inputs of the wrong shape are clear errors', () => {
  const wrong = tf.zeros([3, 28, 28]) as unknown as tf.Tensor2D;
  assert.throws(
    () => clf.predict(wrong),
    /expected images \[n, 784\] in \[0, 1\], got \[3, 28, 28\]/,
  );
  assert.throws(() => new metrics.MnistClassifier([784, 10]), /at least one hidden layer/);
  const blank = tf.zeros([2, 784]) as tf.Tensor2D;
  assert.throws(() => metrics.classHistogram(clf, blank, 0), /minFraction must be in \(0, 1\]/);
  tf.dispose([wrong, blank]);
});
