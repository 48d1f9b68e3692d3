export * from './figures';
export * from './kl-fit';
export * from './mle';
export * from './sample';
