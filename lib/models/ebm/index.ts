export * from './buffer';
export * from './checks';
export * from './contrastive';
export * from './energy';
export * from './grid';
export * from './langevin';
export * from './score-matching';
export * from './train';
