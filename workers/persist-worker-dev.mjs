// Development entry point (tsx / vitest only): Node 20 ignores ESM loaders passed to worker
// threads through execArgv, so this plain-JS file registers tsx inside the worker itself and
// then loads the TypeScript worker. The build starts dist/workers/persist-worker.js directly.
import { register } from 'tsx/esm/api';

register();
const worker = await import(new URL('./persist-worker.ts', import.meta.url).href);

export default worker.default;
