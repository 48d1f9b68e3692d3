/**
 * Child process of the checkpoint crash tests: saves to DIR again and again, each save a config
 * { counter, writer } with every weight equal to the counter, and prints `saved N` after each.
 *   node save-loop-child.js DIR WRITER [SAVES]   (SAVES: stop after that many; default forever)
 */
import { tf, training } from 'genlab';

const [dir, writer, saves] = process.argv.slice(2);
const limit = saves === undefined ? Infinity : Number(saves);
// 2^20 floats in two tensors: 4 MiB of weights per save, so that a kill often lands mid-write.
for (let counter = 1; counter <= limit; counter++) {
  const tensors = { a: tf.fill([1 << 19], counter), b: tf.fill([512, 1024], counter) };
  training.saveCheckpoint(dir, { counter, writer: Number(writer) }, tensors);
  tf.dispose(Object.values(tensors));
  process.stdout.write(`saved ${counter}\n`);
}
