/**
 * The forwarded headers a trusted proxy may set (`trustedProxyHeaders`), as header names and as the CGI
 * variables they become.
 */

/** Every forwarded header tsgi knows, lower case, as written in `trustedProxyHeaders`. */
export const FORWARDED_HEADERS = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-prefix', 'forwarded'] as const;
/** One of FORWARDED_HEADERS. */
export type ForwardedHeader = (typeof FORWARDED_HEADERS)[number];

/**
 * The default of `trustedProxyHeaders`: X-Forwarded-For and X-Forwarded-Proto, as uvicorn's
 * `--proxy-headers`. A trusted proxy rewrites only the headers its config names and passes every other one
 * from the client unchanged, so each header trusted by default must be one the usual configs set: nginx's
 * `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for` / `X-Forwarded-Proto $scheme`, Apache's
 * automatic X-Forwarded-For and `RequestHeader set X-Forwarded-Proto`. The original Host travels in Host
 * itself (`ProxyPreserveHost On`, `proxy_set_header Host $http_host`). X-Forwarded-Host, -Port, -Prefix and
 * Forwarded are left to opt in: a proxy that does not set them would let any client forge them.
 */
export const DEFAULT_TRUSTED_PROXY_HEADERS = 'x-forwarded-for,x-forwarded-proto';

/** Header name -> CGI variable. */
export const CGI_VAR: Readonly<Record<ForwardedHeader, string>> = {
  'x-forwarded-for': 'HTTP_X_FORWARDED_FOR',
  'x-forwarded-proto': 'HTTP_X_FORWARDED_PROTO',
  'x-forwarded-host': 'HTTP_X_FORWARDED_HOST',
  'x-forwarded-port': 'HTTP_X_FORWARDED_PORT',
  'x-forwarded-prefix': 'HTTP_X_FORWARDED_PREFIX',
  forwarded: 'HTTP_FORWARDED',
};

/** Every CGI variable of a forwarded header. */
export const FORWARDED_CGI_VARS: readonly string[] = FORWARDED_HEADERS.map((h) => CGI_VAR[h]);

/** Parse a `trustedProxyHeaders` list; throws an Error naming an unknown header. */
export function parseTrustedHeaders(list: string | readonly string[]): Set<ForwardedHeader> {
  const entries = typeof list === 'string' ? list.split(/[\s,]+/).filter((s) => s !== '') : list;
  const out = new Set<ForwardedHeader>();
  for (const e of entries) {
    const h = e.toLowerCase();
    if (!(FORWARDED_HEADERS as readonly string[]).includes(h)) {
      throw new Error(`${JSON.stringify(e)} is not a forwarded header tsgi reads (${FORWARDED_HEADERS.join(', ')})`);
    }
    out.add(h as ForwardedHeader);
  }
  return out;
}
