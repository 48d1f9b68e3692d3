/**
 * Probability distributions over TensorFlow.js tensors, modelled on torch.distributions: sample /
 * rsample, logProb, mean, variance, entropy, and kl(p, q) with registered closed forms and a Monte
 * Carlo fallback.
 */
export * from './bernoulli';
export * from './categorical';
export * from './distribution';
export * from './estimators';
export * from './figures';
export * from './independent';
export * from './kl';
export * from './linalg';
export * from './mixture';
export * from './mvn';
export * from './normal';
export * from './uniform';
export * from './util';
export * from './linear-gaussian';
