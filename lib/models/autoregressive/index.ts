export * from './masks';
export * from './made';
