/**
 * Listening, shared by every front (HTTP, FastCGI, SCGI, protocol=auto, a worker process's inherited
 * socket): TCP, a unix socket or an inherited listening descriptor, with a listen backlog; a stale unix
 * socket from a dead server removed, never a live one.
 */
import { existsSync, statSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { tsgiError } from '../app-api/errors.js';

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
  /** Accept on this inherited listening socket instead (FastCGI's FCGI_LISTENSOCK_FILENO, a pool worker's). */
  fd?: number;
}

/** Remove a unix socket left by a dead server; refuse a path that a live server answers on, or that is not a socket. */
export async function clearStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (!statSync(path).isSocket()) throw tsgiError('TSGI_ERR_CONFIG', { where: 'socketFile', problem: `${path} exists and is not a socket`, fix: 'remove it or choose another path' });
  const alive = await new Promise<boolean>((resolve) => {
    const c = net.connect(path, () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });
  if (alive) throw tsgiError('TSGI_ERR_CONFIG', { where: 'socketFile', problem: `another server is listening on ${path}`, fix: 'stop that server or choose another path' });
  unlinkSync(path);
}

/**
 * Start `server` listening; resolves to the bound port (0 for a unix socket or an fd) and a printable
 * address. `fix` ends the message of a failed listen on an inherited fd (what the caller knows about the fix).
 */
export async function listen(server: net.Server, opts: ListenOptions, defaultPort: number, fix = 'pass a listening socket as the inherited fd'): Promise<{ port: number; url: string }> {
  if (opts.socketFile !== undefined) await clearStaleSocket(opts.socketFile);
  const where = opts.fd !== undefined ? `inherited fd ${opts.fd}` : (opts.socketFile ?? `${opts.host ?? '127.0.0.1'}:${opts.port ?? defaultPort}`);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      // Node's bind errors carry code, address and port (EADDRINUSE, EACCES...): passed through, so the
      // command line names the fix. An inherited fd that is not a listening socket is a config error.
      if (opts.fd === undefined) reject(err);
      else reject(tsgiError('TSGI_ERR_CONFIG', { where: `cannot listen on ${where}`, problem: err.message, fix }, { cause: err }));
    };
    server.once('error', onError);
    const done = (): void => {
      server.off('error', onError);
      resolve();
    };
    // An inherited fd is a listen "handle" ({fd}), which Node accepts where it accepts ListenOptions.
    if (opts.fd !== undefined) server.listen({ fd: opts.fd, backlog: opts.backlog } as net.ListenOptions, done);
    else if (opts.socketFile !== undefined) server.listen({ path: opts.socketFile, backlog: opts.backlog }, done);
    else server.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? defaultPort, backlog: opts.backlog }, done);
  });
  const addr = server.address();
  if (typeof addr === 'object' && addr !== null) {
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return { port: addr.port, url: opts.fd !== undefined ? `fd:${opts.fd}` : `${host}:${addr.port}` };
  }
  return { port: 0, url: opts.fd !== undefined ? `fd:${opts.fd}` : (opts.socketFile ?? String(addr)) };
}
