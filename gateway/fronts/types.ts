/**
 * What a front is to the server runtime. A front is one wire protocol (http, fastcgi, scgi, auto) bound to
 * the config: it maps the `[server]` / `[server:NAME]` options onto an adapter's plain options and either
 * listens itself (single and thread modes: `start`) or is opened inside a worker process without listening
 * (processPool, forking: `open`). Every mode finds fronts in one registry (./registry.ts).
 */
import type net from 'node:net';
import type { ServerConfig } from '../config/options.js';
import type { Dispatcher } from '../core/dispatch.js';
import type { ErrorLog } from '../core/log.js';

/** A listening socket speaking one protocol. */
export interface Front {
  /** `http://127.0.0.1:8080`, `https://...`, or `unix:/path`. */
  readonly url: string;
  /** Stop accepting; in-flight requests get `graceMs`, then their connections are closed. */
  close(graceMs: number): Promise<void>;
}

/** Starts a front for one listener's settings, listening where they say. */
export type FrontStarter = (dispatcher: Dispatcher, config: ServerConfig, log: ErrorLog) => Promise<Front>;

/** A front opened inside a worker process, not yet accepting. */
export interface OpenFront {
  /** Accept on a listening socket this process inherited (processPool). */
  listenOnFd(fd: number, backlog?: number): Promise<void>;
  /** Serve one connection that was accepted by another process (forking). */
  handleConnection(socket: net.Socket): void;
  /** Stop accepting, let in-flight requests finish within `graceMs`, then close what is left. */
  drain(graceMs: number): Promise<void>;
  /** Open connections. */
  readonly connections: number;
}

/** The code of a front: loaded only by a process that serves it (a FastCGI worker never loads fastify). */
export interface FrontModule {
  /** Start listening where the settings say (single process: single, threading, threadPool). */
  start: FrontStarter;
  /** Build the front on a dispatcher without listening (worker processes: processPool, forking). */
  open(dispatcher: Dispatcher, config: ServerConfig, log: ErrorLog): Promise<OpenFront>;
}

/** One protocol in the registry: what the supervisor needs without loading the front's code, and a loader. */
export interface FrontDef {
  /** Import the front's code. */
  load(): Promise<FrontModule>;
  /**
   * How to turn away a raw accepted connection when no process can take it (forking at its limit): a
   * function that answers it with a complete 503 in this protocol (reading first what the answer must name:
   * FastCGI's request id), or null when the protocol cannot carry one (TLS; protocol=auto, which has not
   * sniffed): then the connection is just closed. The caller destroys the socket after a grace period.
   */
  overloadReply(config: ServerConfig): ((socket: net.Socket) => void) | null;
  /** The URL clients use, for the start line. */
  describe(config: ServerConfig, address: { port: number; path?: string }): string;
}
