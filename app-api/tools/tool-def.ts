/**
 * The contract every CherryPy-style tool keeps, so that one registry can switch it on from an INI file
 * (`[/static] tools.staticdir.on = 1`, `tools.staticdir.dir = public`) and the same tool can be used in code
 * (`staticDir(app, { dir: 'public' })`). A tool is middleware with declared options: the config reader
 * checks names and types against `options` (an unknown key or a wrong type is a TSGI_ERR_CONFIG naming
 * the file, line, key and fix) before `create` is ever called.
 */
import type { App } from '../types.js';

/** How an option's INI string is read. `path` is a string resolved against the config file's folder. */
export type ToolOptionType = 'boolean' | 'integer' | 'number' | 'string' | 'path' | 'list';

/** One declared option of a tool: its type, default and the line `tsgi --help` and the README print. */
export interface ToolOptionSpec {
  readonly type: ToolOptionType;
  /** The value used when the key is absent; absent = the option is required when the tool is on. */
  readonly default?: boolean | number | string | readonly string[];
  /** One sentence: what the option does. */
  readonly doc: string;
  /** For `string`: the accepted values, when it is an enumeration (`memory | file | redis`). */
  readonly choices?: readonly string[];
}

/** What a tool gets besides its options when the server builds it. */
export interface ToolContext {
  /** The config file's folder: relative `path` options are resolved against it. */
  readonly baseDir: string;
  /** The URL path prefix of the INI section the tool was switched on in (`/static`), or '' for `[/]`. */
  readonly mountPath: string;
  /** True when other processes serve the same app (processPool, forking): e.g. memory sessions warn. */
  readonly multiprocess: boolean;
  /** Where the tool reports problems at startup (a warning line; the server's error log). */
  warn(message: string): void;
  /**
   * The concurrency model serving the app (`single`, `threading`, `threadPool`, `processPool`, `forking`):
   * with threads each thread has its own heap, so an in-memory store is per thread.
   */
  readonly mode?: string;
  /**
   * The process-wide cache the thread pool shares between its threads (gateway/threads/shared-cache.ts), set
   * by the server in threadPool and threading modes. Tools keep their per-process state in it instead of a
   * per-thread Map. app-api declares only the shape, so it imports nothing from the server.
   */
  readonly sharedCache?: ToolSharedCache;
}

/**
 * The part of the thread pool's shared cache a tool uses: bytes by key, with single-flight on a miss
 * (one caller runs `compute`, concurrent callers of the same key wait for its result, in any thread).
 */
export interface ToolSharedCache {
  getOrCompute(key: string, compute: () => Uint8Array | Promise<Uint8Array>): Promise<Uint8Array>;
  delete(key: string): void;
}

/** A tool: `tools.NAME.on = 1` wraps the app with `create(app, options, ctx)`. */
export interface ToolDef<O = Record<string, unknown>> {
  /** The INI name: `tools.NAME.*`. */
  readonly name: string;
  /** One sentence for the README and `tsgi --help`. */
  readonly doc: string;
  /** Every option besides `on`. */
  readonly options: Readonly<Record<string, ToolOptionSpec>>;
  /** Wrap `app`. Options arrive with defaults applied and types checked. */
  create(app: App, options: O, ctx: ToolContext): App;
  /**
   * Optional: called once per server start in the process that reads the config (not in every worker), to
   * warn about a setting that works but is a mistake in this concurrency model.
   */
  startup?(options: O, ctx: ToolContext): void;
}
