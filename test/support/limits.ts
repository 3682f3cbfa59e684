/**
 * What the limits tests share: the app (reads the whole body, answers its length), the test limits, the
 * header sets at each boundary, and a raw HTTP/1.1 client that keeps one connection (so a test can show the
 * connection goes on serving after a refusal).
 */
import net from 'node:net';
import type { App } from '../../app-api/types.js';
import { lint } from '../../app-api/lint.js';

/** A body limit small enough to cross in a test. */
export const TEST_MAX_BODY = 1000;

/** Reads tsgi.input to its end and answers `length=N` (200). Wrapped in lint(). */
export const bodyLengthApp: App = lint(async (environ, startResponse) => {
  let length = 0;
  for (;;) {
    const chunk = await environ['tsgi.input'].read(64 * 1024);
    if (chunk.length === 0) break;
    length += chunk.length;
  }
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [`length=${length}`];
});

/** `count` header fields named X-F<i> (Host comes on top where the transport adds it). */
export function manyFields(count: number): [string, string][] {
  return Array.from({ length: count }, (_, i) => [`X-F${i}`, 'v'] as [string, string]);
}

/** A value for header `name` whose line (`name: value` CRLF) is exactly `lineBytes` long, as gunicorn counts it. */
export function valueForLine(name: string, lineBytes: number): string {
  return 'a'.repeat(lineBytes - name.length - 4);
}

/** A request target for `method target HTTP/1.1` of exactly `lineBytes`. */
export function targetForLine(method: string, lineBytes: number, protocol = 'HTTP/1.1'): string {
  return '/' + 'p'.repeat(lineBytes - method.length - protocol.length - 3);
}

/** One HTTP response as read off the wire. */
export interface RawHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A raw HTTP/1.1 client on one connection: send bytes, read one Content-Length-framed response. */
export class RawHttp {
  private buf = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  static connect(port: number): Promise<RawHttp> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawHttp(s)));
      s.once('error', reject);
    });
  }

  send(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  /** The next response (bounded wait: `waitMs`, default 20 s); rejects if the connection closes first. */
  async response(waitMs = 20_000): Promise<RawHttpResponse> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end !== -1) {
        const head = this.buf.subarray(0, end).toString('latin1').split('\r\n');
        const headers: Record<string, string> = {};
        for (const line of head.slice(1)) {
          const i = line.indexOf(':');
          headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
        }
        const length = Number(headers['content-length'] ?? 0);
        if (this.buf.length >= end + 4 + length) {
          const body = this.buf.subarray(end + 4, end + 4 + length).toString();
          this.buf = this.buf.subarray(end + 4 + length);
          return { status: Number(head[0].split(' ')[1]), headers, body };
        }
      }
      if (this.closed) throw new Error(`connection closed before a whole response (${this.buf.length} bytes read)`);
      if (Date.now() > deadline) throw new Error(`no whole response within ${waitMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 200).unref();
      });
    }
  }

  /** Resolves when the server closed the connection (bounded: rejects after `waitMs`). */
  async closedByServer(waitMs = 20_000): Promise<void> {
    const deadline = Date.now() + waitMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`the server did not close the connection within ${waitMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 200).unref();
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** An HTTP/1.1 request's bytes. */
export function httpRequest(method: string, target: string, headers: [string, string][] = [], body = ''): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: localhost', ...headers.map(([n, v]) => `${n}: ${v}`)];
  if (body !== '' && !headers.some(([n]) => /^(content-length|transfer-encoding)$/i.test(n))) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return lines.join('\r\n') + '\r\n\r\n' + body;
}
