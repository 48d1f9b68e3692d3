export * from './gan';
export * from './dcgan';
export * from './losses';
export * from './trainer';
export * from './mnist';
export * from './plots';
export * from './ring';
