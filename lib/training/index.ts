export * from './adam';
export * from './checkpoint';
export * from './history';
export * from './trainer';
