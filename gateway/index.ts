/** The server side of tsgi: the gateway core every front shares. */
export { buildEnviron, cgiFromHttp, cgiFromGateway, decodePath, splitMount, SERVER_SOFTWARE, type HttpRequestHead, type CgiOptions, type EnvironContext } from './environ.js';
export { serveApp, type ServeOptions } from './handler.js';
export { parseStatus, checkHeader, checkHeaders, findHeader, HOP_BY_HOP, type ParsedStatus } from './headers.js';
export { BodyInput, emptyInput, type SyncReader } from './input.js';
export { ErrorLog, MemoryLog, type LogTarget } from './log.js';
export type { ResponseSink } from './sink.js';
export { InlineDispatcher, type Dispatcher, type DispatcherOptions, type RequestHead } from './dispatch.js';
export { ThreadPoolDispatcher, createThreadDispatcher, sharedCache, sharedArray, sharedCacheStats, type ThreadDispatcherOptions, type ThreadPoolStats, type SharedCache, type SharedTypedArray } from './threads/index.js';
export { Engine, CHANNELS, type Channel, type Listener, type LifecycleEvent, type AppSetup, type SetupContext } from './lifecycle/index.js';
