/**
 * The HttpRequestHead of a request that a Node server (node:http, express, connect, fastify) already parsed,
 * for the core's cgiFromHttp: the built-in server's handler, toNode and the fastify plugin.
 */
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { HttpRequestHead } from '../../gateway/core/environ.js';

/** The head of `req`; `url` overrides req.url (a mounted app's full path); `scheme` when the caller knows it. */
export function headFromNode(req: IncomingMessage | Http2ServerRequest, url?: string, scheme?: 'http' | 'https'): HttpRequestHead {
  const socket = req.socket;
  return {
    method: req.method ?? 'GET',
    url: url ?? req.url ?? '/',
    httpVersion: req.httpVersion,
    rawHeaders: req.rawHeaders,
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remotePort,
    localAddress: socket.localAddress,
    localPort: socket.localPort,
    scheme: scheme ?? ((socket as TLSSocket).encrypted === true ? 'https' : 'http'),
  };
}

/** True when the request has a body to read (Node parsed Content-Length / Transfer-Encoding already). */
export function nodeHasBody(req: IncomingMessage | Http2ServerRequest): boolean {
  if (req.httpVersionMajor === 2) return !(req as Http2ServerRequest).stream.endAfterHeaders;
  const h = req.headers;
  return h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0');
}
