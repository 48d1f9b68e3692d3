export * from './classifier';
export * from './frechet';
export * from './linalg';
export * from './quality';
