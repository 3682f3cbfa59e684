/**
 * What a concurrency model ("mode": single, threading, forking, threadPool, processPool) is to the server
 * runtime. gateway/serve.ts builds the ServeContext and calls the ModeRunner that gateway/modes.ts names;
 * the runners live with their workers (gateway/threads, gateway/process) and import only these types.
 */
import type { App } from '../app-api/types.js';
import type { AppSpec } from './app-loader.js';
import type { Config } from './config/resolve.js';
import type { Dispatcher } from './core/dispatch.js';
import type { ErrorLog } from './core/log.js';
import type { Front } from './fronts/types.js';
import type { ListenerUrl } from './listeners.js';

/** What a concurrency model gets to work with. */
export interface ServeContext {
  readonly config: Config;
  readonly appSpec: AppSpec;
  readonly cwd: string;
  readonly log: ErrorLog;
  /** Import the app in this process, with the enabled features applied. Pool modes call this in workers. */
  loadApp(): Promise<App>;
  /**
   * Start the configured fronts on this process for a dispatcher: one per listener (`[server]` and each
   * `[server:NAME]`), returned as one Front (url = `[server]`'s, close = close all).
   */
  startFront(dispatcher: Dispatcher): Promise<Front>;
}

/** A running mode. */
export interface ModeHandle {
  readonly url: string;
  /** Every listener with where it listens, from modes that start their fronts elsewhere (worker processes). */
  readonly listeners?: readonly ListenerUrl[];
  /** Graceful stop: fronts stop accepting, in-flight requests get `graceMs`, workers are released. */
  close(graceMs: number): Promise<void>;
  /**
   * The server is about to stop: readyPath answers 503 from now on (gateway/health). Modes whose requests
   * are answered in other processes (processPool, forking) tell them; the others need not set it.
   */
  unready?(): void;
  /** Load the app code again without failing a request (SIGHUP); absent when the mode cannot. */
  reload?(): Promise<void>;
}

/** Runs the app under one concurrency model. */
export type ModeRunner = (ctx: ServeContext) => Promise<ModeHandle>;
