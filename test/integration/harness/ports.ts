/** Free loopback ports and readiness checks. */
import net from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it: parallel runs do not collide). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves true when a TCP connection (or unix socket connection) succeeds. */
export function canConnect(where: { port: number; host?: string } | { path: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = 'path' in where ? net.connect(where.path) : net.connect(where.port, where.host ?? '127.0.0.1');
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** Wait until something listens on every one of `ports`; gives up after `limitMs` or when `failed()` says so. */
export async function waitForPorts(ports: number[], limitMs: number, failed: () => string | undefined): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (const port of ports) {
    for (;;) {
      const why = failed();
      if (why !== undefined) throw new Error(why);
      if (await canConnect({ port })) break;
      if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${limitMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
