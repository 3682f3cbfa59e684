/**
 * The server side of tsgi. `core/` is the transport-neutral gateway core every front shares (environ,
 * serveApp, dispatch, sink, log, inject); the rest of this folder is the server runtime built on it.
 */
export { buildEnviron, cgiFromHttp, cgiFromGateway, decodePath, splitMount, SERVER_SOFTWARE, type HttpRequestHead, type CgiOptions, type EnvironContext } from './core/environ.js';
export { serveApp, type ServeOptions } from './core/serve-app.js';
export { ErrorLog, MemoryLog, type LogTarget } from './core/log.js';
export type { ResponseSink } from './core/sink.js';
export { inject, type InjectRequest, type InjectResponse } from './core/inject.js';
export { InlineDispatcher, type Dispatcher, type DispatcherOptions, type RequestHead } from './core/dispatch.js';
export { ThreadPoolDispatcher, createThreadDispatcher, sharedCache, sharedArray, sharedCacheStats, type ThreadDispatcherOptions, type ThreadPoolStats, type SharedCache, type SharedTypedArray } from './threads/index.js';
export { Engine, CHANNELS, type Channel, type Listener, type LifecycleEvent, type AppSetup, type SetupContext } from './lifecycle/index.js';
