/**
 * `fromNode(listener)`: a Node `(req, res)` listener, an express app or a connect app as a tsgi app, so it runs
 * unchanged as FastCGI under nginx, as CGI, and in every tsgi mode. Each request gets an IncomingMessage
 * (node-request.ts) and a ServerResponse (node-response.ts) backed by the environ and startResponse, and a
 * socket stand-in (node-socket.ts) carrying REMOTE_ADDR and the scheme.
 *
 * Mounting: `req.url` is PATH_INFO + query (relative to the mount point, as express gives a mounted sub-app),
 * `req.baseUrl` is SCRIPT_NAME and `req.originalUrl` the full path; express keeps both, so `req.baseUrl +
 * req.path` and redirects relative to `req.originalUrl` are right under any prefix.
 *
 * Not provided (TSGI_ERR_BRIDGE_UNSUPPORTED when used): `socket.setTimeout()` (and req/res.setTimeout),
 * `socket.address()`, 1xx responses (`writeContinue`, `writeProcessing`, `writeEarlyHints`), trailers
 * (`addTrailers`). Never emitted: `'upgrade'` / `'connect'` (no WebSocket or CONNECT through a tsgi
 * response), `'checkContinue'`. `req.socket` is not a net.Socket: it has the address fields and `encrypted`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tsgiError } from '../errors.js';
import type { App, Body } from '../types.js';
import { ChunkQueue } from './chunk-queue.js';
import { nodeRequest } from './node-request.js';
import { nodeResponse } from './node-response.js';
import { BridgeSocket } from './node-socket.js';

/** A Node request listener: node:http's `(req, res)`, an express app, a connect app. */
export type NodeListener = (req: IncomingMessage, res: ServerResponse) => unknown;

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return x !== null && typeof x === 'object' && typeof (x as PromiseLike<unknown>).then === 'function';
}

/**
 * Make a tsgi app of a Node listener.
 *
 *     import express from 'express';
 *     const web = express().get('/', (req, res) => res.send('hi'));
 *     export const app = fromNode(web);
 */
export function fromNode(listener: NodeListener): App {
  if (typeof listener !== 'function') {
    throw tsgiError('TSGI_ERR_APP_LOAD', { problem: `fromNode was given ${listener === null ? 'null' : typeof listener}, not a function`, fix: 'pass a (req, res) function: a node:http listener, an express or a connect app' });
  }
  return (environ, startResponse) => {
    const socket = new BridgeSocket(environ);
    const req = nodeRequest(environ, socket);
    const queue = new ChunkQueue(() => {
      if (!res.writableEnded) res.emit('drain');
    });
    const res = nodeResponse(req, queue, startResponse);
    res.assignSocket(socket as never);
    // A real server emits 'close' on both once the response is done (on-finished and friends wait for it).
    res.once('finish', () => {
      process.nextTick(() => {
        res.emit('close');
        req.emit('close');
      });
    });

    const result = listener(req, res);
    if (isThenable(result)) {
      // An async listener that rejects: a 500 if nothing went out yet, else the connection is cut.
      Promise.resolve(result).catch((err: unknown) => queue.fail(err instanceof Error ? err : new Error(String(err))));
    }
    // Fast path: the listener answered synchronously (res.send / res.end): the gateway gets the whole body
    // and sends it with a Content-Length in one write.
    const whole = res.headersSent ? queue.takeAll() : null;
    if (whole !== null) return whole;
    const body: Body = {
      [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
      close() {
        if (queue.isEnded && !queue.stopped) return;
        // Stopped before the end: as when the client goes away from a Node server.
        queue.stopped = true;
        socket.destroy();
        req.destroy();
      },
    };
    return body;
  };
}
