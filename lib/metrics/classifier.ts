/**
 * A small MNIST classifier trained by the kit (an MLP 784-256-256-10 on nn.MLP), the judge behind
 * the sample-quality metrics: it labels generated digits (class histogram) and its penultimate
 * layer gives the features of MNIST-FID. Trained once, saved under build/models/mnist-classifier
 * and reused.
 */
import * as tf from '@tensorflow/tfjs';
import { adam } from '../training/adam';
import { ImageDataset, loadMnist } from '../data/mnist';
import { MLP } from '../nn';
import { progress, quick, quickOr, runLoop, withSeed } from '../runtime';
import {
  checkArray,
  checkInteger,
  checkInterval,
  checkOptions,
  checkPositive,
  isPositiveInteger,
} from '../runtime/checks';
import {
  assignVariables,
  hasCheckpoint,
  loadCheckpoint,
  modelDir,
  saveCheckpoint,
  savedConfig,
} from '../training';

export interface ClassifierConfig {
  kind: 'mnist-classifier';
  sizes: number[];
  epochs: number;
  testAccuracy: number;
}

/** Where notebooks and tests find the trained classifier: <repo>/build/models/mnist-classifier. */
export const CLASSIFIER_DIR = modelDir('mnist-classifier');

/**
 * Images are processed in chunks of this many rows (bounded memory for 10,000-image evaluations).
 */
const CHUNK = 1000;

export class MnistClassifier {
  readonly mlp: MLP;

  constructor(readonly sizes: number[] = [784, 256, 256, 10]) {
    if (sizes.length < 3 || sizes[0] !== 784 || sizes[sizes.length - 1] !== 10) {
      throw new Error(
        `MnistClassifier: sizes must go from 784 to 10 through at least one hidden layer, got ` +
          `[${sizes.join(', ')}]`,
      );
    }
    this.mlp = new MLP(sizes, { hidden: 'relu', output: 'linear', name: 'clf' });
  }

  /** Dimension of the penultimate-layer features. */
  get featureDim(): number {
    return this.sizes[this.sizes.length - 2];
  }

  private checkImages(what: string, x: tf.Tensor2D): void {
    if (x.rank !== 2 || x.shape[1] !== 784)
      throw new Error(
        `MnistClassifier.${what}: expected images [n, 784] in [0, 1], got [${x.shape.join(', ')}]`,
      );
  }

  /** Class logits [n, 10]. */
  logits(x: tf.Tensor2D): tf.Tensor2D {
    this.checkImages('logits', x);
    return this.mlp.apply(x);
  }

  /** Penultimate-layer activations [n, featureDim], the features of MNIST-FID. */
  features(x: tf.Tensor2D): tf.Tensor2D {
    this.checkImages('features', x);
    return tf.tidy(() => this.mlp.layers.slice(0, -1).reduce((h, layer) => layer.apply(h), x));
  }

  /** Predicted classes of images [n, 784], computed in chunks. */
  predict(images: tf.Tensor2D): Int32Array {
    this.checkImages('predict', images);
    const n = images.shape[0];
    const out = new Int32Array(n);
    for (let start = 0; start < n; start += CHUNK) {
      const size = Math.min(CHUNK, n - start);
      const pred = tf.tidy(() =>
        tf.argMax(this.mlp.apply(tf.slice(images, [start, 0], [size, 784])), 1),
      );
      out.set(pred.dataSync() as Int32Array, start);
      pred.dispose();
    }
    return out;
  }

  /** Penultimate features of images [n, 784] as a flat float array [n * featureDim], in chunks. */
  featureValues(images: tf.Tensor2D): Float32Array {
    this.checkImages('featureValues', images);
    const n = images.shape[0];
    const out = new Float32Array(n * this.featureDim);
    for (let start = 0; start < n; start += CHUNK) {
      const size = Math.min(CHUNK, n - start);
      const f = tf.tidy(() => this.features(tf.slice(images, [start, 0], [size, 784])));
      out.set(f.dataSync() as Float32Array, start * this.featureDim);
      f.dispose();
    }
    return out;
  }

  /** Fraction of a dataset's images classified correctly. */
  accuracy(dataset: ImageDataset): number {
    const x = dataset.imagesTensor();
    const pred = this.predict(x);
    x.dispose();
    let correct = 0;
    for (let i = 0; i < pred.length; i++) if (pred[i] === dataset.labels[i]) correct++;
    return correct / pred.length;
  }

  /**
   * Trains by Adam on the softmax cross-entropy -(1/n) Σ log softmax(f(x_i))_{y_i} for `epochs`
   * passes, with the learning rate decayed by `decay` after each epoch (a fresh Adam per epoch).
   * Returns the mean training loss of each completed epoch; an interrupt stops it after the batch
   * in progress (`interrupted` is then true).
   */
  async train(
    dataset: ImageDataset,
    options: { epochs?: number; batchSize?: number; learningRate?: number; decay?: number } = {},
  ): Promise<{ losses: number[]; interrupted: boolean }> {
    const who = 'MnistClassifier.train';
    checkOptions(who, options, { epochs: true, batchSize: true, learningRate: true, decay: true });
    const { epochs = 10, batchSize = 128, learningRate = 1e-3, decay = 0.8 } = options;
    checkInteger(who, 'epochs', epochs);
    checkInteger(who, 'batchSize', batchSize);
    checkPositive(who, 'learningRate', learningRate);
    checkInterval(who, 'decay', decay, 0, 1, '(]');
    const vars = this.mlp.variables();
    const losses: number[] = [];
    const batchCount = dataset.batchCount(batchSize);
    const interrupted = await runLoop('classifier training', async (loop) => {
      for (let epoch = 1; epoch <= epochs; epoch++) {
        const optimizer = adam(learningRate * decay ** (epoch - 1));
        const bar = progress(batchCount, { label: `classifier epoch ${epoch}` });
        let total = tf.scalar(0);
        try {
          for (const { x, y, index } of dataset.batches(batchSize)) {
            if (await loop.shouldStop()) {
              bar.stop();
              loop.stop(
                `epoch ${epoch}, batch ${index}/${batchCount}`,
                'the classifier keeps its last completed batch',
              );
              return true;
            }
            const loss = optimizer.minimize(
              () =>
                tf.tidy(
                  () =>
                    tf.losses.softmaxCrossEntropy(tf.oneHot(y, 10), this.mlp.apply(x)) as tf.Scalar,
                ),
              true,
              vars,
            ) as tf.Scalar;
            const next = tf.tidy(() => tf.add(total, tf.mul(loss, x.shape[0])) as tf.Scalar);
            tf.dispose([total, loss]);
            total = next;
            bar.tick();
          }
          losses.push(total.dataSync()[0] / dataset.size);
        } finally {
          total.dispose();
          optimizer.dispose();
        }
        bar.done({ 'train loss': losses[losses.length - 1] });
      }
      return false;
    });
    return { losses, interrupted };
  }

  namedVariables(): Record<string, tf.Variable> {
    return this.mlp.namedVariables();
  }

  dispose(): void {
    this.mlp.dispose();
  }
}

/** Checks the config.json of a saved classifier. */
function readClassifierConfig(raw: unknown): ClassifierConfig {
  const who = 'saved MNIST classifier';
  const c = savedConfig(raw, 'mnist-classifier');
  if (c.kind === undefined) throw new Error(`${who}: kind must be 'mnist-classifier'`);
  checkArray(who, 'sizes', c.sizes, isPositiveInteger, 'a positive integer');
  checkInteger(who, 'epochs', c.epochs);
  checkInterval(who, 'testAccuracy', c.testAccuracy, 0, 1);
  return c as unknown as ClassifierConfig;
}

/** Loads a classifier saved by `mnistClassifier` (throws if `dir` holds none). */
export function loadClassifier(dir: string = CLASSIFIER_DIR): {
  classifier: MnistClassifier;
  config: ClassifierConfig;
} {
  const { config, tensors } = loadCheckpoint(dir, readClassifierConfig);
  const classifier = new MnistClassifier(config.sizes);
  try {
    assignVariables(classifier.namedVariables(), tensors, dir);
  } catch (err) {
    classifier.dispose();
    throw err;
  } finally {
    tf.dispose(Object.values(tensors));
  }
  return { classifier, config };
}

/**
 * The metrics classifier: loaded from `dir` when saved there, else trained on the 60,000 training
 * images (10 epochs, a few minutes, once per machine), evaluated on the 10,000 test images, and
 * saved. In quick mode, when no full classifier is saved yet, a 1-epoch one is trained and kept
 * apart in `<dir>-quick` (its accuracy, in the returned config, is lower). It is built and trained
 * from seed 0, and leaves the caller's random stream as it was: the classifier is the same
 * whichever notebook or test trains it first, and the cells after this call draw the same numbers
 * whether it trained or loaded. An interrupted training returns the classifier as it is, marked
 * `interrupted`, and saves nothing.
 */
export function mnistClassifier(
  options: { dir?: string; epochs?: number } = {},
): Promise<{ classifier: MnistClassifier; config: ClassifierConfig; interrupted: boolean }> {
  return withSeed(0, async () => {
    checkOptions('mnistClassifier', options, { dir: true, epochs: true });
    const fullDir = options.dir ?? CLASSIFIER_DIR;
    if (hasCheckpoint(fullDir)) return { ...loadClassifier(fullDir), interrupted: false };
    const dir = quick() ? `${fullDir}-quick` : fullDir;
    if (hasCheckpoint(dir)) return { ...loadClassifier(dir), interrupted: false };
    const classifier = new MnistClassifier();
    const epochs = options.epochs ?? quickOr(10, 1);
    const { interrupted } = await runLoop(
      'the metrics classifier',
      () => classifier.train(loadMnist('train'), { epochs }),
      { then: 'it is not saved, and running the cell again trains it from the start' },
    );
    const config: ClassifierConfig = {
      kind: 'mnist-classifier',
      sizes: classifier.sizes,
      epochs,
      testAccuracy: classifier.accuracy(loadMnist('test')),
    };
    if (!interrupted) saveCheckpoint(dir, config, classifier.namedVariables());
    return { classifier, config, interrupted };
  });
}
