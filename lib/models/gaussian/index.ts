export * from './kl-fit';
export * from './mle';
