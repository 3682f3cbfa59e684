/**
 * From a validated config to running servers: the composition root of the server runtime. It looks up the
 * concurrency model ("mode") in gateway/modes.ts and the wire protocol ("front") of each listener in the
 * one front registry (gateway/fronts/registry.ts). The parser knows nothing of what is built: a mode or
 * protocol without an entry parses and validates, and starting with it answers TSGI_ERR_NOT_YET naming the
 * option.
 */
import type { App } from '../app-api/types.js';
import { loadApp, parseAppSpec, type AppSpec } from './app-loader.js';
import { appShape } from './app-shape.js';
import { modeOf, type ModeName } from './config/options.js';
import type { Config } from './config/resolve.js';
import type { ErrorLog } from './core/log.js';
import { checkAvailable, notYetNote } from './availability.js';
import { applyFeatures, enabledFeatures, FEATURES } from './features.js';
import { FRONTS, registerFront, startFront } from './fronts/registry.js';
import { httpServerOptions } from './fronts/http.js';
import { startListeners, type ListenerUrl } from './listeners.js';
import { Readiness } from './health/readiness.js';
import type { ModeHandle, ServeContext } from './mode-types.js';
import { MODES, registerMode } from './modes.js';
import { openErrorLog } from './open-error-log.js';
import { applySocketActivation } from './socket-activation.js';
import { claimPidFile, type PidFileClaim } from './lifecycle/pid-file.js';
import { applyTools, installLogReopen, startTools } from './tools/apply.js';

// The tables and types that lived here before the runtime was split, re-exported for existing callers.
export { FEATURES, FRONTS, MODES, registerFront, registerMode, httpServerOptions, openErrorLog, checkAvailable, notYetNote };
export type { Front, FrontStarter } from './fronts/types.js';
export type { ModeHandle, ModeRunner, ServeContext } from './mode-types.js';

/** A server started by serve(). */
export interface Running {
  /** Where it listens (`[server]`, the first listener). */
  readonly url: string;
  /** Every listener, `[server]` first, with where it listens. */
  readonly listeners: readonly ListenerUrl[];
  /** The concurrency model. */
  readonly mode: ModeName;
  readonly log: ErrorLog;
  /**
   * Graceful stop; `graceMs` defaults to the config's gracefulTimeout. readyPath answers 503 from the call
   * on; with drainDelay the server keeps accepting that long first (`drainDelayMs` overrides it).
   */
  close(graceMs?: number, drainDelayMs?: number): Promise<void>;
  /** Reload the app code (SIGHUP), when the mode can (processPool, forking). */
  reload?(): Promise<void>;
  /** What a bridged app module was served as (`express app (detected)`...); undefined for a tsgi app, or when only workers loaded it. */
  readonly found?: string;
}

/** Options of serve(). */
export interface ServeOptions {
  config: Config;
  /** `MODULE[:EXPORT]`. */
  app: string | AppSpec;
  /** Where MODULE is resolved from; default process.cwd(). */
  cwd?: string;
  /** Overrides the config's errorLog. */
  log?: ErrorLog;
}

/**
 * Start serving: check availability (TSGI_ERR_NOT_YET), claim the pid file (TSGI_ERR_CONFIG when a live
 * process holds it), load the app (TSGI_ERR_APP_LOAD), listen. Errors from listening (EADDRINUSE, EACCES) are passed through.
 */
export async function serve(opts: ServeOptions): Promise<Running> {
  checkAvailable(opts.config);
  const appSpec = { ...(typeof opts.app === 'string' ? parseAppSpec(opts.app) : opts.app), interface: opts.config.server.interface };
  let found: string | undefined;
  const cwd = opts.cwd ?? process.cwd();
  const errorLog = opts.log !== undefined ? { log: opts.log, close() {} } : openErrorLog(opts.config.server);
  const { log } = errorLog;
  let config: Config;
  try {
    config = applySocketActivation(opts.config, log);
  } catch (err) {
    errorLog.close();
    throw err;
  }
  const mode = modeOf(config.server);
  let started: readonly ListenerUrl[] | undefined;
  // readyPath in this process (single, threading, threadPool); process modes forward it (handle.unready).
  const readiness = new Readiness();
  const ctx: ServeContext = {
    config,
    appSpec,
    cwd,
    log,
    async loadApp(): Promise<App> {
      const app = await loadApp(appSpec, cwd);
      // A tsgi app is the default and keeps the start line as it was; a bridged interface is named.
      const shape = appShape(app);
      found = shape !== undefined && shape.kind !== 'tsgi' ? shape.description : undefined;
      // The [/path] tools and log.* (gateway/tools/apply.ts); pool threads and worker processes do the same.
      return applyTools(applyFeatures(app, enabledFeatures(config.server)), config.tools, { mode, warn: (m) => log.log('warn', m) });
    },
    // Every listener on this dispatcher; statusPath / metricsListen get a metered one (gateway/listeners.ts).
    async startFront(dispatcher) {
      const front = await startListeners(config, log, dispatcher, (l, d) => startFront(l.server.protocol, d, l.server, log), readiness);
      started = front.listeners;
      return front;
    },
  };
  startTools(config.tools, { mode, warn: (m) => log.log('warn', m) });
  if (config.tools?.log.accessFile !== undefined || config.server.errorLog !== '-') installLogReopen();
  let handle: ModeHandle;
  let pidFile: PidFileClaim | undefined;
  try {
    // Claimed before listening: a second server on the same pid file stops before it touches a socket.
    if (config.server.pidFile !== undefined) {
      pidFile = claimPidFile(config.server.pidFile, config.sources.pidFile);
      if (pidFile.found === 'stale') log.log('warn', `pidFile ${pidFile.file} named a process that is gone; replaced it`);
    }
    handle = await MODES[mode]!(ctx);
  } catch (err) {
    pidFile?.release();
    errorLog.close();
    throw err;
  }
  let closing: Promise<void> | null = null;
  return {
    url: handle.url,
    // Modes that start their fronts elsewhere (worker processes) say where their listeners are.
    listeners: started ?? handle.listeners ?? [{ section: '[server]', url: handle.url }],
    mode,
    log,
    get found() {
      return found;
    },
    reload: handle.reload === undefined ? undefined : () => handle.reload!(),
    close(graceMs = config.server.gracefulTimeout * 1000, drainDelayMs = config.server.drainDelay * 1000) {
      closing ??= (async () => {
        // Health checks see 503 at once; the balancer takes the host out while it still accepts (drainDelay).
        readiness.markDraining();
        handle.unready?.();
        if (drainDelayMs > 0) {
          log.log('info', `draining: readyPath answers 503; still accepting for ${drainDelayMs / 1000} s (drainDelay)`);
          await new Promise((resolve) => setTimeout(resolve, drainDelayMs));
        }
        await handle.close(graceMs);
      })().finally(() => {
        pidFile?.release();
        errorLog.close();
      });
      return closing;
    },
  };
}
