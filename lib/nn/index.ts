export * from './dense';
export * from './conv';
export * from './batchnorm';
export * from './masked-conv';
