export * as autoregressive from './autoregressive';
export * as boltzmann from './boltzmann';
export * as ebm from './ebm';
export * as flows from './flows';
export * as gan from './gan';
export * as gaussian from './gaussian';
export * as gmm from './gmm';
export * as vae from './vae';
