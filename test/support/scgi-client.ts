/**
 * A small SCGI client for tests: sends one request the way nginx's scgi_pass does (netstring head,
 * CONTENT_LENGTH first, SCGI=1, then the body) and reads the CGI-style response until the server closes.
 * `sendRaw` sends arbitrary bytes, for the malformed-request tests.
 */
import net from 'node:net';
import { encodeScgiHead } from '../../adapters/scgi/parse.js';

/** Where the server listens: a TCP port on 127.0.0.1, or a unix socket path. */
export type ScgiTarget = number | string | { port: number; host?: string };

function connect(target: ScgiTarget): net.Socket {
  if (typeof target === 'number') return net.connect({ port: target, host: '127.0.0.1' });
  if (typeof target === 'string') return net.connect({ path: target });
  return net.connect({ port: target.port, host: target.host ?? '127.0.0.1' });
}

/** What came back on one connection. */
export interface RawResult {
  /** Every byte the server sent. */
  data: Buffer;
  /** True when the connection ended with a reset or error instead of a clean close. */
  reset: boolean;
}

/**
 * Write `bytes` (or each chunk of an async iterable, with backpressure), then read until the server closes.
 * `halfClose` shuts down our sending side after the last byte, as some web servers do.
 */
export function sendRaw(target: ScgiTarget, bytes: Buffer | AsyncIterable<Buffer>, opts: { halfClose?: boolean; timeoutMs?: number } = {}): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const socket = connect(target);
    const got: Buffer[] = [];
    let reset = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`SCGI test client: no close from the server within ${opts.timeoutMs ?? 20_000} ms`));
    }, opts.timeoutMs ?? 20_000);
    socket.on('data', (c: Buffer) => got.push(c));
    socket.on('error', () => {
      reset = true;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(got), reset });
    });
    socket.on('connect', () => {
      void (async () => {
        try {
          if (Buffer.isBuffer(bytes)) socket.write(bytes);
          else {
            for await (const chunk of bytes) {
              if (socket.destroyed) return;
              if (!socket.write(chunk)) await new Promise<void>((r) => { socket.once('drain', r); socket.once('close', r); });
            }
          }
          if (opts.halfClose) socket.end();
        } catch {
          socket.destroy();
        }
      })();
    });
  });
}

/** A parsed CGI-style response. */
export interface ScgiResponse {
  status: number;
  reason: string;
  /** Header lines in order, names as sent. */
  headers: [string, string][];
  body: Buffer;
  reset: boolean;
}

/** First value of a header, case-insensitive. */
export function header(res: ScgiResponse, name: string): string | undefined {
  const lower = name.toLowerCase();
  return res.headers.find(([n]) => n.toLowerCase() === lower)?.[1];
}

/** Parse `Status: NNN Reason\r\nName: value\r\n\r\nbody`. Throws when the bytes are not such a response. */
export function parseResponse(raw: RawResult): ScgiResponse {
  const end = raw.data.indexOf('\r\n\r\n');
  if (end === -1) throw new Error(`not a CGI response (no blank line): ${JSON.stringify(raw.data.toString('latin1').slice(0, 200))}`);
  const lines = raw.data.toString('latin1', 0, end).split('\r\n');
  const headers: [string, string][] = lines.map((l) => {
    const i = l.indexOf(':');
    return [l.slice(0, i), l.slice(i + 1).trim()];
  });
  const statusLine = headers.find(([n]) => n.toLowerCase() === 'status');
  if (statusLine === undefined) throw new Error('no Status header in the response');
  const m = /^(\d{3}) ?(.*)$/.exec(statusLine[1]);
  if (m === null) throw new Error(`bad Status header ${statusLine[1]}`);
  return { status: Number(m[1]), reason: m[2], headers: headers.filter((h) => h !== statusLine), body: raw.data.subarray(end + 4), reset: raw.reset };
}

/** One request: CGI variables (CONTENT_LENGTH and SCGI are added) and a body. */
export interface ScgiRequest {
  vars?: Record<string, string>;
  body?: Buffer | { length: number; chunks: AsyncIterable<Buffer> };
  halfClose?: boolean;
  timeoutMs?: number;
}

/** The CGI variables nginx sends for `GET /` by default (uwsgi_params / scgi_params). */
export function nginxVars(method: string, uri: string, extra: Record<string, string> = {}): Record<string, string> {
  const q = uri.indexOf('?');
  return {
    REQUEST_METHOD: method,
    REQUEST_URI: uri,
    QUERY_STRING: q === -1 ? '' : uri.slice(q + 1),
    SCRIPT_NAME: '',
    PATH_INFO: decodeURIComponent(q === -1 ? uri : uri.slice(0, q)),
    SERVER_PROTOCOL: 'HTTP/1.1',
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: '50000',
    HTTP_HOST: 'localhost',
    ...extra,
  };
}

/** Send one SCGI request and parse the response. */
export async function scgiRequest(target: ScgiTarget, req: ScgiRequest = {}): Promise<ScgiResponse> {
  const body = req.body;
  const length = body === undefined ? 0 : Buffer.isBuffer(body) ? body.length : body.length;
  const vars = { ...(req.vars ?? nginxVars('GET', '/')) };
  if (length > 0 && vars.CONTENT_TYPE === undefined) vars.CONTENT_TYPE = 'application/octet-stream';
  const head = encodeScgiHead(length, vars);
  let bytes: Buffer | AsyncIterable<Buffer>;
  if (body === undefined) bytes = head;
  else if (Buffer.isBuffer(body)) bytes = Buffer.concat([head, body]);
  else {
    bytes = (async function* () {
      yield head;
      yield* body.chunks;
    })();
  }
  return parseResponse(await sendRaw(target, bytes, { halfClose: req.halfClose, timeoutMs: req.timeoutMs }));
}
