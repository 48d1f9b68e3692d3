export * from './ais';
export * from './binary';
export * from './dbn';
export * from './fvbm';
export * from './rbm';
export * from './train';
