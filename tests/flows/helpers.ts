import assert from 'node:assert/strict';
import { data, models, tf } from 'genlab';

type Flow = models.flows.Flow;
const { jacobian, logAbsDet } = models.flows;

/**
 * max over points of |det_formula / det_autodiff - 1| for both directions of a layer: its
 * log-determinant against log |det J| of the Jacobian from autodiff, by LU in float64. Also returns
 * the largest |log det| seen, so a test can check the layer is not volume-preserving by accident.
 */
export function logDetErrors(
  layer: Flow,
  z: tf.Tensor2D,
): { forward: number; inverse: number; largest: number } {
  const y = tf.tidy(() => layer.forward(z).y);
  const worst = (f: (x: tf.Tensor2D) => models.flows.FlowResult, at: tf.Tensor2D) => {
    const { y: out, logDet } = f(at);
    const ld = logDet.arraySync();
    tf.dispose([out, logDet]);
    const jac = jacobian((x) => f(x).y, at);
    return {
      error: Math.max(...jac.map((j, i) => Math.abs(Math.expm1(ld[i] - logAbsDet(j))))),
      largest: Math.max(...ld.map(Math.abs)),
    };
  };
  const forward = worst((x) => layer.forward(x), z);
  const inverse = worst((x) => layer.inverse!(x), y);
  y.dispose();
  return { forward: forward.error, inverse: inverse.error, largest: forward.largest };
}

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
  const losses = await models.flows.fitMaximumLikelihood(flow, train, {
    steps: 80,
    batchSize: 128,
    learningRate: 0.01,
  });
  assert.equal(tf.memory().numTensors, tensors, 'training steps must not leak tensors');
  const after = nll();
  tf.dispose([train, testSet]);
  return { before, after, losses };
}
