/**
 * The `req.socket` / `res.socket` of a bridged Node app. There is no TCP socket between the gateway and the
 * app (the request may have come over FastCGI, or through a worker thread), so this is a Duplex that carries
 * the connection facts the environ knows: the peer and local addresses, and `encrypted` for HTTPS (express's
 * `req.protocol` reads it). Socket controls that only make sense on a real connection fail with
 * TSGI_ERR_BRIDGE_UNSUPPORTED instead of silently doing nothing.
 */
import { Duplex } from 'node:stream';
import type { Environ } from '../types.js';
import { unsupported } from './unsupported.js';

/** A socket stand-in for one bridged request. */
export class BridgeSocket extends Duplex {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly remoteFamily: string | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  /** Set for HTTPS, as on a TLSSocket: express and others test `req.socket.encrypted`. */
  readonly encrypted: true | undefined;

  constructor(environ: Environ) {
    super({ allowHalfOpen: true });
    const addr = environ.REMOTE_ADDR;
    this.remoteAddress = addr !== undefined && addr !== '' ? addr : undefined;
    this.remotePort = numberOf(environ.REMOTE_PORT);
    this.remoteFamily = this.remoteAddress === undefined ? undefined : this.remoteAddress.includes(':') ? 'IPv6' : 'IPv4';
    this.localAddress = typeof environ.SERVER_ADDR === 'string' ? environ.SERVER_ADDR : undefined;
    this.localPort = numberOf(environ.SERVER_PORT);
    this.encrypted = environ['tsgi.url_scheme'] === 'https' ? true : undefined;
  }

  override _read(): void {
    // The request body reaches the app through the IncomingMessage (node-request.ts), not through here.
  }

  override _write(_chunk: unknown, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    // The response is taken from the ServerResponse (node-response.ts) before it would reach a socket.
    callback();
  }

  setTimeout(): never {
    return unsupported('socket.setTimeout() / req.setTimeout() / res.setTimeout()', 'set workerTimeout or requestTimeout on the tsgi server instead');
  }

  setNoDelay(): this {
    return this; // a hint about Nagle's algorithm: the gateway's own socket already has it off
  }

  setKeepAlive(): this {
    return this; // keep-alive is the gateway's connection, not the app's
  }

  address(): never {
    return unsupported('socket.address()', 'read req.socket.localAddress / localPort (from the environ) instead');
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}

function numberOf(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}
