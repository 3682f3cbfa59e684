/** The worker-thread concurrency models (threadPool=N, threading=1) and the shared typed-array cache. */
export { ThreadPoolDispatcher, createThreadDispatcher, type ThreadDispatcherOptions, type ThreadPoolStats, type ThreadStats } from './thread-pool.js';
export { sharedCache, sharedArray, sharedCacheStats, type SharedCache, type SharedCacheStats, type SharedTypedArray } from './shared-cache.js';
