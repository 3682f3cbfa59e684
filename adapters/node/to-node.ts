/**
 * `toNode(app)`: a tsgi app as a Node `(req, res)` listener, for node:http, express and connect. The request
 * goes through the same core as the built-in server (cgiFromHttp, InlineDispatcher, serveApp, the HTTP
 * sinks), so the app sees the same environ and the client gets the same framing and error answers.
 *
 * Mounted in express (`web.use('/legacy', toNode(app))`), express's `req.baseUrl` becomes SCRIPT_NAME and the
 * rest PATH_INFO, so the app's links stay right under the prefix.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App } from '../../app-api/types.js';
import { decodePath } from '../../gateway/core/environ.js';
import { InlineDispatcher } from '../../gateway/core/dispatch.js';
import { ErrorLog } from '../../gateway/core/log.js';
import { dispatchNode } from './dispatch-node.js';

/** Options of toNode. */
export interface ToNodeOptions {
  /** Mount point (SCRIPT_NAME) when the listener is not mounted by express/connect; requests outside get 404. */
  scriptName?: string;
  /** Where errors of the app are logged (default stderr). */
  log?: ErrorLog;
  /** `tsgi.app_config`. */
  appConfig?: Readonly<Record<string, string>>;
}

/** A Node listener; the optional `next` (express, connect) is never called: the app answers every request. */
export type TsgiNodeListener = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void;

interface MountedRequest extends IncomingMessage {
  baseUrl?: string;
  originalUrl?: string;
}

/**
 * Make a Node listener of a tsgi app.
 *
 *     http.createServer(toNode(app)).listen(8080);
 *     expressApp.use('/legacy', toNode(app));
 */
export function toNode(app: App, opts: ToNodeOptions = {}): TsgiNodeListener {
  const log = opts.log ?? new ErrorLog();
  const dispatcher = new InlineDispatcher(app, { log, appConfig: opts.appConfig });
  return (req, res) => {
    const mounted = req as MountedRequest;
    let scriptName = opts.scriptName ?? '';
    let url: string | undefined;
    if (typeof mounted.baseUrl === 'string' && mounted.baseUrl !== '' && typeof mounted.originalUrl === 'string') {
      // express/connect stripped its mount path from req.url: give the app the full path and the mount.
      url = mounted.originalUrl;
      try {
        scriptName = decodePath(mounted.baseUrl);
      } catch {
        scriptName = mounted.baseUrl;
      }
    }
    const done = dispatchNode(dispatcher, log, req, res, scriptName, url);
    if (done !== undefined) done.catch((err: unknown) => log.log('error', 'toNode: dispatch failed', err));
  };
}
