/**
 * What `tsgi check` works on: the listener of an INI file a front end must reach (the target), the front
 * renderers (one file per web server), and the lines it prints about what it finds.
 */
import type { ForwardedHeader } from '../../adapters/proxy/headers.js';

/** The fronts `tsgi check --front` knows. */
export const FRONT_NAMES = ['nginx', 'apache', 'lighttpd', 'haproxy'] as const;
export type FrontName = (typeof FRONT_NAMES)[number];

/** Where tsgi listens, as the front must reach it. */
export type Upstream = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/** Where the front listens (`--front-listen HOST:PORT`; no host: every interface). */
export interface FrontListen {
  host: string | undefined;
  port: number;
}

/** One listener of the INI file, reduced to what a front's config depends on. */
export interface CheckTarget {
  /** The INI file (as given), for the comment at the top of a snippet. */
  configFile: string;
  /** `[server]` or `[server:NAME]`. */
  section: string;
  /** What the listener speaks; `auto` listeners are served as HTTP by the fronts. */
  protocol: 'http' | 'fastcgi' | 'scgi';
  /** The protocol as written (`auto` stays `auto`), for the messages. */
  protocolWritten: string;
  upstream: Upstream;
  /** scriptName: the app's mount ('' = the root). */
  mount: string;
  proxyProtocol: boolean;
  trustedProxies: string;
  trustedHeaders: ReadonlySet<ForwardedHeader>;
  listen: FrontListen;
  /** A name for the upstream/backend block, unique per listener (`tsgi_server`, `tsgi_admin`). */
  name: string;
}

/** One line of the report. `error` lines make the exit status non-zero. */
export interface Finding {
  level: 'error' | 'warn' | 'ok';
  text: string;
}

/** How to run a front's own syntax check on a snippet. */
export interface SyntaxCheck {
  /** The executable's name, looked up on PATH and in the sbin directories. */
  binary: string;
  /** The minimal main config that includes the snippet, written to `dir` (a temp dir). */
  wrapper(dir: string, snippetFile: string, listen: FrontListen): string;
  /** The arguments that check the main config `mainFile` (which includes `snippetFile`) and exit. */
  args(mainFile: string, snippetFile: string, dir: string): string[];
  /** The arguments that run the front in the foreground on the same files (for tests and trying it out). */
  runArgs(mainFile: string, snippetFile: string, dir: string): string[];
}

/** A web server tsgi check writes a config snippet for. */
export interface FrontRenderer {
  name: FrontName;
  /** The snippet for the target; the target's protocol is one `supports` accepted. */
  render(target: CheckTarget): string;
  /** Undefined when the front can serve the target, else the reason (an error line). */
  cannotServe(target: CheckTarget): string | undefined;
  /** What to add to the snippet for one missing thing, for the findings (`proxy_set_header ...`). */
  hint: Partial<Record<'forwardedFor' | 'forwardedProto' | 'host' | 'buffering' | 'remoteAddr', string>>;
  syntax: SyntaxCheck;
}
