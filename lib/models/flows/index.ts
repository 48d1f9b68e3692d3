export * from './flow';
export * from './planar';
export * from './coupling';
export * from './energies';
export * from './train';
export * from './jacobian';
export * from './figures';
