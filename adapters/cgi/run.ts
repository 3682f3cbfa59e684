/**
 * Serve one CGI request (RFC 3875) and return: the web server started this process for it.
 * CGI variables come from the environment, the body from stdin, the response goes to stdout, the log to
 * stderr (the web server's error log). `tsgi.run_once` is true.
 *
 * Start-up cost is the whole cost of a CGI request, so this file and what it imports stay small: the
 * gateway core modules directly (no index barrels, no fastify, no config parser).
 * tsgi.multiprocess is true: every request runs in its own process (PEP 3333 says the same of CGI).
 */
import { tsgiError, TsgiError } from '../../app-api/errors.js';
import type { App, CgiVars } from '../../app-api/types.js';
import { InlineDispatcher } from '../../gateway/core/dispatch.js';
import { TrustedProxyDispatcher } from '../proxy/dispatcher.js';
import { cgiFromGateway } from '../../gateway/core/environ.js';
import { checkCgiHead, checkDeclaredBody, LimitedBody, limitSyncReader, requestLimits, type RequestLimits } from '../../gateway/core/limits.js';
import { ErrorLog } from '../../gateway/core/log.js';
import { cgiVarsFromEnv, checkPathEncoding } from './env.js';
import { FdSink, writeAllSync } from './sink.js';
import { refuseRequest, type RefusedRequest } from '../refuse.js';
import { FdBody } from './stdin.js';

/** Options of `runCgi`. The defaults are what a real CGI process wants; tests override the descriptors. */
export interface RunCgiOptions {
  /** Where the CGI variables are. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Body file descriptor. Default 0 (stdin). */
  stdinFd?: number;
  /** Response file descriptor. Default 1 (stdout). */
  stdoutFd?: number;
  /** Error log. Default: blocking writes to fd 2 (stderr), so nothing is lost at exit. */
  log?: ErrorLog;
  /** Mount point: re-split SCRIPT_NAME + PATH_INFO at it (default: keep the web server's split). */
  scriptName?: string;
  /** More environment variables to pass into the environ (e.g. SSL_CLIENT_S_DN). */
  extraVars?: readonly string[];
  /** The `[app]` config section, as tsgi.app_config. */
  appConfig?: Readonly<Record<string, string>>;
  /** Reverse-proxy mode (adapters/proxy): peers whose forwarded headers are believed; the peer is REMOTE_ADDR. Default `127.0.0.1,::1`. */
  trustedProxies?: string;
  /** Forwarded headers a trusted peer may set. Default `x-forwarded-for,x-forwarded-proto`. */
  trustedProxyHeaders?: string;
  /**
   * Take SIGTERM as "the client went away" while the request runs (default true): the web server sends it
   * when the client aborts (Apache, then SIGKILL 3 s later; lighttpd). The body stops, its close() runs,
   * runCgi resolves; if the app does not get there within `termGraceMs`, the process exits (code 143).
   */
  handleSigterm?: boolean;
  /** See handleSigterm. Default 2000 ms (under Apache's 3 s before SIGKILL). */
  termGraceMs?: number;
  /** Request line, header and body limits (gateway/core/limits.ts); main.ts takes them from TSGI_LIMIT_* / TSGI_MAX_BODY_SIZE. Default gunicorn's, no body limit. */
  limits?: Partial<RequestLimits>;
}

/** An error log that writes to stderr with blocking writes (a CGI process may exit right after). */
export function stderrLog(): ErrorLog {
  return new ErrorLog({ write: (line: string) => writeAllSync(2, line) }, 'tsgi-cgi');
}

/**
 * The request body on stdin. RFC 3875 4.2: CONTENT_LENGTH bytes when it is set. Without CONTENT_LENGTH there
 * is a body only when the request said so with Transfer-Encoding (HTTP/1.1 RFC 9112 6.1-6.3): Apache
 * mod_cgi/mod_cgid de-chunk such a body and stream it on stdin until EOF, without CONTENT_LENGTH and with
 * HTTP_TRANSFER_ENCODING=chunked. Reading nothing then made Apache fail writing the body (AH02651) and
 * reset the client. Without either, stdin is not the body (some servers leave it open or attached to
 * something else) and is not read.
 */
function requestBody(cgi: CgiVars, fd: number): FdBody | null {
  if (cgi.CONTENT_LENGTH !== undefined) {
    const length = Number(cgi.CONTENT_LENGTH);
    return length > 0 ? new FdBody(fd, length) : null;
  }
  return cgi.HTTP_TRANSFER_ENCODING !== undefined && cgi.HTTP_TRANSFER_ENCODING !== '' ? new FdBody(fd, null) : null;
}

/**
 * Run `app` for the CGI request of this process. Resolves (never rejects) with the status sent, once the
 * whole response is in the stdout pipe or the client went away (then the body's close() has run): exiting
 * right after loses nothing. Deletes process.env.HTTP_PROXY first (httpoxy): the app and any process it
 * spawns must not take a client's `Proxy:` header for proxy settings.
 */
export async function runCgi(app: App, opts: RunCgiOptions = {}): Promise<number> {
  const sink = new FdSink(opts.stdoutFd ?? 1);
  const log = opts.log ?? stderrLog();
  let graceTimer: NodeJS.Timeout | undefined;
  const onTerm = (): void => {
    log.log('warn', 'SIGTERM from the web server (the client went away?): stopping the response');
    sink.clientGone();
    graceTimer ??= setTimeout(() => process.exit(143), opts.termGraceMs ?? 2000).unref();
  };
  const signals = opts.handleSigterm !== false;
  if (signals) process.on('SIGTERM', onTerm);
  try {
    await serve(app, opts, sink, log);
    await sink.flushed();
  } finally {
    if (signals) process.removeListener('SIGTERM', onTerm);
  }
  return sink.status;
}

/** A CGI request as a refusal's log line names it (an error that is not a TsgiError is ours: 500). */
function refused(env: NodeJS.ProcessEnv): RefusedRequest {
  const what = `CGI request ${env.REQUEST_METHOD ?? '?'} ${(env.REQUEST_URI ?? env.PATH_INFO ?? '').slice(0, 200)}`;
  return { what, peer: env.REMOTE_ADDR || 'the web server', status: 500 };
}

async function serve(app: App, opts: RunCgiOptions, sink: FdSink, log: ErrorLog): Promise<void> {
  const env = opts.env ?? process.env;
  const limits = requestLimits(opts.limits);
  delete process.env.HTTP_PROXY;
  let cgi: CgiVars;
  try {
    const vars = cgiVarsFromEnv(env, opts.extraVars);
    checkPathEncoding(vars);
    cgi = cgiFromGateway(vars, { scriptName: opts.scriptName, prefiltered: true });
    if (cgi.CONTENT_LENGTH !== undefined && !/^\d{1,15}$/.test(cgi.CONTENT_LENGTH)) {
      throw tsgiError('TSGI_ERR_BAD_REQUEST', { problem: `CONTENT_LENGTH ${JSON.stringify(cgi.CONTENT_LENGTH.slice(0, 40))} is not a decimal number` });
    }
    checkCgiHead(limits, cgi);
    checkDeclaredBody(limits, cgi.CONTENT_LENGTH);
  } catch (err) {
    refuseRequest(sink, log, err, refused(env));
    return;
  }
  const stdin = requestBody(cgi, opts.stdinFd ?? 0);
  // A body without CONTENT_LENGTH (a de-chunked one, until EOF) is counted as it is read; a declared one was checked above.
  const counted = stdin !== null && cgi.CONTENT_LENGTH === undefined && limits.maxBodySize > 0;
  const body = counted ? new LimitedBody(stdin, limits.maxBodySize) : stdin;
  const bodySync = stdin === null ? undefined : limitSyncReader((n) => stdin.readSync(n), counted ? limits.maxBodySize : 0);
  const inline = new InlineDispatcher(app, { log, runOnce: true, multiprocess: true, appConfig: opts.appConfig });
  const dispatcher = new TrustedProxyDispatcher(inline, { trustedProxies: opts.trustedProxies, trustedProxyHeaders: opts.trustedProxyHeaders, log });
  try {
    await dispatcher.dispatch({ cgi, body, bodySync }, sink);
  } catch (err) {
    // The core never rejects; this is a last guard so stdout always gets a response.
    if (sink.status === 0) refuseRequest(sink, log, err, refused(env));
    else log.log('error', 'CGI dispatch failed', err);
  }
}
