export * from './vae';
export * from './train';
export * from './iwae';
export * from './latent';
export * from './checkpoint';
export * from './networks';
export * from './codes';
export * from './summary';
