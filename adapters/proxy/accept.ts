/**
 * PROXY protocol at accept time, for every front: read the header off a new socket (nothing else), push
 * back what follows it, record the client it names as the socket's remoteAddress / remotePort, then hand
 * the socket to the front as if just accepted. Fronts read the peer from the socket as always, so the HTTP
 * front's REMOTE_ADDR (and every log line naming the peer) is the client with no change to the front.
 *
 * Only a trusted peer may send one (`trustedProxies`): any other connection is closed at once with a log
 * line, as is a malformed header, or none within the deadline: nothing on such a connection is believed.
 */
import type net from 'node:net';
import type { ErrorLog } from '../../gateway/core/log.js';
import { parseProxyHeader, type ProxyHeader } from './proxy-protocol.js';
import { compileTrust, DEFAULT_TRUSTED_PROXIES, type TrustPredicate } from './trust.js';

/** Settings of the PROXY protocol reader. */
export interface ProxyProtocolOptions {
  /** Peers allowed to send a PROXY header (addresses, CIDRs, `unix`), or a compiled predicate. Default `127.0.0.1,::1`. */
  trustedProxies?: string | readonly string[] | TrustPredicate;
  log: ErrorLog;
  /** The whole header must arrive within this many ms. Default 10 s. */
  timeout?: number;
}

/** The peer a PROXY header replaced: the load balancer's own address. */
const proxiedBy = new WeakMap<net.Socket, { address: string; port: number | undefined; header: ProxyHeader }>();

/** The proxy a socket's PROXY header came from, when the socket had one naming a client. */
export function proxyPeerOf(socket: net.Socket): { address: string; port: number | undefined; header: ProxyHeader } | undefined {
  return proxiedBy.get(socket);
}

function describe(socket: net.Socket): string {
  const a = socket.remoteAddress;
  return a === undefined ? 'a unix-socket peer' : `${a}:${socket.remotePort}`;
}

/** Make the socket report the client named by the header (own properties shadow net.Socket's getters). */
function recordClient(socket: net.Socket, header: ProxyHeader): void {
  const a = header.addresses;
  if (a === null) return;
  proxiedBy.set(socket, { address: socket.remoteAddress ?? '', port: socket.remotePort, header });
  Object.defineProperty(socket, 'remoteAddress', { value: a.sourceAddress, configurable: true });
  Object.defineProperty(socket, 'remotePort', { value: a.sourcePort, configurable: true });
  Object.defineProperty(socket, 'remoteFamily', { value: a.family, configurable: true });
}

/** Copy a recorded client from the TCP socket to the TLS socket built on it (`secureConnection`). */
export function inheritClient(tlsSocket: net.Socket): void {
  const raw = (tlsSocket as unknown as { _handle?: { _parentWrap?: net.Socket } })._handle?._parentWrap;
  const rec = raw === undefined ? undefined : proxiedBy.get(raw);
  if (rec === undefined || raw === undefined) return;
  proxiedBy.set(tlsSocket, rec);
  for (const key of ['remoteAddress', 'remotePort', 'remoteFamily'] as const) Object.defineProperty(tlsSocket, key, { value: raw[key], configurable: true });
}

function trustOf(opts: ProxyProtocolOptions): TrustPredicate {
  const t = opts.trustedProxies ?? DEFAULT_TRUSTED_PROXIES;
  return typeof t === 'function' ? t : compileTrust(t);
}

/**
 * Returns a connection handler that reads the PROXY header and then calls `next(socket)`, paused, with the
 * bytes after the header pushed back: `next` resumes it when its reader is attached (or lets its reader do so).
 */
export function proxyProtocolReader(opts: ProxyProtocolOptions, next: (socket: net.Socket) => void): (socket: net.Socket) => void {
  const trust = trustOf(opts);
  const timeout = opts.timeout ?? 10_000;
  const { log } = opts;
  return (socket) => {
    if (!trust(socket.remoteAddress ?? '')) {
      log.log('warn', `PROXY protocol: connection from ${describe(socket)}, not a trusted proxy (trustedProxies), closed`);
      socket.destroy();
      return;
    }
    let buf: Buffer = Buffer.alloc(0);
    const refuse = (why: string): void => {
      detach();
      log.log('warn', `PROXY protocol: ${why} from ${describe(socket)}; connection closed (TSGI_ERR_PROTOCOL)`);
      socket.destroy();
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      let r;
      try {
        r = parseProxyHeader(buf);
      } catch (e) {
        // The parser answers every input (fuzzed); a throw would be a bug, and must cost this connection only.
        return refuse(`PROXY header parser failed (${(e as Error).message})`);
      }
      if (r.state === 'more') return;
      if (r.state === 'error') return refuse(r.reason);
      detach();
      socket.pause();
      if (buf.length > r.header.length) socket.unshift(buf.subarray(r.header.length));
      recordClient(socket, r.header);
      next(socket);
    };
    const onEnd = (): void => {
      detach();
      if (buf.length > 0) refuse('the connection closed inside the PROXY header');
      else socket.destroy();
    };
    const onError = (): void => detach(); // a reset before the header: nothing to serve, nothing to say
    const timer = setTimeout(() => refuse(`no complete PROXY header within ${timeout} ms`), timeout);
    timer.unref();
    function detach(): void {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
    }
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
  };
}

/**
 * Put the PROXY reader in front of a Node server's own connection handling (the HTTP front): its
 * `connection` listeners run once the header is read. Call after the server is built (its listeners exist).
 * `resume`: false for servers whose reader pulls the pushed-back bytes itself (HTTP/2, TLS).
 */
export function acceptProxyProtocol(server: net.Server, opts: ProxyProtocolOptions, resume: boolean): void {
  const listeners = server.listeners('connection') as ((socket: net.Socket) => void)[];
  server.removeAllListeners('connection');
  server.on(
    'connection',
    proxyProtocolReader(opts, (socket) => {
      for (const l of listeners) l.call(server, socket);
      if (resume) socket.resume();
    }),
  );
  // TLS: the request's socket is the TLSSocket built on the TCP one: give it the recorded client too.
  server.prependListener('secureConnection' as 'connection', inheritClient);
}
