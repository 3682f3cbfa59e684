/**
 * The idle timeout without a timer per socket. Node's `server.setTimeout()` re-arms a timer on every read
 * and write of every socket; on the hello-world benchmark that alone cost ~10% of the server's CPU. Here a
 * sweep every idleMs/4 (at most 5 s) compares each connection's byte counters with the previous sweep and
 * destroys connections that made no progress for idleMs: a stalled upload, a client that stopped reading,
 * a request the app never answers. Idle keep-alive connections and slow request heads are Node's own
 * keepAliveTimeout and headersTimeout.
 */
import type { Server, Socket } from 'node:net';

interface Watched {
  bytes: number;
  since: number;
}

/** Watch `server`'s connections; returns a function that stops watching. `idleMs` <= 0 turns it off. */
export function watchIdle(server: Server, idleMs: number): () => void {
  if (!(idleMs > 0)) return () => {};
  const sockets = new Map<Socket, Watched>();
  const onConnection = (socket: Socket): void => {
    sockets.set(socket, { bytes: 0, since: Date.now() });
    socket.once('close', () => sockets.delete(socket));
  };
  server.on('connection', onConnection);
  const timer = setInterval(() => {
    const now = Date.now();
    for (const [socket, w] of sockets) {
      const bytes = socket.bytesRead + socket.bytesWritten;
      if (bytes !== w.bytes) {
        w.bytes = bytes;
        w.since = now;
      } else if (now - w.since >= idleMs) {
        sockets.delete(socket);
        socket.destroy();
      }
    }
  }, Math.max(10, Math.min(idleMs / 4, 5000)));
  timer.unref();
  return () => {
    clearInterval(timer);
    server.off('connection', onConnection);
  };
}
