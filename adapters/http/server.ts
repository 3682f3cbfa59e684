/**
 * The built-in HTTP server: fastify underneath, one catch-all route, no body parsing (the raw request
 * stream becomes tsgi.input), the response written by the gateway core through a ResponseSink.
 * HTTP/1.1 with keep-alive, HTTPS, HTTP/2 over TLS with HTTP/1.1 fallback by ALPN, cleartext h2c, unix
 * sockets, a listen backlog, REMOTE_HOST by reverse DNS, and header/idle timeouts on by default.
 */
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2, { type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { TsgiError, tsgiError } from '../../app-api/errors.js';
import { drainFront } from '../connections/drain.js';
import { httpRequestStarted, manageHttpConnections, watchRequestBody } from '../connections/http.js';
import type { ConnectionManager } from '../connections/manager.js';
import { listen } from '../listen.js';
import { refuseRequest } from '../refuse.js';
import { cgiFromHttp, type HttpRequestHead } from '../../gateway/core/environ.js';
import { checkDeclaredBody, checkHttpHead, LimitedBody, requestLimits, type RequestLimits } from '../../gateway/core/limits.js';
import type { Dispatcher, RequestHead } from '../../gateway/core/dispatch.js';
import { ErrorLog } from '../../gateway/core/log.js';
import type { ResponseSink } from '../../gateway/core/sink.js';
import { loadMiddleware } from './middleware-modules.js';
import { acceptProxyProtocol, type ProxyProtocolOptions } from '../proxy/accept.js';
import { ReverseDns } from './reverse-dns.js';
import { http1ClientGone, http2ClientGone } from './client-gone.js';
import { headFromNode, isHttp2Request, nodeHasBody } from './request-head.js';
import { RequestRules } from './request-rules.js';
import { Http1Sink, Http2Sink } from './sink.js';

/** A connect-style middleware: `(req, res, next)`, run by @fastify/middie before the app. */
export type ConnectMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** Options of the built-in server. Times are milliseconds. */
export interface HttpServerOptions {
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Listen on this unix socket instead of TCP. */
  socketFile?: string;
  /** Accept on this inherited listening socket instead (socket activation, a supervisor's socket). */
  fd?: number;
  /** Listen backlog (socketQueueSize). Default 511, as Node. */
  backlog?: number;
  /** PEM private key; with sslCertificateFile turns on HTTPS. */
  sslKeyFile?: string;
  /** PEM certificate (chain). */
  sslCertificateFile?: string;
  /** HTTP/2: over TLS with HTTP/1.1 fallback (ALPN) when TLS is on, else cleartext h2c. */
  http2?: boolean;
  /** Set REMOTE_HOST by reverse DNS (cached, with a deadline); a ReverseDns instance to choose its servers and deadline. */
  reverseDNS?: boolean | ReverseDns;
  /** Deadline for the request head (slowloris). Default 20 s. */
  headerTimeout?: number;
  /** A connection that moves no byte for this long is closed (checked by a sweep: see adapters/connections/manager.ts). 0 = never. Default 60 s. */
  idleTimeout?: number;
  /** How long an idle keep-alive connection stays open. Default 5 s. */
  keepAliveTimeout?: number;
  /** Deadline for receiving the whole request (0 = none, the default: uploads may be long). */
  requestTimeout?: number;
  /** A request in flight that moves no byte for this long: a stalled body is answered 408, else the connection closes. Default idleTimeout. */
  bodyTimeout?: number;
  /** Request line, header and body limits (gateway/core/limits.ts). Default gunicorn's, no body limit. */
  limits?: Partial<RequestLimits>;
  /** Mount point: SCRIPT_NAME. Requests outside it get 404. */
  scriptName?: string;
  /** Connect-style middleware run before the app. */
  middleware?: ConnectMiddleware[];
  /** Middleware by package name (the `middleware` option), loaded by middleware-modules.ts; run after `middleware`. */
  middlewareModules?: readonly string[];
  /** Error log. */
  log?: ErrorLog;
  /** Read a PROXY protocol header (v1/v2) off every connection first (adapters/proxy/accept.ts). */
  proxyProtocol?: ProxyProtocolOptions;
  /**
   * false: build the server but do not listen. The caller feeds it connections itself, with
   * `fastify.server.emit('connection', socket)` (forking) or `fastify.server.listen({ fd })` on an inherited
   * socket (processPool). Default true.
   */
  listen?: boolean;
}

/** A listening server. */
export interface HttpServer {
  readonly fastify: FastifyInstance;
  /** `http://127.0.0.1:8080`-style URL (or the unix socket path). */
  readonly url: string;
  /** The bound TCP port (0 for a unix socket). */
  readonly port: number;
  /** Connections open now. */
  readonly connections: number;
  /** Stop accepting; idle connections close at once, requests in flight get `graceMs` to finish, then connections are closed. */
  close(graceMs?: number): Promise<void>;
}

function readPem(file: string, option: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw tsgiError('TSGI_ERR_CONFIG', { where: option, problem: `cannot read ${file} (${(err as Error).message})`, fix: 'give the path of a PEM file the server can read' }, { cause: err });
  }
}

/** The peer as the log lines name it. */
function peerOf(head: HttpRequestHead): string {
  return head.remotePort === undefined ? (head.remoteAddress ?? 'a unix socket peer') : `${head.remoteAddress}:${head.remotePort}`;
}

/** Create and start the built-in server for a dispatcher. */
export async function startHttpServer(dispatcher: Dispatcher, opts: HttpServerOptions = {}): Promise<HttpServer> {
  const log = opts.log ?? new ErrorLog();
  const tls = opts.sslKeyFile !== undefined || opts.sslCertificateFile !== undefined;
  if (tls && (opts.sslKeyFile === undefined || opts.sslCertificateFile === undefined)) {
    throw tsgiError('TSGI_ERR_CONFIG', { where: 'sslKeyFile, sslCertificateFile', problem: 'HTTPS needs both', fix: 'give both options, or neither for plain HTTP' });
  }
  const key = tls ? readPem(opts.sslKeyFile!, 'sslKeyFile') : undefined;
  const cert = tls ? readPem(opts.sslCertificateFile!, 'sslCertificateFile') : undefined;
  const headersTimeout = opts.headerTimeout ?? 20_000;
  const idleTimeout = opts.idleTimeout ?? 60_000;
  const keepAliveTimeout = opts.keepAliveTimeout ?? 5_000;
  const requestTimeout = opts.requestTimeout ?? 0;
  const scheme = tls ? 'https' : 'http';
  const rdns = opts.reverseDNS instanceof ReverseDns ? opts.reverseDNS : opts.reverseDNS ? new ReverseDns() : null;
  const scriptName = opts.scriptName ?? '';
  const limits = requestLimits(opts.limits);

  // fastify's router is only worth its cost when something is registered on it (connect middleware through
  // @fastify/middie). With a single catch-all route it only adds work per request, so then the Node server
  // calls our handler directly; fastify still builds and closes the server, so both paths behave alike.
  const middleware = [...(opts.middleware ?? []), ...(opts.middlewareModules?.length ? await loadMiddleware(opts.middlewareModules) : [])];
  const useFastify = middleware.length > 0;
  type Handler = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => void;
  let plainHandler: Handler | null = null;
  let closing: Promise<void> | null = null;
  let connections: ConnectionManager | undefined;
  const serverFactory = (fastifyHandler: (req: IncomingMessage, res: ServerResponse) => void): http.Server => {
    // Every request is reported to the connection manager first, whichever handler then serves it.
    const handler = useFastify
      ? (req: IncomingMessage, res: ServerResponse): void => {
          httpRequestStarted(connections!, req, res);
          fastifyHandler(req, res);
        }
      : (req: IncomingMessage, res: ServerResponse): void => {
          httpRequestStarted(connections!, req, res);
          plainHandler!(req, res);
        };
    // Node's own HTTP/1 timers off: the connection manager applies the same timeouts to HTTP/1.1 and
    // HTTP/2 with one sweep (adapters/connections/http.ts). 0 turns each off.
    const h1 = { headersTimeout: 0, requestTimeout: 0, keepAliveTimeout: 0, connectionsCheckingInterval: 2 ** 30 };
    let server: http.Server;
    if (opts.http2) {
      server = (tls ? http2.createSecureServer({ key, cert, allowHTTP1: true }, handler as never) : http2.createServer({}, handler as never)) as unknown as http.Server;
    } else if (tls) server = https.createServer({ key, cert, ...h1 }, handler);
    else server = http.createServer(h1, handler);
    // A client that half-closes (shutdown(SHUT_WR)) after its request still gets its response: by default
    // Node takes the FIN as the request aborted and ends the socket, which loses any response not written in
    // the same tick (every thread-pool response). The client leaving is told through tsgi.client_gone instead.
    (server as unknown as { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    connections = manageHttpConnections(server as unknown as net.Server, {
      headerTimeout: headersTimeout,
      idleTimeout,
      bodyTimeout: opts.bodyTimeout ?? idleTimeout,
      keepAliveTimeout,
      requestTimeout,
    });
    // HTTP/2 sessions and TLS sockets pull the pushed-back bytes themselves; HTTP/1's parser needs a resume.
    if (opts.proxyProtocol !== undefined) acceptProxyProtocol(server as unknown as net.Server, opts.proxyProtocol, !opts.http2 && !tls);
    return server;
  };

  const fastify = Fastify({
    logger: false,
    serverFactory: serverFactory as never,
    http2: opts.http2 === true ? true : undefined,
    return503OnClosing: true,
    // forceCloseConnections left to fastify: 'idle' where the server has closeIdleConnections; cleartext
    // http2.createServer (h2c) has none, and fastify refuses to start when 'idle' is forced on it.
    exposeHeadRoutes: false,
  } as never) as unknown as FastifyInstance;

  if (useFastify) {
    // Registered only when used: middie's onRequest hook is not free on the hot path.
    const { default: middie } = await import('@fastify/middie');
    await fastify.register(middie);
    for (const mw of middleware) (fastify as unknown as { use(fn: ConnectMiddleware): void }).use(mw);
  }

  // No body parsing: the raw stream is the app's tsgi.input.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (_req, _payload, done) => done(null));

  // The RFC refusals the parser leaves to us, and the connections that end after one (request-rules.ts).
  const rules = new RequestRules();

  // One function serves a request, whichever way it arrives.
  const serveRequest = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void | Promise<void> => {
    const http2 = isHttp2Request(req);
    if (rules.followsRefusal(req, http2)) return; // unanswered: the connection closes after the refusal
    const head = headFromNode(req, undefined, scheme);
    const sink: ResponseSink = http2 ? new Http2Sink(res as Http2ServerResponse) : new Http1Sink(res as ServerResponse, useFastify);
    let cgi;
    try {
      rules.check(head, req, res, http2);
    } catch (err) {
      // Framing or routing the parser let through: answer, then close.
      refuseRequest(sink, log, err, { what: `HTTP request ${head.method} ${head.url.slice(0, 200)}`, peer: peerOf(head) });
      return;
    }
    try {
      checkHttpHead(limits, head.method, head.url, head.httpVersion, head.rawHeaders);
      cgi = cgiFromHttp(head, { scriptName });
      checkDeclaredBody(limits, cgi.CONTENT_LENGTH);
    } catch (err) {
      // A refused body is not read to its end to keep the connection: it closes after the answer.
      if (!http2 && (err as { status?: number }).status === 413) (res as ServerResponse).shouldKeepAlive = false;
      refuseRequest(sink, log, err, { what: `HTTP request ${head.method} ${head.url.slice(0, 200)}`, peer: peerOf(head) });
      return;
    }
    if (head.httpVersion === '2.0' && cgi.HTTP_HOST === undefined) {
      const authority = (req as Http2ServerRequest).authority;
      if (authority) {
        cgi.HTTP_HOST = authority;
        cgi.SERVER_NAME = authority.replace(/:\d+$/, '');
      }
    }
    let body: LimitedBody | null = null;
    if (nodeHasBody(req, cgi)) {
      // Counts the body against maxBodySize, and lets a body timeout fail a stalled read with 408.
      body = new LimitedBody(req as AsyncIterable<Buffer>, limits.maxBodySize, req.httpVersionMajor === 1 ? () => ((res as ServerResponse).shouldKeepAlive = false) : undefined);
    }
    if (req.httpVersionMajor === 1) watchRequestBody(req as IncomingMessage, body);
    const rh: RequestHead = {
      cgi,
      body,
      clientGone: http2 ? http2ClientGone(req as Http2ServerRequest) : http1ClientGone(req as IncomingMessage),
    };
    if (rdns !== null && head.remoteAddress) {
      return rdns.lookup(head.remoteAddress).then((name) => {
        if (name !== undefined) cgi.REMOTE_HOST = name;
        return dispatcher.dispatch(rh, sink);
      });
    }
    const done = dispatcher.dispatch(rh, sink);
    if (done !== undefined) return done;
  };
  // No 503 while closing (fastify's return503OnClosing): the drain (adapters/connections) serves a request
  // that arrives on a connection it has not closed yet, with `Connection: close`, so no client sees a failure.
  plainHandler = (req, res) => void serveRequest(req, res);

  if (useFastify) {
    const methods = (fastify as unknown as { supportedMethods: string[] }).supportedMethods;
    fastify.route({
      method: methods,
      url: '*',
      handler(request, reply) {
        reply.hijack();
        return serveRequest(request.raw as IncomingMessage | Http2ServerRequest, reply.raw as ServerResponse | Http2ServerResponse);
      },
    });
  }

  await fastify.ready();
  // The one listen helper, not fastify.listen(): fastify's own closing then only runs its onClose hooks.
  const where = opts.listen === false ? { port: 0, url: ':0' } : await listen(fastify.server as unknown as net.Server, opts, 8080);
  const port = where.port;
  const url = opts.socketFile !== undefined ? opts.socketFile : `${scheme}://${where.url}`;
  const manager = connections!;

  return {
    fastify,
    url,
    port,
    get connections(): number {
      return manager.size;
    },
    close(graceMs = 30_000): Promise<void> {
      closing ??= drainFront(fastify.server as unknown as net.Server, manager, graceMs, 'HTTP', log).then(() => fastify.close());
      return closing;
    },
  };
}
