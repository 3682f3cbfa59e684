/**
 * The shape of a server's tool configuration (plain JSON, so it travels to worker threads and processes),
 * in a file of its own so the config reader can name it without importing the code that builds it.
 */

/** A tool or log key as the file has it. */
export interface RawToolKey {
  /** `/static`, `global` or `server`. */
  section: string;
  key: string;
  value: string;
  line: number;
}

/** One tool switched on for a path, with its options parsed and defaults applied. */
export interface PathTool {
  name: string;
  options: Record<string, unknown>;
}

/** The tools of one section path, its parents' keys included. */
export interface PathTools {
  /** `/` or `/static` (no trailing slash). */
  path: string;
  /** The section header line. */
  line: number;
  /** In TOOLS order: the first wraps outermost. */
  tools: PathTool[];
}

/** The `log.*` keys. */
export interface LogSettings {
  /** Access lines on stdout too. */
  screen: boolean;
  accessFile?: string;
  errorFile?: string;
}

/** The tool configuration of a server: plain JSON, so it travels to worker threads and processes. */
export interface ToolsConfig {
  /** The config file (messages) and its folder (relative paths). */
  file: string;
  baseDir: string;
  /** Longest path first. */
  paths: PathTools[];
  log: LogSettings;
}

/** True when `prefix` covers `p` by whole segments (`/static` covers `/static/x`, not `/staticx`). */
export function pathCovers(prefix: string, p: string): boolean {
  return prefix === '/' || p === prefix || p.startsWith(prefix + '/');
}
