/**
 * The app side of the bridge: apps written for other Node interfaces, run as tsgi apps. The server side
 * (`toFetch`, `toNode`, the fastify plugin) serves tsgi apps and lives with the fronts in adapters/; the
 * package export `tsgi/bridge` has both.
 */
export { fromFetch, requestFromEnviron, headerList, type FetchHandler, type FetchFunction, type FromFetchOptions } from './from-fetch.js';
export { fromNode, type NodeListener } from './from-node.js';
export type { BridgeRequest } from './node-request.js';
export { requestUrl, requestHeaders, encodePath } from './target.js';
