/**
 * The GAN objectives of lecture 002, written on the discriminator's logits l (D = sigmoid(l)) so
 * that log D = -softplus(-l) and log(1 - D) = -softplus(l) stay finite when D saturates at 0 or 1.
 */
import * as tf from '@tensorflow/tfjs';

function checkLogits(what: string, logits: tf.Tensor): void {
  if (logits.rank !== 2 || logits.shape[1] !== 1) {
    throw new Error(
      `${what}: expected discriminator logits of shape [batch, 1], got ` +
        `[${logits.shape.join(', ')}]`,
    );
  }
  if (logits.shape[0] === 0) throw new Error(`${what}: the batch is empty`);
}

/**
 * The discriminator's loss, to minimize: the negative of the objective it ascends,
 * L_D = -(1/n) Σ [log D(x_i) + log(1 - D(G(z_i)))].
 */
export function discriminatorLoss(realLogits: tf.Tensor, fakeLogits: tf.Tensor): tf.Scalar {
  checkLogits('discriminatorLoss(realLogits)', realLogits);
  checkLogits('discriminatorLoss(fakeLogits)', fakeLogits);
  // -log D(x) = softplus(-l_real);  -log(1 - D(G(z))) = softplus(l_fake)
  return tf.tidy(
    () =>
      tf.add(
        tf.mean(tf.softplus(tf.neg(realLogits))),
        tf.mean(tf.softplus(fakeLogits)),
      ) as tf.Scalar,
  );
}

/**
 * The minimax generator loss, to minimize: L_G = (1/n) Σ log(1 - D(G(z_i))).
 * Its gradient vanishes when the discriminator confidently rejects the fakes (D(G(z)) -> 0).
 */
export function minimaxGeneratorLoss(fakeLogits: tf.Tensor): tf.Scalar {
  checkLogits('minimaxGeneratorLoss(fakeLogits)', fakeLogits);
  // log(1 - D(G(z))) = -softplus(l_fake)
  return tf.tidy(() => tf.neg(tf.mean(tf.softplus(fakeLogits))) as tf.Scalar);
}

/**
 * The non-saturating generator loss ("flip the labels"), to minimize: L_G = -(1/n) Σ log D(G(z_i)).
 * Same fixed point as the minimax loss, but a strong gradient exactly where the minimax one
 * vanishes.
 */
export function nonSaturatingGeneratorLoss(fakeLogits: tf.Tensor): tf.Scalar {
  checkLogits('nonSaturatingGeneratorLoss(fakeLogits)', fakeLogits);
  // -log D(G(z)) = softplus(-l_fake)
  return tf.tidy(() => tf.mean(tf.softplus(tf.neg(fakeLogits))) as tf.Scalar);
}

export type GeneratorLossName = 'minimax' | 'nonSaturating';

export const GENERATOR_LOSSES: Record<GeneratorLossName, (fakeLogits: tf.Tensor) => tf.Scalar> = {
  minimax: minimaxGeneratorLoss,
  nonSaturating: nonSaturatingGeneratorLoss,
};

/**
 * The generator loss function of a given name; an unknown name is an error listing the valid ones.
 */
export function generatorLoss(name: GeneratorLossName): (fakeLogits: tf.Tensor) => tf.Scalar {
  const loss = GENERATOR_LOSSES[name];
  if (!loss) throw new Error(`unknown generator loss '${name}': use 'minimax' or 'nonSaturating'`);
  return loss;
}
