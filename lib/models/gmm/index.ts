export * from './bernoulli-mixture';
export * from './gaussian-mixture';
export * from './figures';
