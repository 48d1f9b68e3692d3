export * from './figure';
export * from './image';
export * from './show';
export * from './export';
export * from './grid';
export * from './ranges';
