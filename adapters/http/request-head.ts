/**
 * The HttpRequestHead of a request that a Node server (node:http, express, connect, fastify) already parsed,
 * for the core's cgiFromHttp: the built-in server's handler, toNode and the fastify plugin.
 */
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { hasRequestBody } from '../../app-api/bridge/target.js';
import type { CgiVars } from '../../app-api/types.js';
import type { HttpRequestHead } from '../../gateway/core/environ.js';

/** The two ends of a connection, as the head reports them. */
interface Ends {
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly localAddress?: string;
  readonly localPort?: number;
}

const kEnds = Symbol('tsgi.http.ends');
type WithEnds = Socket & { [kEnds]?: Ends };

/**
 * The ends of an HTTP/1 socket, read once per connection: each of the four getters is a call into net.Socket
 * (the two address lookups are cached there, the calls are not), and a keep-alive connection asks for every
 * request (measured in perf samples: 0.7% of a hello-world request on the built-in server). Read after the
 * first request's head, so an address a PROXY protocol header gave the socket (adapters/proxy/accept.ts) is
 * the one kept.
 */
function endsOf(socket: WithEnds): Ends {
  return (socket[kEnds] ??= {
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remotePort,
    localAddress: socket.localAddress,
    localPort: socket.localPort,
  });
}

/** The head of `req`; `url` overrides req.url (a mounted app's full path); `scheme` when the caller knows it. */
export function headFromNode(req: IncomingMessage | Http2ServerRequest, url?: string, scheme?: 'http' | 'https'): HttpRequestHead {
  const socket = req.socket;
  // An HTTP/2 request's socket is a proxy of the session's (nothing to gain, and it throws once the session is gone).
  const ends: Ends = isHttp2Request(req) ? socket : endsOf(socket as WithEnds);
  return {
    method: req.method ?? 'GET',
    url: url ?? req.url ?? '/',
    httpVersion: req.httpVersion,
    rawHeaders: req.rawHeaders,
    remoteAddress: ends.remoteAddress,
    remotePort: ends.remotePort,
    localAddress: ends.localAddress,
    localPort: ends.localPort,
    scheme: scheme ?? ((socket as TLSSocket).encrypted === true ? 'https' : 'http'),
  };
}

/**
 * True for a request that came over an HTTP/2 stream. Not `httpVersionMajor === 2`: an HTTP/1 request line
 * may claim `HTTP/2.0` (llhttp parses it), and such a request has no stream and needs the HTTP/1 writer.
 */
export function isHttp2Request(req: IncomingMessage | Http2ServerRequest): req is Http2ServerRequest {
  return (req as Http2ServerRequest).stream !== undefined;
}

/**
 * True when the request has a body to read (Node parsed Content-Length / Transfer-Encoding already). `cgi`:
 * the request's CGI variables when built, read instead of `req.headers` (which Node builds from rawHeaders
 * on first read: measured at 2.6% of a hello-world request's CPU on the inline path, bench/inline-path.ts).
 */
export function nodeHasBody(req: IncomingMessage | Http2ServerRequest, cgi?: CgiVars): boolean {
  if (isHttp2Request(req)) return !(req as Http2ServerRequest).stream.endAfterHeaders;
  if (cgi !== undefined) return hasRequestBody(cgi);
  const h = req.headers;
  return h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0');
}
