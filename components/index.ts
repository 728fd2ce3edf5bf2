/**
 * The public surface of the package (`import { MediaPipeline } from 'media-pipeline'`): the component
 * and its args, nothing internal.
 */
export { MediaPipeline } from './media-pipeline.ts';
export type { MediaPipelineArgs } from './media-pipeline.ts';
