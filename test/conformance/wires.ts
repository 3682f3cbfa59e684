/**
 * How the conformance matrix speaks to a front: one `send` per wire protocol, each turning a table row
 * (runner.ts FrontRequest) into that protocol's request and its answer back into a FrontResponse.
 *
 * - `http1`: plain HTTP/1.1 (support/http-client.ts);
 * - `h2c`: HTTP/2 with prior knowledge over cleartext (node:http2), one session per request;
 * - `fastcgi` / `scgi`: our clients playing the web server (support/fcgi-client.ts, scgi-client.ts);
 * - `cgi`: examples/cgi/app.cgi run as a CGI program (integration/harness/cgi-client.ts).
 *
 * For the gateway protocols the test plays the web server, deciding what a web server decides the way
 * nginx does (`gatewayVars`): the path percent-decoded to BYTES (so a lone %C3 or %00 reaches tsgi as a
 * web server would pass it, and tsgi must refuse it), SCRIPT_NAME empty and the whole path in PATH_INFO
 * (tsgi's scriptName re-splits it), header names with `_` dropped, repeats joined.
 */
import http from 'node:http';
import http2 from 'node:http2';
import { generateBody, type GeneratedBody } from '../support/bodies.js';
import { FcgiClient } from '../support/fcgi-client.js';
import { scgiRequest } from '../support/scgi-client.js';
import { cgiEnvironment, runCgi } from '../integration/harness/cgi-client.js';
import { httpSend, type Front, type FrontRequest, type FrontResponse } from './runner.js';

/** The wire protocols a front of the matrix can be spoken to in. */
export type Wire = 'http1' | 'h2c' | 'fastcgi' | 'scgi' | 'cgi';

/** What the fake web server of the gateway wires says about itself (SERVER_SOFTWARE & co). */
export const FAKE_WEB_SERVER = { software: 'conformance-web-server', remotePort: '50123' } as const;

/** Percent-decode to bytes, as a web server does before it fills PATH_INFO (no UTF-8 check: that is tsgi's). */
function percentDecodeBytes(raw: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(raw.slice(i + 1, i + 3))) {
      out.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(c & 0xff);
  }
  return Buffer.from(out);
}

function bodyLength(body: FrontRequest['body']): number | undefined {
  return body === undefined ? undefined : Buffer.isBuffer(body) ? body.length : body.size;
}

/**
 * The CGI variables a web server (nginx's fastcgi_params / scgi_params) sends for `req` to a backend at
 * `port`, each value as a latin1 string of its bytes. SCRIPT_NAME is empty: the backend's scriptName
 * re-splits PATH_INFO at its mount.
 */
export function gatewayVars(req: FrontRequest, port: number): Record<string, string> {
  const q = req.path.indexOf('?');
  const rawPath = q === -1 ? req.path : req.path.slice(0, q);
  const vars: Record<string, string> = {
    GATEWAY_INTERFACE: 'CGI/1.1',
    REQUEST_METHOD: req.method,
    REQUEST_URI: req.path,
    SCRIPT_NAME: '',
    PATH_INFO: percentDecodeBytes(rawPath).toString('latin1'),
    QUERY_STRING: q === -1 ? '' : req.path.slice(q + 1),
    SERVER_PROTOCOL: 'HTTP/1.1',
    SERVER_SOFTWARE: FAKE_WEB_SERVER.software,
    SERVER_NAME: '127.0.0.1',
    SERVER_PORT: String(port),
    SERVER_ADDR: '127.0.0.1',
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: FAKE_WEB_SERVER.remotePort,
  };
  const length = bodyLength(req.body);
  if (length !== undefined && (length > 0 || req.method === 'POST' || req.method === 'PUT')) vars.CONTENT_LENGTH = String(length);
  for (const [name, value] of req.headers ?? []) {
    const lower = name.toLowerCase();
    if (lower.includes('_')) continue; // nginx: underscores_in_headers off
    if (lower === 'content-type') vars.CONTENT_TYPE = value;
    else if (lower === 'content-length' || lower === 'transfer-encoding') continue;
    else {
      const key = 'HTTP_' + lower.toUpperCase().replace(/-/g, '_');
      vars[key] = vars[key] === undefined ? value : `${vars[key]}, ${value}`;
    }
  }
  vars.HTTP_HOST ??= `127.0.0.1:${port}`;
  return vars;
}

/** Header pairs (lower-case names) to the runner's record: repeats joined with ', ', set-cookie with '\n'. */
export function headerRecord(pairs: Iterable<readonly [string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [n, v] of pairs) {
    const name = n.toLowerCase();
    out[name] = out[name] === undefined ? v : out[name] + (name === 'set-cookie' ? '\n' : ', ') + v;
  }
  return out;
}

async function* chunksOf(body: Buffer | GeneratedBody): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(body)) yield body;
  else yield* generateBody(body);
}

/**
 * FastCGI responder requests as nginx sends them: one connection each (keep-conn off), or with `pool`,
 * over keep-conn connections taken back after each request (nginx's fastcgi_keep_conn).
 */
export function fastcgiSend(port: () => number, pool?: FcgiClient[]): Front['send'] {
  return async (req) => {
    const reused = pool?.pop();
    const client = reused !== undefined && !reused.connectionClosed ? reused : await FcgiClient.connect({ port: port() });
    let keep = false;
    try {
      const params = Object.entries(gatewayVars(req, port())).map(([k, v]): [string, Buffer] => [k, Buffer.from(v, 'latin1')]);
      const r = await client.request({ params, keepConn: pool !== undefined, stdin: req.body === undefined ? undefined : chunksOf(req.body) });
      keep = pool !== undefined && !client.connectionClosed;
      return { status: r.status, headers: headerRecord(r.headers), body: r.body };
    } finally {
      if (keep) pool!.push(client);
      else client.close();
    }
  };
}

/** SCGI requests, as nginx's scgi_pass sends them. */
export function scgiSend(port: () => number): Front['send'] {
  return async (req) => {
    const length = bodyLength(req.body) ?? 0;
    const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : { length, chunks: chunksOf(req.body) };
    const r = await scgiRequest(port(), { vars: gatewayVars(req, port()), body, timeoutMs: 30_000 });
    return { status: r.status, headers: headerRecord(r.headers), body: r.body };
  };
}

/**
 * HTTP/2 (h2c, prior knowledge): a session per request, or one `shared` session for all. A row's `chunked` body goes without
 * content-length (HTTP/2 has no chunked coding: a body of unknown length is just DATA frames).
 */
export function h2cSend(port: () => number, shared?: { session?: http2.ClientHttp2Session }): Front['send'] {
  return (req) =>
    new Promise<FrontResponse>((resolve, reject) => {
      const reuse = shared?.session !== undefined && !shared.session.closed && !shared.session.destroyed;
      const session = reuse ? shared!.session! : http2.connect(`http://127.0.0.1:${port()}`);
      if (shared !== undefined) shared.session = session;
      const closeSession = (): void => {
        if (shared === undefined) session.close();
      };
      session.once('error', reject);
      const headers: http2.OutgoingHttpHeaders = { ':method': req.method, ':path': req.path, ':authority': `127.0.0.1:${port()}` };
      for (const [n, v] of req.headers ?? []) {
        const name = n.toLowerCase();
        const prev = headers[name];
        headers[name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
      }
      const length = bodyLength(req.body);
      if (length !== undefined && !req.chunked) headers['content-length'] = String(length);
      const stream = session.request(headers, { endStream: req.body === undefined });
      const timer = setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), 30_000);
      let status = 0;
      let resHeaders: Record<string, string> = {};
      const chunks: Buffer[] = [];
      stream.on('response', (h) => {
        status = Number(h[':status']);
        const pairs: [string, string][] = [];
        for (const [name, value] of Object.entries(h)) {
          if (name.startsWith(':') || value === undefined) continue;
          for (const one of Array.isArray(value) ? value : [String(value)]) pairs.push([name, one]);
        }
        resHeaders = headerRecord(pairs);
      });
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (err) => {
        clearTimeout(timer);
        session.off('error', reject);
        closeSession();
        reject(err);
      });
      stream.on('close', () => {
        clearTimeout(timer);
        session.off('error', reject);
        closeSession();
        if (status === 0) reject(new Error(`HTTP/2 stream closed without a response (code ${stream.rstCode})`));
        else resolve({ status, headers: resHeaders, body: Buffer.concat(chunks) });
      });
      if (req.body !== undefined) {
        void (async () => {
          for await (const c of chunksOf(req.body!)) {
            if (!stream.write(c)) await new Promise((r) => stream.once('drain', r));
          }
          stream.end();
        })().catch(() => stream.destroy());
      }
    });
}

/** examples/cgi/app.cgi serving `appModule`, one CGI process per request, mounted at `mount`. */
export function cgiSend(script: string, appModule: string, mount: string): Front['send'] {
  return (req) => {
    const env = { ...cgiEnvironment(req, mount, { port: 80 }), TSGI_APP: appModule, SERVER_NAME: '127.0.0.1', SERVER_SOFTWARE: FAKE_WEB_SERVER.software, REMOTE_PORT: FAKE_WEB_SERVER.remotePort };
    return runCgi(script, [], env, req);
  };
}

/** A `send` and what it holds open between requests (connections it reuses), to release after the tests. */
export interface WireClient {
  send: Front['send'];
  release(): void;
}

/**
 * The send of `wire` to a server on `port()` (cgi has no port: use cgiSend). `reuse`: keep connections
 * open between requests where the protocol can (HTTP/1.1 keep-alive, one HTTP/2 session, FastCGI
 * keep-conn; SCGI is one request per connection), as web servers and browsers do.
 */
export function wireClient(wire: Exclude<Wire, 'cgi'>, port: () => number, reuse = false): WireClient {
  if (wire === 'http1') {
    const agent = reuse ? new http.Agent({ keepAlive: true, maxSockets: 4 }) : undefined;
    return { send: httpSend(() => ({ port: port(), agent })), release: () => agent?.destroy() };
  }
  if (wire === 'h2c') {
    const shared = reuse ? {} as { session?: http2.ClientHttp2Session } : undefined;
    return { send: h2cSend(port, shared), release: () => shared?.session?.close() };
  }
  if (wire === 'fastcgi') {
    const pool: FcgiClient[] | undefined = reuse ? [] : undefined;
    return { send: fastcgiSend(port, pool), release: () => pool?.splice(0).forEach((c) => c.close()) };
  }
  return { send: scgiSend(port), release: () => {} };
}

/** The send of `wire` to a server on `port()`, a connection per request. */
export function sendFor(wire: Exclude<Wire, 'cgi'>, port: () => number): Front['send'] {
  return wireClient(wire, port).send;
}
