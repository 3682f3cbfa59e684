/**
 * CherryPy-style tools: middleware `(app, options) => app`, usable in code (`import { sessions } from
 * 'tsgi/tools'`) and switched on from the INI file by name (`[/] tools.sessions.on = 1`). TOOLS is the
 * registry the config reader checks names and options against and the server builds tools from.
 */
import type { ToolDef } from './tool-def.js';
import { cachingTool } from './caching.js';
import { sessionsTool } from './sessions.js';
import { timingTool } from './timing.js';
import { basicAuthTool } from './auth/basic.js';
import { digestAuthTool } from './auth/digest.js';
import { gzipTool } from './gzip.js';
import { encodeTool } from './encode.js';
import { staticDirTool } from './staticdir.js';
import { staticFileTool } from './staticfile.js';

export type { ToolDef, ToolContext, ToolOptionSpec, ToolOptionType, ToolSharedCache } from './tool-def.js';
export { sessions, sessionsTool, regenerateSessionId, SESSION_KEY, SESSION_ID_KEY, type SessionOptions } from './sessions.js';
export { closeSessionStores, type StorageType } from './sessions/stores.js';
export { isValidSessionId, newSessionId } from './sessions/ids.js';
export type { SessionStore, StoredSession, Unlock } from './sessions/store.js';
export { MemoryStore } from './sessions/memory-store.js';
export { FileStore } from './sessions/file-store.js';
export { RedisStore } from './sessions/redis-store.js';
export { caching, cachingTool, type CachingOptions } from './caching.js';
export { timing, timingTool, type TimingOptions } from './timing.js';
export { accessLog, errorLog, combinedLine, type AccessLogOptions, type ErrorLogOptions } from './logs.js';
export { LogFile, broadcastReopen, reopenLogFiles } from './log-file.js';
export { observe, type ObserveHooks, type ResponseInfo } from './observe.js';
export { staticDir, staticDirTool, type StaticDirOptions } from './staticdir.js';
export { staticFile, staticFileTool, type StaticFileOptions } from './staticfile.js';
export { gzip, gzipTool, type GzipOptions } from './gzip.js';
export { encode, encodeTool, type EncodeOptions } from './encode.js';
export { basicAuth, basicAuthTool, type BasicAuthOptions } from './auth/basic.js';
export { digestAuth, digestAuthTool, type DigestAuthOptions } from './auth/digest.js';
export { objectTree } from './dispatch/object-tree.js';
export { methodDispatch } from './dispatch/method-dispatch.js';
export { expose } from './dispatch/expose.js';
export { FileBody, FILE_KEY } from '../file-body.js';

/**
 * Every tool the INI can switch on, in the order they wrap the app: the first is the outermost (sees the
 * request first and the response last). Adding a tool is one line here. Sessions sit outside caching so a
 * cached page still gets its session cookie and the cache keeps the app's response, not one carrying a
 * client's Set-Cookie.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const TOOLS: readonly ToolDef<any>[] = [
  timingTool,
  // Auth outside sessions: a refused request neither creates nor locks a session.
  basicAuthTool,
  digestAuthTool,
  sessionsTool,
  // Compression inside the cache: a compressed variant is cached under its Vary: Accept-Encoding key.
  cachingTool,
  gzipTool,
  encodeTool,
  // Static files innermost: what they do not serve falls through to the app.
  staticDirTool,
  staticFileTool,
];

/** A tool by its INI name. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function toolByName(name: string): ToolDef<any> | undefined {
  return TOOLS.find((t) => t.name === name);
}
