/**
 * The conformance table: one list of requests and what every front must answer, as Plack::Test::Suite.
 * Every front (built-in HTTP, FastCGI, SCGI, CGI, nginx / Apache / lighttpd in front) runs this same table
 * through `runConformance` (runner.ts) with its own `send`. Expectations are front-neutral: they name what
 * the app must see (the environ, as examples/echo-environ reports it) and what the client must get.
 *
 * Paths are relative to the front's mount point: the runner sends `mount + path`, so `/x` under `/app` is
 * `/app/x` on the wire and the app sees SCRIPT_NAME=/app, PATH_INFO=/x.
 */
import { APP_PATHS } from './apps.js';
import { digestOf, type Digest, type GeneratedBody } from '../support/bodies.js';

/** What a case knows about the front running it. */
export interface FrontContext {
  /** SCRIPT_NAME the front mounts the app at: '' or e.g. '/app'. */
  mount: string;
}

/** A check on one value (an environ field or a response header); `undefined` means absent. */
export interface Check {
  test(value: unknown): boolean;
  /** What was expected, for the failure message. */
  describe: string;
}

/** An expected value: exact value, pattern, `null` (must be absent), an array (compared as JSON), a Check, or a function of the front. */
export type Expected = string | number | boolean | RegExp | null | readonly unknown[] | Check | ((front: FrontContext) => Expected);

/** The request of a case. */
export interface CaseRequest {
  method: string;
  /** Raw target after the mount point, sent as is (may contain %-escapes and a query). */
  path: string;
  headers?: Array<[string, string]>;
  /** Bytes, or a big body generated on the fly from {size, seed}. */
  body?: Buffer | GeneratedBody;
  /** Send the body with Transfer-Encoding: chunked. */
  chunked?: boolean;
}

/** Front capabilities a case may need; a front without one skips the case. */
export interface Capabilities {
  /** Request bodies with Transfer-Encoding: chunked reach the app. */
  chunkedUpload?: boolean;
}

/** One row of the table. */
export interface ConformanceCase {
  name: string;
  request: CaseRequest;
  /** Runs only on fronts mounted below the root (SCRIPT_NAME != ''). */
  mountOnly?: boolean;
  needs?: keyof Capabilities;
  expect: {
    status: number;
    /** Environ fields as echo-environ reports them (first line of the response body, JSON). */
    environ?: Record<string, Expected>;
    /** The request body as the app read it (echo-environ's `body`: length and sha256). */
    body?: Digest;
    /** Response headers (lower-case names). */
    headers?: Record<string, Expected>;
    /** The response has no body at all (HEAD, 204, 304). */
    noBody?: boolean;
    /** The bytes after echo-environ's JSON line (`?stream=N`). */
    afterJson?: Digest;
    /** The response body must not contain this text. */
    bodyExcludes?: string;
  };
}

/** A value that must be absent, or equal to `value`. */
export function absentOr(value: string): Check {
  return { test: (v) => v === undefined || v === value, describe: `absent or ${JSON.stringify(value)}` };
}

/** A value that, if present, does not contain `text`. */
export function notContaining(text: string): Check {
  return { test: (v) => v === undefined || (typeof v === 'string' && !v.includes(text)), describe: `absent or not containing ${JSON.stringify(text)}` };
}

const mountIs = (f: FrontContext): string => f.mount;
const ONE_MB: GeneratedBody = { size: 1024 * 1024, seed: 1 };
const CHUNKED: GeneratedBody = { size: 200 * 1024 + 17, seed: 2 };
const EMPTY_DIGEST = digestOf(undefined);
const STREAM_KIB = 256;

/** The table. Add rows here; never fork it per front (use a front's `skips` with a reason instead). */
export const conformanceTable: ConformanceCase[] = [
  {
    name: 'GET / reaches the app with the CGI basics',
    request: { method: 'GET', path: '/' },
    expect: {
      status: 200,
      headers: { 'content-type': 'application/json' },
      environ: {
        REQUEST_METHOD: 'GET',
        SCRIPT_NAME: mountIs,
        PATH_INFO: '/',
        QUERY_STRING: '',
        REMOTE_ADDR: '127.0.0.1',
        SERVER_PROTOCOL: /^HTTP\//,
        SERVER_NAME: /./,
        SERVER_PORT: /^\d*$/,
        CONTENT_LENGTH: null,
        'tsgi.version': [1, 0],
        'tsgi.input_terminated': true,
      },
      body: EMPTY_DIGEST,
    },
  },
  {
    name: 'QUERY_STRING is passed raw (escapes not decoded)',
    request: { method: 'GET', path: '/q?a=%20b&c=%C3%A9&d=e+f&%2F&x' },
    expect: { status: 200, environ: { PATH_INFO: '/q', QUERY_STRING: 'a=%20b&c=%C3%A9&d=e+f&%2F&x' } },
  },
  {
    name: 'PATH_INFO is decoded: %20 and UTF-8 %C3%A9',
    request: { method: 'GET', path: '/a%20b/caf%C3%A9' },
    expect: { status: 200, environ: { PATH_INFO: '/a b/café', SCRIPT_NAME: mountIs } },
  },
  {
    name: '%2F in the path is decoded into PATH_INFO',
    request: { method: 'GET', path: '/a%2Fb' },
    expect: { status: 200, environ: { PATH_INFO: '/a/b' } },
  },
  {
    name: '%0A in the path is decoded, not a line break in anything else',
    request: { method: 'GET', path: '/x%0Ay' },
    expect: { status: 200, environ: { PATH_INFO: '/x\ny', QUERY_STRING: '' } },
  },
  {
    name: 'NUL (%00) in the path is a 400',
    request: { method: 'GET', path: '/a%00b' },
    expect: { status: 400 },
  },
  {
    name: 'invalid UTF-8 (%C3 alone) in the path is a 400',
    request: { method: 'GET', path: '/a%C3' },
    expect: { status: 400 },
  },
  {
    name: 'SCRIPT_NAME is the mount, PATH_INFO the rest',
    request: { method: 'GET', path: '/x/y.txt' },
    expect: { status: 200, environ: { SCRIPT_NAME: mountIs, PATH_INFO: '/x/y.txt' } },
  },
  {
    name: 'the mount point itself: empty PATH_INFO',
    mountOnly: true,
    request: { method: 'GET', path: '' },
    expect: { status: 200, environ: { SCRIPT_NAME: mountIs, PATH_INFO: '' } },
  },
  {
    name: 'a path sharing the mount prefix but not its segment is outside (404)',
    mountOnly: true,
    request: { method: 'GET', path: 'lication/x' },
    expect: { status: 404 },
  },
  {
    name: 'POST with a 0-byte body',
    request: { method: 'POST', path: '/upload', headers: [['Content-Type', 'application/octet-stream']], body: Buffer.alloc(0) },
    expect: { status: 200, environ: { REQUEST_METHOD: 'POST', CONTENT_LENGTH: absentOr('0') }, body: EMPTY_DIGEST },
  },
  {
    name: 'POST with a 1-byte body',
    request: { method: 'POST', path: '/upload', headers: [['Content-Type', 'application/octet-stream']], body: Buffer.from('x') },
    expect: { status: 200, environ: { CONTENT_LENGTH: '1' }, body: digestOf(Buffer.from('x')) },
  },
  {
    name: 'POST with a 1 MB body arrives intact (sha256)',
    request: { method: 'POST', path: '/upload', headers: [['Content-Type', 'application/octet-stream']], body: ONE_MB },
    expect: { status: 200, environ: { CONTENT_LENGTH: String(ONE_MB.size) }, body: digestOf(ONE_MB) },
  },
  {
    name: 'chunked upload arrives intact (sha256)',
    needs: 'chunkedUpload',
    request: { method: 'PUT', path: '/upload', headers: [['Content-Type', 'application/octet-stream']], body: CHUNKED, chunked: true },
    expect: { status: 200, environ: { REQUEST_METHOD: 'PUT' }, body: digestOf(CHUNKED) },
  },
  {
    name: 'CONTENT_TYPE and CONTENT_LENGTH have no HTTP_ prefix',
    request: { method: 'POST', path: '/form', headers: [['Content-Type', 'application/x-test; charset=utf-8']], body: Buffer.from('hello') },
    expect: {
      status: 200,
      environ: { CONTENT_TYPE: 'application/x-test; charset=utf-8', CONTENT_LENGTH: '5', HTTP_CONTENT_TYPE: null, HTTP_CONTENT_LENGTH: null },
      body: digestOf(Buffer.from('hello')),
    },
  },
  {
    name: 'a header name with _ is dropped: X_Custom_Id cannot shadow X-Custom-Id',
    request: { method: 'GET', path: '/', headers: [['X-Custom-Id', 'good'], ['X_Custom_Id', 'evil']] },
    expect: { status: 200, environ: { HTTP_X_CUSTOM_ID: 'good' } },
  },
  {
    name: 'X_Forwarded_For alone never becomes HTTP_X_FORWARDED_FOR',
    request: { method: 'GET', path: '/', headers: [['X_Forwarded_For', '203.0.113.66']] },
    expect: { status: 200, environ: { HTTP_X_FORWARDED_FOR: notContaining('203.0.113.66'), REMOTE_ADDR: '127.0.0.1' } },
  },
  {
    name: 'Proxy: header never becomes HTTP_PROXY (httpoxy)',
    request: { method: 'GET', path: '/', headers: [['Proxy', 'http://203.0.113.66:3128']] },
    expect: { status: 200, environ: { HTTP_PROXY: null } },
  },
  {
    name: 'repeated request headers are joined with ", "',
    request: { method: 'GET', path: '/', headers: [['X-Multi', 'a'], ['X-Multi', 'b']] },
    expect: { status: 200, environ: { HTTP_X_MULTI: 'a, b' } },
  },
  {
    name: 'other methods pass through (DELETE)',
    request: { method: 'DELETE', path: '/thing/1' },
    expect: { status: 200, environ: { REQUEST_METHOD: 'DELETE', PATH_INFO: '/thing/1' } },
  },
  {
    name: 'HEAD: status and headers, no body',
    request: { method: 'HEAD', path: '/' },
    expect: { status: 200, headers: { 'content-type': 'application/json' }, noBody: true },
  },
  {
    name: '204 from the app: no body, no Content-Length',
    request: { method: 'GET', path: '/?status=204' },
    expect: { status: 204, noBody: true, headers: { 'content-length': null } },
  },
  {
    name: '304 from the app: no body',
    request: { method: 'GET', path: '/?status=304' },
    expect: { status: 304, noBody: true },
  },
  {
    name: 'repeated response headers are kept (two Set-Cookie)',
    request: { method: 'GET', path: '/?header=Set-Cookie:a%3D1&header=Set-Cookie:b%3D2' },
    expect: { status: 200, headers: { 'set-cookie': 'a=1\nb=2' } },
  },
  {
    name: 'a streamed response (async generator body) arrives whole',
    request: { method: 'GET', path: `/?stream=${STREAM_KIB}` },
    expect: { status: 200, afterJson: digestOf(Buffer.alloc(STREAM_KIB * 1024, 0x61)) },
  },
  {
    name: 'a large (8 KiB) response header arrives whole',
    request: { method: 'GET', path: `${APP_PATHS.bigHeader}?bytes=8192` },
    expect: { status: 200, headers: { 'x-large': 'x'.repeat(8192) } },
  },
  {
    name: 'header injection (CR LF in a value) is a 500 and nothing is injected',
    request: { method: 'GET', path: APP_PATHS.inject },
    expect: { status: 500, headers: { 'x-injected': null, 'x-ok': null }, bodyExcludes: 'never be sent' },
  },
];
