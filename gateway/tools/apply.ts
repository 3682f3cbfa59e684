/**
 * Wrapping an app with the tools its config switches on: the one function every place that loads the app
 * calls (serve.ts for single mode, a pool thread, a worker process), so the tools run in every concurrency
 * mode and behind every front. The result dispatches on PATH_INFO to the chain of the longest matching
 * `[/path]` section; the access log (log.access_file, log.screen) wraps everything.
 */
import { tsgiError } from '../../app-api/errors.js';
import type { App } from '../../app-api/types.js';
import { accessLog, broadcastReopen, toolByName, type ToolContext, type ToolSharedCache } from '../../app-api/tools/index.js';
import { displayPath } from '../config/source.js';
// Not ./config.js: that is the INI parser, which a pool thread applying the tools does not need.
import { pathCovers, type ToolsConfig } from '../config/tools-types.js';

/** What the server knows about where the tools run. */
export interface ToolEnv {
  /** The concurrency model. */
  mode: string;
  /** Startup warnings go here. */
  warn(message: string): void;
  /** The pool's shared cache, in threadPool / threading. */
  sharedCache?: ToolSharedCache;
}

function contextFor(tools: ToolsConfig, mountPath: string, env: ToolEnv): ToolContext {
  return {
    baseDir: tools.baseDir,
    mountPath: mountPath === '/' ? '' : mountPath,
    multiprocess: env.mode === 'processPool' || env.mode === 'forking',
    mode: env.mode,
    warn: env.warn,
    sharedCache: env.sharedCache,
  };
}

function where(tools: ToolsConfig, line: number, p: string): string {
  return `${displayPath(tools.file)} line ${line} [${p}]`;
}

/** `app` with the configured tools around it; `app` itself when none are on. */
export function applyTools(app: App, tools: ToolsConfig | undefined, env: ToolEnv): App {
  if (tools === undefined) return app;
  const chains = tools.paths.map((p) => {
    let wrapped = app;
    // TOOLS order is outermost first: wrap from the innermost out.
    for (const t of [...p.tools].reverse()) {
      const def = toolByName(t.name)!;
      try {
        wrapped = def.create(wrapped, t.options, contextFor(tools, p.path, env));
      } catch (err) {
        const message = (err as Error)?.message ?? String(err);
        throw tsgiError('TSGI_ERR_CONFIG', { where: where(tools, p.line, p.path), problem: `tools.${t.name}: ${message}`, fix: `correct the tools.${t.name}.* keys of that section` }, { cause: err });
      }
    }
    return { path: p.path, app: wrapped };
  });
  let routed: App = app;
  if (chains.some((c) => c.app !== app)) {
    routed = (environ, startResponse) => {
      const p = environ.PATH_INFO === '' ? '/' : environ.PATH_INFO;
      for (const c of chains) if (pathCovers(c.path, p)) return c.app(environ, startResponse);
      return app(environ, startResponse);
    };
  }
  return accessLog(routed, { file: tools.log.accessFile, screen: tools.log.screen });
}

/** Once per server start, in the process that read the config: the tools' startup warnings. */
export function startTools(tools: ToolsConfig | undefined, env: ToolEnv): void {
  if (tools === undefined) return;
  for (const p of tools.paths) {
    for (const t of p.tools) toolByName(t.name)!.startup?.(t.options, contextFor(tools, p.path, env));
  }
}

let reopenHooks: Set<() => void> | null = null;
/** A SIGUSR1 came while no hook was installed (a process pool still starting): the first hook runs at once. */
let reopenPending = false;

/**
 * SIGUSR1 reopens every log file of this process and its threads (logrotate's `postrotate kill -USR1`),
 * then runs `onSignal` (a process pool forwards the signal to its workers). One handler per process;
 * Node's default SIGUSR1 action (start the inspector) is replaced. Returns a function removing `onSignal`.
 *
 * serve() installs the handler before the mode starts; a process pool adds its forwarding hook once its
 * workers are up, and its workers may serve (and write their logs) before that. A signal in between is
 * remembered and forwarded when the hook comes, instead of lost (a worker that opened its files after the
 * rename reopens the same path: harmless).
 */
export function installLogReopen(onSignal?: () => void): () => void {
  if (reopenHooks === null) {
    const hooks = new Set<() => void>();
    reopenHooks = hooks;
    process.on('SIGUSR1', () => {
      broadcastReopen();
      if (hooks.size === 0) reopenPending = true;
      for (const h of hooks) h();
    });
  }
  const hooks = reopenHooks;
  if (onSignal !== undefined) {
    hooks.add(onSignal);
    if (reopenPending) {
      reopenPending = false;
      onSignal();
    }
  }
  return () => void (onSignal !== undefined && hooks.delete(onSignal));
}
