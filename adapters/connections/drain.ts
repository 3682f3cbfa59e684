/**
 * Stopping a front without failing a request: stop accepting, then let the ConnectionManager drain (idle
 * connections closed at once, requests in flight given the grace period, the rest destroyed after it).
 * Every stream front (HTTP, FastCGI, SCGI, protocol=auto), in one process or in a worker, stops this way.
 */
import net from 'node:net';
import type { ConnectionManager } from './manager.js';

/**
 * Close the listening handle only. `net.Server#close`, not `http.Server#close`: that one also closes the
 * connections Node counts as idle, and a connection that was just accepted, whose request bytes are not
 * parsed yet, counts as idle; under load some clients would see a reset.
 */
export function stopAccepting(server: net.Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
}

/** Stop accepting on `server` (if given) and drain `manager`'s connections within `graceMs`. */
export async function drainFront(server: net.Server | null, manager: ConnectionManager, graceMs: number, what: string, log: { log(level: 'warn', msg: string): void }): Promise<void> {
  const stopped = server === null ? Promise.resolve() : stopAccepting(server);
  await manager.drain(graceMs, (n) => log.log('warn', `grace period of ${graceMs} ms over: closing ${n} ${what} connection(s)`));
  await stopped;
}
