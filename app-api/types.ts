/**
 * The tsgi application interface, as types. `app-api/SPEC.md` is the normative text; these types are its
 * shape. An application is one function:
 *
 *     app(environ, startResponse) -> body
 */

/** A body chunk: bytes, or a string that the gateway encodes as UTF-8. */
export type Chunk = string | Uint8Array;

/** A response header: `[name, value]`. Names are HTTP tokens; values are Latin-1 text without CR, LF or NUL. */
export type Header = [name: string, value: string];

/** The response headers, in order, duplicates allowed (e.g. several Set-Cookie). */
export type HeaderList = Header[];

/** What the app may return: an iterable or async iterable of chunks, optionally with `close()`. */
export type Body = (Iterable<Chunk> | AsyncIterable<Chunk>) & { close?: () => void | Promise<void> };

/** The legacy imperative writer returned by `startResponse` (PEP 3333 `write`). Await it for backpressure. */
export type Write = (chunk: Chunk) => void | Promise<void>;

/**
 * `startResponse(status, headers, excInfo?)`: status is `"200 OK"`-style, headers a list of pairs.
 * Called again only with `excInfo`; if headers were already sent it re-throws `excInfo`.
 */
export type StartResponse = (status: string, headers: HeaderList, excInfo?: unknown) => Write;

/** The request body stream, `environ['tsgi.input']`. */
export interface InputStream extends AsyncIterable<Buffer> {
  /** Read up to `size` bytes (all remaining when omitted or negative). Resolves to an empty Buffer at EOF. */
  read(size?: number): Promise<Buffer>;
  /** Read up to and including the next `\n` (or up to `limit` bytes). Empty Buffer at EOF. */
  readline(limit?: number): Promise<Buffer>;
  /**
   * Blocking read, for synchronous apps. Works where the runtime can block (a pool thread, CGI stdin, or a
   * body already buffered); elsewhere throws `TSGI_ERR_SYNC_INPUT` naming the fix.
   */
  readSync(size?: number): Buffer;
}

/** The error stream, `environ['tsgi.errors']`: text written here goes to the server's error log. */
export interface ErrorStream {
  write(message: string): void;
  flush(): void;
}

/** The CGI variables of RFC 3875 and HTTP_* request headers: always strings. */
export interface CgiVariables {
  REQUEST_METHOD: string;
  SCRIPT_NAME: string;
  PATH_INFO: string;
  QUERY_STRING: string;
  SERVER_NAME: string;
  SERVER_PORT: string;
  SERVER_PROTOCOL: string;
  CONTENT_TYPE?: string;
  CONTENT_LENGTH?: string;
  REMOTE_ADDR?: string;
  REMOTE_PORT?: string;
  REMOTE_HOST?: string;
  REQUEST_URI?: string;
  HTTPS?: string;
}

/** CGI variables as a front end produces them (what crosses threads and processes): plain strings. */
export type CgiVars = Record<string, string>;

/** The `tsgi.*` keys the server adds to the CGI variables. */
export interface TsgiKeys {
  'tsgi.version': readonly [1, 0];
  'tsgi.url_scheme': 'http' | 'https';
  'tsgi.input': InputStream;
  'tsgi.errors': ErrorStream;
  'tsgi.multithread': boolean;
  'tsgi.multiprocess': boolean;
  'tsgi.run_once': boolean;
  /** True: reading tsgi.input past the body returns EOF (never hangs), as wsgi.input_terminated. */
  'tsgi.input_terminated': boolean;
  /** The `[app]` section of the config file (strings), or {} when there is none. */
  'tsgi.app_config': Readonly<Record<string, string>>;
  /**
   * Aborts when the client leaves while the app is still working (its `reason` is an Error with code
   * TSGI_ERR_CLIENT_GONE saying how). Present on the HTTP/1.1, HTTP/2, FastCGI and SCGI fronts in every
   * concurrency mode; absent under CGI, which cannot know.
   */
  'tsgi.client_gone'?: AbortSignal;
}

/** The environ an app receives: CGI variables, `tsgi.*` keys, and anything middleware added. */
export interface Environ extends CgiVariables, TsgiKeys {
  [key: string]: unknown;
}

/** A tsgi application. */
export type App = (environ: Environ, startResponse: StartResponse) => Body | Promise<Body>;

/** Middleware: takes an app, returns an app. */
export type Middleware = (app: App) => App;
