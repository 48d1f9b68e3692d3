export * from './classifier';
export * from './frechet';
export * from './linalg';
export * from './quality';
export * from './likelihood';
export * from './leaderboard';
export * from './mnist-leaderboard';
