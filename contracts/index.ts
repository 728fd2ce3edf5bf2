export * from './options.ts';
export * from './errors.ts';
export * from './limits.ts';
export * from './job.ts';
export * from './config.ts';
