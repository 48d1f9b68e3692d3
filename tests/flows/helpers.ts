import assert from 'node:assert/strict';
import { data, models, tf } from 'genlab';

type Flow = models.flows.Flow;

/**
 * max |f⁻¹(f(z)) - z| and max |log det f(z) + log det f⁻¹(f(z))| over the batch (both 0 for an
 * exact inverse).
 */
export function inverseErrors(layer: Flow, z: tf.Tensor2D): { points: number; logDet: number } {
  return tf.tidy(() => {
    const f = layer.forward(z);
    const back = layer.inverse!(f.y);
    return {
      points: tf.max(tf.abs(tf.sub(back.y, z))).dataSync()[0],
      logDet: tf.max(tf.abs(tf.add(back.logDet, f.logDet))).dataSync()[0],
    };
  });
}

/** Gives every variable of a layer random values (new layers start as the identity). */
export function randomizeVariables(layer: Flow, std: number): void {
  for (const v of Object.values(layer.namedVariables())) v.assign(tf.randomNormal(v.shape, 0, std));
}

/**
 * Fits a flow to 512 points of two moons by maximum likelihood (2 warm-up steps, then 80) and
 * returns the test NLL before and after, and the losses; fails if a training step leaks tensors.
 */
export async function fitMoons(
  flow: models.flows.NormalizingFlow,
): Promise<{ before: number; after: number; losses: number[] }> {
  const train = data.moons(512, { seed: 1 }).tensor();
  const testSet = data.moons(512, { seed: 2 }).tensor();
  const nll = () => tf.tidy(() => models.flows.negativeLogLikelihood(flow, testSet).dataSync()[0]);
  const before = nll();
  await models.flows.fitMaximumLikelihood(flow, train, { steps: 2, batchSize: 64 });
  const tensors = tf.memory().numTensors;
  const { losses } = await models.flows.fitMaximumLikelihood(flow, train, {
    steps: 80,
    batchSize: 128,
    learningRate: 0.01,
  });
  assert.equal(tf.memory().numTensors, tensors, 'training steps must not leak tensors');
  const after = nll();
  tf.dispose([train, testSet]);
  return { before, after, losses };
}
