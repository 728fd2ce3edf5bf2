// Worker thread entry (plain JS): register tsx's loader in this thread, then load the TypeScript worker.
// Passing `--import tsx` in the worker's execArgv does not apply the loader to the worker's entry on Node 20.
import { register } from 'tsx/esm/api';

register();
await import('./render-worker.ts');
