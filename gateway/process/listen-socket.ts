/**
 * The pool's listening sockets (one per listener), created by the primary before any worker is forked and
 * kept open by the primary for its whole life. Workers inherit the descriptors (as stdio fds 4, 5, ...) and
 * accept on them themselves, so connections never pass through the primary.
 *
 * Why not node:cluster: cluster closes the shared socket when its last worker goes away, so with
 * processPool = 1 (or when every worker dies at once) new connections are refused while a replacement
 * boots, and with socketPort = 0 the replacement even gets a different port. Here the primary holds the
 * bound socket, so connections wait in the kernel's backlog until a worker accepts them.
 *
 * The primary only binds; it never polls the socket (net's `_createServerHandle`, the helper cluster itself
 * uses for this). The first worker's listen() puts it into the listening state.
 */
import { clearStaleSocket } from '../../adapters/listen.js';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { tsgiError } from '../../app-api/errors.js';

/** The fd number a worker finds the first listening socket at (`[server]`'s; the next listeners' follow: 5, 6, ...). */
export const WORKER_LISTEN_FD = 4;

/** A bound socket owned by the primary. */
export interface ListenSocket {
  /** The descriptor to hand to workers. */
  readonly fd: number;
  /** The bound TCP port (0 for a unix socket). */
  readonly port: number;
  /** The unix socket path, when listening on one. */
  readonly path?: string;
  close(): void;
}

interface RawHandle {
  fd: number;
  getsockname?(out: { port?: number }): number;
  close(): void;
}

type CreateServerHandle = (address: string | null, port: number, addressType: number, fd?: number, flags?: number) => RawHandle | number;

function bindError(where: string, errno: number): Error {
  const name = getSystemErrorName(errno);
  const err = new Error(`cannot listen on ${where}: ${name}`) as NodeJS.ErrnoException & { address?: string; port?: number };
  err.code = name;
  return err;
}

/** Remove a unix socket left by a dead server; refuse one a live server answers on (the check every front uses). */
export const clearStaleUnixSocket = clearStaleSocket;

/** Bind `host:port` (or the unix socket `path`) without accepting. Listen errors carry `code` (EADDRINUSE...). */
export async function bindListenSocket(where: { host: string; port: number } | { path: string }): Promise<ListenSocket> {
  const create = (net as unknown as { _createServerHandle?: CreateServerHandle })._createServerHandle;
  if (typeof create !== 'function') throw tsgiError('TSGI_ERR_NOT_YET', { feature: 'net._createServerHandle (which processPool binds with)', instead: 'run processPool on Node 20 or later, or choose another mode' });
  if ('path' in where) {
    await clearStaleUnixSocket(where.path);
    const h = create(where.path, -1, -1);
    if (typeof h === 'number') throw bindError(where.path, h);
    return { fd: h.fd, port: 0, path: where.path, close: () => h.close() };
  }
  const address = net.isIP(where.host) !== 0 ? where.host : (await lookup(where.host)).address;
  const h = create(address, where.port, net.isIP(address));
  const fail = (errno: number): Error => {
    const err = bindError(`${where.host}:${where.port}`, errno) as Error & { address?: string; port?: number };
    err.address = where.host;
    err.port = where.port;
    return err;
  };
  if (typeof h === 'number') throw fail(h);
  // libuv keeps a failed TCP bind (EADDRINUSE) as a "delayed error" for listen(), which the primary never
  // calls; getsockname reports it. Unchecked, a worker's listen() on the unbound socket would take a random
  // port on every interface.
  const out: { port?: number } = {};
  const rc = h.getsockname?.(out) ?? 0;
  if (rc < 0) {
    h.close();
    throw fail(rc);
  }
  return { fd: h.fd, port: out.port ?? where.port, close: () => h.close() };
}
