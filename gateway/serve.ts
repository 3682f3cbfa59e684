/**
 * From a validated config to running servers: the one place where concurrency models ("modes") and wire
 * protocols ("fronts") are looked up by name. The parser knows nothing of what is built: a mode or protocol
 * without an entry in MODES / FRONTS parses and validates, and starting with it answers TSGI_ERR_NOT_YET
 * naming the option.
 *
 * To plug in a concurrency model: write a ModeRunner and put it in MODES under its option name
 * (`threadPool`, ...), or call registerMode() from outside. To plug in a protocol: a FrontStarter in FRONTS.
 */
import { unlinkSync, writeFileSync } from 'node:fs';
import { TsgiError } from '../app-api/errors.js';
import type { App, Middleware } from '../app-api/types.js';
import { xmlrpc } from '../app-api/middleware/xmlrpc.js';
import { startAutoFront } from '../adapters/auto/front.js';
import { startScgiFront } from '../adapters/scgi/front.js';
import { startFastcgiFront } from '../adapters/fastcgi/front.js';
import { httpServerOptions, startHttpFront } from '../adapters/http/front.js';
import { loadApp, parseAppSpec, type AppSpec } from './app-loader.js';
import { modeOf, type ModeName, type OptionName, type Protocol, type ServerConfig } from './config/options.js';
import { listenersOf, type Config, type Listener } from './config/resolve.js';
import { describeSource } from './config/source.js';
import { InlineDispatcher, type Dispatcher } from './dispatch.js';
import { WorkerDispatcher } from './process/worker-dispatcher.js';
import type { ErrorLog } from './log.js';
import { openErrorLog } from './open-error-log.js';
import { importAppModule, ProcessLifecycle } from './lifecycle/process-lifecycle.js';
import { runForking, runProcessPool } from './process/modes.js';
import { startListeners, type ListenerUrl } from './listeners.js';
import { checkMetricsMode } from './metrics/serve-hook.js';
import { runThreading, runThreadPool } from './pool/mode.js';
import { applyTools, installLogReopen, startTools } from './tools/apply.js';

/** A listening socket speaking one protocol. */
export interface Front {
  /** `http://127.0.0.1:8080`, `https://...`, or `unix:/path`. */
  readonly url: string;
  /** Stop accepting; in-flight requests get `graceMs`, then their connections are closed. */
  close(graceMs: number): Promise<void>;
}

/** Starts the front for `config.protocol`, listening where the config says. */
export type FrontStarter = (dispatcher: Dispatcher, config: ServerConfig, log: ErrorLog) => Promise<Front>;

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
  /** Load the app code again without failing a request (SIGHUP); absent when the mode cannot. */
  reload?(): Promise<void>;
}

/** Runs the app under one concurrency model. */
export type ModeRunner = (ctx: ServeContext) => Promise<ModeHandle>;

/** single: the app runs inline on the event loop of this process. */
const runSingle: ModeRunner = async (ctx) => {
  const app = await ctx.loadApp();
  // The app's `setup(engine)` subscribes to start/graceful/stop/exit (gateway/lifecycle).
  const lifecycle = await ProcessLifecycle.begin(await importAppModule(ctx.appSpec, ctx.cwd), { log: ctx.log, appConfig: ctx.config.app, multiprocess: false });
  const inline = new InlineDispatcher(app, { log: ctx.log, appConfig: ctx.config.app });
  // workerTimeout: the event loop cannot be preempted, but a request waiting on I/O past it still gets its
  // 504 instead of hanging the client (the same deadline wrapper the process workers use).
  const timeoutMs = Math.round(ctx.config.server.workerTimeout * 1000);
  const dispatcher = timeoutMs > 0 ? new WorkerDispatcher(inline, { log: ctx.log, timeoutMs }) : inline;
  const front = await ctx.startFront(dispatcher);
  return {
    url: front.url,
    close(graceMs) {
      return lifecycle.end('signal', async () => {
        await front.close(graceMs);
        await dispatcher.close();
      });
    },
  };
};

// Moved to modules of their own so worker processes can use them without importing this file; still
// exported from here for existing callers.
export { httpServerOptions, openErrorLog };

/** Concurrency models by name. `undefined` = parsed, not built yet. */
export const MODES: Record<ModeName, ModeRunner | undefined> = {
  single: runSingle,
  threading: runThreading,
  forking: runForking,
  processPool: runProcessPool,
  threadPool: runThreadPool,
};

/** Fronts by `protocol`. `undefined` = parsed, not built yet. */
export const FRONTS: Record<Protocol, FrontStarter | undefined> = {
  http: startHttpFront,
  fastcgi: startFastcgiFront,
  scgi: startScgiFront,
  auto: startAutoFront,
};

/** Boolean options that wrap the app in middleware. `undefined` = parsed, not built yet. */
export const FEATURES: { xmlRpc: Middleware | undefined } = {
  xmlRpc: (app) => xmlrpc(app),
};

/** Plug in a concurrency model. */
export function registerMode(name: ModeName, runner: ModeRunner): void {
  MODES[name] = runner;
}

/** Plug in a front for a protocol. */
export function registerFront(protocol: Protocol, starter: FrontStarter): void {
  FRONTS[protocol] = starter;
}

/** For --help and the README: why an option (or one of its values) cannot be used yet, if so. */
export function notYetNote(option: OptionName): string | undefined {
  if (option === 'protocol') {
    const missing = (Object.keys(FRONTS) as Protocol[]).filter((p) => FRONTS[p] === undefined);
    return missing.length > 0 ? `Not yet: ${missing.join(', ')}.` : undefined;
  }
  if (option in MODES && MODES[option as ModeName] === undefined) return 'Not yet.';
  if (option in FEATURES && FEATURES[option as keyof typeof FEATURES] === undefined) return 'Not yet.';
  return undefined;
}

function notYet(config: Pick<Config, 'server' | 'sources'>, option: OptionName, what: string, fix: string): TsgiError {
  const src = config.sources[option];
  const value = config.server[option];
  return new TsgiError(
    'TSGI_ERR_NOT_YET',
    `${option} = ${String(value)}${src !== undefined ? ` (${describeSource(src)})` : ''}: ${what} is not available in this version yet; ${fix}`,
  );
}

/** Check that everything the config asks for is built. Throws TSGI_ERR_NOT_YET naming the option. */
export function checkAvailable(config: Config): void {
  const mode = modeOf(config.server);
  const listeners = listenersOf(config);
  for (const l of listeners) checkMetricsMode(l.server, mode);
  if (mode !== 'single' && MODES[mode] === undefined) {
    throw notYet(config, mode, `the ${mode} concurrency model`, `remove ${mode} to serve in single mode (inline on the event loop)`);
  }
  for (const l of listeners) {
    if (FRONTS[l.server.protocol] === undefined) {
      const fix = 'use protocol = http (behind nginx/Apache, proxy to it with proxy_pass / mod_proxy_http)';
      throw notYet({ server: l.server, sources: l.sources }, 'protocol', `protocol ${l.server.protocol}${l.name === 'server' ? '' : ` in ${l.section}`}`, fix);
    }
  }
  for (const feature of Object.keys(FEATURES) as (keyof typeof FEATURES)[]) {
    if (config.server[feature] === true && FEATURES[feature] === undefined) {
      throw notYet(config, feature, feature, `remove ${feature} or set it to false`);
    }
  }
}

/** A server started by serve(). */
export interface Running {
  /** Where it listens (`[server]`, the first listener). */
  readonly url: string;
  /** Every listener, `[server]` first, with where it listens. */
  readonly listeners: readonly ListenerUrl[];
  /** The concurrency model. */
  readonly mode: ModeName;
  readonly log: ErrorLog;
  /** Graceful stop; `graceMs` defaults to the config's gracefulTimeout. */
  close(graceMs?: number): Promise<void>;
  /** Reload the app code (SIGHUP), when the mode can (processPool, forking). */
  reload?(): Promise<void>;
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
 * Start serving: check availability (TSGI_ERR_NOT_YET), load the app (TSGI_ERR_APP_LOAD), listen, write the
 * pid file. Errors from listening (EADDRINUSE, EACCES) are passed through.
 */
export async function serve(opts: ServeOptions): Promise<Running> {
  const { config } = opts;
  checkAvailable(config);
  const appSpec = typeof opts.app === 'string' ? parseAppSpec(opts.app) : opts.app;
  const cwd = opts.cwd ?? process.cwd();
  const errorLog = opts.log !== undefined ? { log: opts.log, close() {} } : openErrorLog(config.server);
  const { log } = errorLog;
  const mode = modeOf(config.server);
  const starterFor = (l: Listener): FrontStarter => FRONTS[l.server.protocol]!;
  let started: readonly ListenerUrl[] | undefined;
  const ctx: ServeContext = {
    config,
    appSpec,
    cwd,
    log,
    async loadApp() {
      let app = await loadApp(appSpec, cwd);
      for (const feature of Object.keys(FEATURES) as (keyof typeof FEATURES)[]) {
        const wrap = FEATURES[feature];
        if (config.server[feature] === true && wrap !== undefined) app = wrap(app);
      }
      // The [/path] tools and log.* (gateway/tools/apply.ts); pool threads and worker processes do the same.
      return applyTools(app, config.tools, { mode, warn: (m) => log.log('warn', m) });
    },
    // Every listener on this dispatcher; statusPath / metricsListen get a metered one (gateway/listeners.ts).
    async startFront(dispatcher) {
      const front = await startListeners(config, log, dispatcher, starterFor);
      started = front.listeners;
      return front;
    },
  };
  startTools(config.tools, { mode, warn: (m) => log.log('warn', m) });
  if (config.tools?.log.accessFile !== undefined || config.server.errorLog !== '-') installLogReopen();
  let handle: ModeHandle;
  try {
    handle = await MODES[mode]!(ctx);
  } catch (err) {
    errorLog.close();
    throw err;
  }
  const pidFile = config.server.pidFile;
  if (pidFile !== undefined) {
    try {
      writeFileSync(pidFile, `${process.pid}\n`);
    } catch (err) {
      await handle.close(0);
      errorLog.close();
      throw new TsgiError('TSGI_ERR_CONFIG', `pidFile: cannot write ${pidFile} (${(err as NodeJS.ErrnoException).code}); check the directory exists and is writable`);
    }
  }
  let closing: Promise<void> | null = null;
  return {
    url: handle.url,
    // Modes that start their fronts elsewhere (worker processes) say where their listeners are.
    listeners: started ?? handle.listeners ?? [{ section: '[server]', url: handle.url }],
    mode,
    log,
    reload: handle.reload === undefined ? undefined : () => handle.reload!(),
    close(graceMs = config.server.gracefulTimeout * 1000) {
      closing ??= handle.close(graceMs).finally(() => {
        if (pidFile !== undefined) {
          try {
            unlinkSync(pidFile);
          } catch {
            // already gone: nothing to clean
          }
        }
        errorLog.close();
      });
      return closing;
    },
  };
}
