/**
 * `tsgi/bridge`: tsgi apps and the other Node interfaces, both ways.
 *
 * - `fromFetch(handler)`, `fromNode(listener)`: a fetch handler (Hono...) or a Node listener (express,
 *   connect, node:http) as a tsgi app (app-api/bridge);
 * - `toFetch(app)`, `toNode(app)`: a tsgi app as a fetch handler or a Node listener (adapters/fetch,
 *   adapters/node: they are fronts, built on the gateway core);
 * - `tsgiFastify`: a fastify plugin mounting a tsgi app at a prefix (adapters/node/fastify-plugin.ts).
 */
export * from './app-api/bridge/index.js';
export { toFetch, type ToFetchOptions, type TsgiFetchHandler } from './adapters/fetch/to-fetch.js';
export { toNode, type ToNodeOptions, type TsgiNodeListener } from './adapters/node/to-node.js';
export { tsgiFastify, type TsgiFastifyOptions } from './adapters/node/fastify-plugin.js';
