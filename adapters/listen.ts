/**
 * Listening, shared by every front: TCP or a unix socket with a listen backlog, and a stale unix socket from
 * a dead server removed, never a live one. SCGI and protocol=auto listen with `listen()`; the HTTP server
 * (through fastify) and FastCGI (which also takes an inherited fd) use `clearStaleSocket()` before listening.
 */
import { existsSync, statSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { TsgiError } from '../app-api/errors.js';

/** Where to listen. */
export interface ListenOptions {
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 picks a free one. */
  port?: number;
  /** Listen on this unix socket instead of TCP. */
  socketFile?: string;
  /** Listen backlog. Default 511, as Node. */
  backlog?: number;
}

/** Remove a unix socket left by a dead server; refuse a path that a live server answers on, or that is not a socket. */
export async function clearStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (!statSync(path).isSocket()) throw new TsgiError('TSGI_ERR_CONFIG', `socketFile: ${path} exists and is not a socket; remove it or choose another path`);
  const alive = await new Promise<boolean>((resolve) => {
    const c = net.connect(path, () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });
  if (alive) throw new TsgiError('TSGI_ERR_CONFIG', `socketFile: another server is listening on ${path}`);
  unlinkSync(path);
}

/** Start `server` listening; resolves to the bound port (0 for a unix socket) and a printable address. */
export async function listen(server: net.Server, opts: ListenOptions, defaultPort: number): Promise<{ port: number; url: string }> {
  if (opts.socketFile !== undefined) await clearStaleSocket(opts.socketFile);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(new TsgiError('TSGI_ERR_CONFIG', `cannot listen on ${opts.socketFile ?? `${opts.host ?? '127.0.0.1'}:${opts.port ?? defaultPort}`}: ${err.message}`, { cause: err }));
    };
    server.once('error', onError);
    const done = (): void => {
      server.off('error', onError);
      resolve();
    };
    if (opts.socketFile !== undefined) server.listen({ path: opts.socketFile, backlog: opts.backlog }, done);
    else server.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? defaultPort, backlog: opts.backlog }, done);
  });
  const addr = server.address();
  if (typeof addr === 'object' && addr !== null) {
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return { port: addr.port, url: `${host}:${addr.port}` };
  }
  return { port: 0, url: opts.socketFile ?? String(addr) };
}
