/**
 * Adam (Kingma & Ba 2015) for the kit's trainers: tfjs's AdamOptimizer, whose update runs as one
 * GenlabAdam kernel per variable where the backend has it (wasm with the native addon) instead of
 * 14 elementwise kernels, with the same float32 numbers. Only optimizers made here are affected;
 * tf.train.adam stays tfjs's own.
 */
import * as tf from '@tensorflow/tfjs';
import { fusedAdamApply, fusedAdamAvailable, NamedGradients } from '../runtime/kernels';

class KitAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(variableGradients: NamedGradients): void {
    if (fusedAdamAvailable()) fusedAdamApply(this, variableGradients);
    else super.applyGradients(variableGradients);
  }
}

/**
 * Adam with tf.train.adam's arguments and defaults (epsilon: tfjs's backend epsilon, 1e-7 in
 * float32; pass 1e-8 for PyTorch's).
 */
export function adam(
  learningRate = 0.001,
  beta1 = 0.9,
  beta2 = 0.999,
  epsilon?: number,
): tf.AdamOptimizer {
  return new KitAdamOptimizer(learningRate, beta1, beta2, epsilon);
}
