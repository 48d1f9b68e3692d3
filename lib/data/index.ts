export * from './idx';
export * from './mnist';
export * from './moons';
export * from './penguins';
export * from './ring';
export * from './pixels';
export * from './binarized';
