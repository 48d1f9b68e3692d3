export * from './kl-fit';
export * from './mle';
export * from './sample';
