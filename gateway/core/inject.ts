/**
 * `inject(app, request)`: call an app without a socket, for tests (like fastify.inject and Plack::Test).
 * The request goes through the same core as a real server: `cgiFromHttp` builds the CGI variables from the
 * method, URL and headers, `InlineDispatcher` builds the environ and runs the app, and the gateway frames
 * the response into an in-memory ResponseSink. So what inject() answers is what a client of the built-in
 * server would get: same status, same headers (Content-Length when the gateway computes one), same 500
 * for a broken app; only chunked transfer coding, which Node adds on the wire, is absent.
 */
import { cgiFromHttp, type HttpRequestHead } from './environ.js';
import { InlineDispatcher } from './dispatch.js';
import { ErrorLog, MemoryLog } from './log.js';
import type { ResponseSink } from './sink.js';
import { isTsgiError } from '../../app-api/errors.js';
import type { App, HeaderList } from '../../app-api/types.js';

/** A request for inject(). Every field is optional: the default is `GET /` with `Host: localhost`. */
export interface InjectRequest {
  /** Default `GET`. */
  method?: string;
  /** Origin-form `/path?query` (default `/`) or absolute `https://host.example/path`, which also sets Host and the scheme. */
  url?: string;
  /** Request headers, as an object (an array value repeats the header) or a list of pairs. */
  headers?: Record<string, string | readonly string[]> | ReadonlyArray<readonly [string, string]>;
  /** The body. Bytes and strings get a Content-Length; an async iterable is sent as a chunked body. */
  body?: string | Uint8Array | AsyncIterable<Uint8Array | string>;
  /** `http` (default) or `https`; an absolute `url` sets it too. */
  scheme?: 'http' | 'https';
  /** Default `1.1`. */
  httpVersion?: '1.0' | '1.1' | '2.0';
  /** Default `127.0.0.1`. */
  remoteAddress?: string;
  remotePort?: number;
  /** Mount point, as the server's `scriptName` option: becomes SCRIPT_NAME; paths outside it get 404. */
  scriptName?: string;
  /** `tsgi.app_config`. */
  appConfig?: Readonly<Record<string, string>>;
}

/** What inject() answers. */
export interface InjectResponse {
  status: number;
  statusText: string;
  /** Header names lower-cased; repeated headers joined with `, ` (see `headerList` for Set-Cookie). */
  headers: Record<string, string>;
  /** The headers exactly as the gateway handed them to the front. */
  headerList: HeaderList;
  body: Buffer;
  /** The body decoded as UTF-8. */
  text: string;
  /** The body parsed as JSON. */
  json<T = unknown>(): T;
  /** Everything the gateway logged and the app wrote to tsgi.errors during the request. */
  errors: string;
  /** True when the gateway aborted the response (an error after the headers went out): the body is truncated. */
  aborted: boolean;
}

/** An in-memory ResponseSink: records what the gateway core sends. */
class MemorySink implements ResponseSink {
  code = 0;
  reason = '';
  headers: HeaderList = [];
  readonly chunks: Buffer[] = [];
  ended = false;
  aborted = false;
  private started = false;

  get closed(): boolean {
    return this.aborted;
  }

  start(code: number, reason: string, headers: HeaderList): void {
    // These would be core bugs; fail loudly so the test that hits one sees it.
    if (this.started) throw new Error('inject: the gateway started the response twice');
    this.started = true;
    this.code = code;
    this.reason = reason;
    this.headers = headers.map(([n, v]) => [n, v]);
  }

  write(chunk: Buffer): void {
    if (!this.started || this.ended) throw new Error('inject: the gateway wrote body bytes outside a started, unfinished response');
    this.chunks.push(Buffer.from(chunk)); // a copy: the app may reuse its buffer
  }

  end(last?: Buffer): void {
    if (!this.started) throw new Error('inject: the gateway ended a response it never started');
    if (last !== undefined && last.length > 0) this.chunks.push(Buffer.from(last));
    this.ended = true;
  }

  abort(): void {
    this.aborted = true;
  }
}

function headerPairs(h: InjectRequest['headers']): Array<[string, string]> {
  if (h === undefined) return [];
  if (Array.isArray(h)) return (h as ReadonlyArray<readonly [string, string]>).map(([n, v]) => [n, v]);
  const out: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(h as Record<string, string | readonly string[]>)) {
    if (typeof value === 'string') out.push([name, value]);
    else for (const v of value) out.push([name, v]);
  }
  return out;
}

function has(pairs: Array<[string, string]>, lower: string): boolean {
  return pairs.some(([n]) => n.toLowerCase() === lower);
}

async function* once(buf: Buffer): AsyncGenerator<Buffer> {
  yield buf;
}

function response(sink: MemorySink, log: MemoryLog): InjectResponse {
  const body = Buffer.concat(sink.chunks);
  const headers: Record<string, string> = {};
  for (const [name, value] of sink.headers) {
    const key = name.toLowerCase();
    headers[key] = headers[key] === undefined ? value : headers[key] + ', ' + value;
  }
  return {
    status: sink.code,
    statusText: sink.reason,
    headers,
    headerList: sink.headers,
    body,
    text: body.toString('utf8'),
    json<T = unknown>(): T {
      return JSON.parse(body.toString('utf8')) as T;
    },
    errors: log.text,
    aborted: sink.aborted || !sink.ended,
  };
}

/**
 * Call `app` with a request built as the built-in server would build it, and resolve to the response.
 *
 *     const res = await inject(lint(app), { method: 'POST', url: '/items?x=1', body: '{"a":1}',
 *                                           headers: { 'content-type': 'application/json' } });
 *     expect(res.status).to.equal(201);
 *
 * Never rejects for what the app does: a failing app answers 500 (or is aborted) with the error in
 * `errors`, as over a socket. A request the server would refuse (bad %-escape, outside `scriptName`)
 * answers 400/404 without calling the app.
 */
export async function inject(app: App, request: InjectRequest | string = {}): Promise<InjectResponse> {
  const req: InjectRequest = typeof request === 'string' ? { url: request } : request;
  const url = req.url ?? '/';
  const absolute = /^(https?):\/\/([^/?#]*)/i.exec(url);
  const scheme = req.scheme ?? (absolute !== null ? (absolute[1].toLowerCase() as 'http' | 'https') : 'http');

  const pairs = headerPairs(req.headers);
  if (!has(pairs, 'host')) pairs.unshift(['Host', absolute !== null && absolute[2] !== '' ? absolute[2] : 'localhost']);
  let body: AsyncIterable<Buffer | Uint8Array> | null = null;
  if (req.body !== undefined) {
    if (typeof req.body === 'string' || req.body instanceof Uint8Array) {
      const buf = typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength);
      if (!has(pairs, 'content-length')) pairs.push(['Content-Length', String(buf.length)]);
      if (buf.length > 0) body = once(buf);
    } else {
      if (!has(pairs, 'content-length') && !has(pairs, 'transfer-encoding')) pairs.push(['Transfer-Encoding', 'chunked']);
      const src = req.body;
      body = (async function* () {
        for await (const chunk of src) yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      })();
    }
  }

  const head: HttpRequestHead = {
    method: req.method ?? 'GET',
    url,
    httpVersion: req.httpVersion ?? '1.1',
    rawHeaders: pairs.flat(),
    remoteAddress: req.remoteAddress ?? '127.0.0.1',
    remotePort: req.remotePort,
    localAddress: '127.0.0.1',
    localPort: scheme === 'https' ? 443 : 80,
    scheme,
  };
  const port = absolute !== null ? /:(\d+)$/.exec(absolute[2]) : null;
  if (port !== null) head.localPort = Number(port[1]);

  const memory = new MemoryLog();
  const log = new ErrorLog(memory);
  const sink = new MemorySink();
  let cgi;
  try {
    cgi = cgiFromHttp(head, { scriptName: req.scriptName });
  } catch (err) {
    // The built-in server answers these before the app; so does inject.
    if (!isTsgiError(err)) throw err;
    log.log('warn', `refused ${head.method} ${url.slice(0, 200)}`, err);
    const text = Buffer.from(err.status === 404 ? 'Not Found\n' : 'Bad Request\n');
    sink.start(err.status, err.status === 404 ? 'Not Found' : 'Bad Request', [
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Content-Length', String(text.length)],
    ]);
    sink.end(text);
    return response(sink, memory);
  }
  const dispatcher = new InlineDispatcher(app, { log, appConfig: req.appConfig });
  await dispatcher.dispatch({ cgi, body }, sink);
  return response(sink, memory);
}
