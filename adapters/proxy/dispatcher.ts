/**
 * Reverse-proxy mode as a Dispatcher wrapper: it rewrites `head.cgi` before the app's dispatcher sees the
 * request, so it works the same behind every front (HTTP, FastCGI, SCGI, CGI, protocol=auto), which all
 * hand over the same RequestHead, and before any worker thread or process gets it.
 *
 * The peer is REMOTE_ADDR as the front set it: the socket peer on HTTP (the PROXY protocol's source when
 * that is on), the address the web server passed on FastCGI, SCGI and CGI. From a trusted peer the headers
 * of `trustedProxyHeaders` are believed (forwarded.ts) and applied (rewrite.ts), the peer kept as
 * `tsgi.proxy_addr`; forwarded headers outside that list are removed, since a proxy passes on the ones it
 * does not set. From any other peer every forwarded header is removed, with a debug line, so an app reading
 * HTTP_X_FORWARDED_FOR itself cannot be fooled either. A malformed or conflicting value: one warning, the
 * headers removed, the socket peer kept; never an error response.
 */
import type { Dispatcher, RequestHead } from '../../gateway/core/dispatch.js';
import type { ErrorLog } from '../../gateway/core/log.js';
import type { ResponseSink } from '../../gateway/core/sink.js';
import { readForwarded } from './forwarded.js';
import { CGI_VAR, DEFAULT_TRUSTED_PROXY_HEADERS, parseTrustedHeaders, type ForwardedHeader } from './headers.js';
import { applyForwarded, forwardedToStrip, withoutVars } from './rewrite.js';
import { compileTrust, DEFAULT_TRUSTED_PROXIES, type TrustPredicate } from './trust.js';

/** Settings of reverse-proxy mode (the `trustedProxies` and `trustedProxyHeaders` options). */
export interface TrustedProxyOptions {
  /** Addresses, CIDRs and `unix`, as a list or comma-separated text. Default `127.0.0.1,::1`. */
  trustedProxies?: string | readonly string[];
  /** Headers a trusted proxy may set. Default `x-forwarded-for,x-forwarded-proto`. */
  trustedProxyHeaders?: string | readonly string[];
  log: ErrorLog;
}

/** Wraps a dispatcher with the trusted-proxy rules. */
export class TrustedProxyDispatcher implements Dispatcher {
  private readonly trust: TrustPredicate;
  private readonly headers: ReadonlySet<ForwardedHeader>;
  private readonly keep: ReadonlySet<string>;
  private readonly log: ErrorLog;

  constructor(private readonly inner: Dispatcher, opts: TrustedProxyOptions) {
    this.trust = compileTrust(opts.trustedProxies ?? DEFAULT_TRUSTED_PROXIES);
    this.headers = parseTrustedHeaders(opts.trustedProxyHeaders ?? DEFAULT_TRUSTED_PROXY_HEADERS);
    this.keep = new Set([...this.headers].map((h) => CGI_VAR[h]));
    this.log = opts.log;
  }

  dispatch(head: RequestHead, sink: ResponseSink): void | Promise<void> {
    const cgi = head.cgi;
    // The common case, no forwarded header at all: six property reads and nothing else.
    if (
      cgi.HTTP_X_FORWARDED_FOR === undefined && cgi.HTTP_X_FORWARDED_PROTO === undefined && cgi.HTTP_FORWARDED === undefined &&
      cgi.HTTP_X_FORWARDED_HOST === undefined && cgi.HTTP_X_FORWARDED_PORT === undefined && cgi.HTTP_X_FORWARDED_PREFIX === undefined
    ) {
      return this.inner.dispatch(head, sink);
    }
    head.cgi = this.rewrite(cgi);
    return this.inner.dispatch(head, sink);
  }

  /** Apply the rules to one request's CGI variables (in place). Exported through the class for tests. */
  rewrite(cgi: RequestHead['cgi']): RequestHead['cgi'] {
    const peer = cgi.REMOTE_ADDR ?? '';
    if (!this.trust(peer)) {
      const removed = forwardedToStrip(cgi);
      this.log.log('debug', `forwarded headers from ${peer || 'a unix-socket peer'}, not a trusted proxy, removed: ${removed.join(', ')} (see trustedProxies)`);
      return withoutVars(cgi, removed);
    }
    const verdict = readForwarded(cgi, peer, this.headers, this.trust);
    if (verdict.problem !== undefined) {
      this.log.log('warn', `trusted proxy ${peer || 'on a unix socket'}: ${verdict.problem}; forwarded headers ignored, REMOTE_ADDR stays ${peer || "''"}`);
      return withoutVars(cgi, forwardedToStrip(cgi));
    }
    const untrusted = forwardedToStrip(cgi, this.keep);
    if (untrusted.length > 0) this.log.log('debug', `forwarded headers not in trustedProxyHeaders removed: ${untrusted.join(', ')}`);
    return withoutVars(cgi, applyForwarded(cgi, peer, verdict.view, untrusted));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Wrap `dispatcher` in reverse-proxy mode. */
export function trustedProxies(dispatcher: Dispatcher, opts: TrustedProxyOptions): Dispatcher {
  return new TrustedProxyDispatcher(dispatcher, opts);
}
