export * from './gan';
export * from './losses';
export * from './trainer';
