export * from './diagnostics';
export * from './gibbs';
export * from './targets';
export * from './figures';
