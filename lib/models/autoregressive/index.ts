export * from './masks';
export * from './made';
export * from './train';
export * from './checkpoint';
export * from './mnist';
export * from './figures';
export * from './pixelcnn';
export * from './pixelcnn-figures';
