export * from './dense';
