/** Where a listener listens, as the adapters take it, and the URL its start line prints. */
import type { ListenOptions } from '../../adapters/listen.js';
import type { ServerConfig } from '../config/options.js';

/** The listening address of a listener's settings: TCP, a unix socket, or an inherited socket (socketFd). */
export function listenOptionsOf(c: ServerConfig): ListenOptions {
  return { host: c.socketHost, port: c.socketPort, socketFile: c.socketFile, fd: c.socketFd, backlog: c.socketQueueSize };
}

/** `fd://3`, `unix:/run/x.sock` or `scheme://host:port` for the start line; `address` is what the adapter bound. */
export function frontUrl(c: ServerConfig, scheme: string, address: string): string {
  if (c.socketFd !== undefined) return `fd://${c.socketFd}`;
  if (c.socketFile !== undefined) return `unix:${address}`;
  return `${scheme}://${address}`;
}
