export * from './checkpoint';
export * from './history';
