/**
 * Annealed importance sampling for the partition function of a two-layer DBM (Salakhutdinov &
 * Hinton 2009). The base model A has no weights, visible biases a_A and zero hidden biases, so Z_A
 * = 2^H1 2^H2 Π_i (1 + e^{a_A,i}). The intermediate models p_β ∝ exp(-(1 - β) E_A - β E) are run
 * on h1 alone, with v and h2 summed out (they are independent given h1):
 *   log f_β(h1) = β b1^T h1 + Σ_i softplus((1 - β) a_A,i + β (a + W1 h1)_i)
 *                 + Σ_k softplus(β (b2 + h1^T W2)_k),
 * and the transition T_β draws v ~ p_β(v | h1), h2 ~ p_β(h2 | h1), then h1 ~ p_β(h1 | v, h2),
 * which leaves p_β(h1) invariant. As for the RBM (ais.ts): log w += log f_βk(h1) - log f_βk-1(h1),
 * E[w] = Z / Z_A.
 */
import * as tf from '@tensorflow/tfjs';
import { AisOptions, AisResult, aisSettings, summarizeLogWeights } from './ais';
import { bernoulli } from './binary';
import { DeepBoltzmannMachine } from './dbm';

/** log Z of a DBM by annealed importance sampling, with its uncertainty. */
export function dbmAnnealedImportanceSampling(
  dbm: DeepBoltzmannMachine,
  options: AisOptions = {},
): AisResult {
  const { runs, betas, baseBias } = aisSettings(
    'dbmAnnealedImportanceSampling',
    options,
    dbm.visible,
  );
  const logZBase =
    tf.tidy(() => tf.sum(tf.softplus(baseBias)).dataSync()[0]) +
    (dbm.hidden1 + dbm.hidden2) * Math.LN2;
  // log f_β(h1) from the fields a + W1 h1 [runs, D] and b2 + h1^T W2 [runs, H2]
  const logF = (h1: tf.Tensor2D, visible: tf.Tensor2D, top: tf.Tensor2D, beta: number) =>
    tf.addN([
      tf.mul(tf.sum(tf.mul(h1, dbm.hiddenBias1), 1), beta),
      tf.sum(tf.softplus(tf.add(tf.mul(baseBias, 1 - beta), tf.mul(visible, beta))), 1),
      tf.sum(tf.softplus(tf.mul(top, beta)), 1),
    ]);
  let h1 = tf.tidy(() => bernoulli(tf.fill([runs, dbm.hidden1], 0.5))) as tf.Tensor2D;
  let logW = tf.zeros([runs]) as tf.Tensor1D;
  try {
    for (let k = 1; k < betas.length; k++) {
      const beta = betas[k];
      const next = tf.tidy(() => {
        const visible = dbm.visibleField(h1);
        const top = dbm.hidden2Field(h1);
        const w = tf.add(
          logW,
          tf.sub(logF(h1, visible, top, beta), logF(h1, visible, top, betas[k - 1])),
        ) as tf.Tensor1D;
        if (k === betas.length - 1) return { h1: h1.clone(), w };
        const v = bernoulli(
          tf.sigmoid(tf.add(tf.mul(baseBias, 1 - beta), tf.mul(visible, beta))),
        ) as tf.Tensor2D;
        const h2 = bernoulli(tf.sigmoid(tf.mul(top, beta))) as tf.Tensor2D;
        return { h1: bernoulli(tf.sigmoid(tf.mul(dbm.hidden1Field(v, h2), beta))), w };
      });
      tf.dispose([h1, logW]);
      h1 = next.h1 as tf.Tensor2D;
      logW = next.w;
      options.onProgress?.(k, betas.length - 1);
    }
    const logWeights = Float64Array.from(logW.dataSync());
    const summary = summarizeLogWeights(logWeights, logZBase);
    if (summary.warning && (options.warn ?? true)) console.warn(summary.warning);
    return { ...summary, logZBase, logWeights, interrupted: false };
  } finally {
    tf.dispose([h1, logW, baseBias]);
  }
}
