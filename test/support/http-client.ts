/**
 * A plain HTTP/1.1 client for tests: sends a request exactly as given (raw path with %-escapes, header names
 * as written, duplicates, underscores, a streamed or chunked body) over TCP, TLS or a unix socket, and
 * collects the whole response. One connection per request (agent: false) so no test depends on pooling.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { untilDrain } from '../../app-api/until-drain.js';

/** Where to send: a TCP port on loopback, or a unix socket. */
export interface Target {
  host?: string;
  port?: number;
  socketPath?: string;
  /** Local address to connect from (any 127.x.y.z is loopback: a second client address for tests). */
  localAddress?: string;
  /** Use TLS; `ca` is the PEM to trust (self-signed test certs). */
  tls?: boolean;
  ca?: Buffer | string;
  /** Send over this agent's connections (keep-alive) instead of a fresh connection per request. */
  agent?: http.Agent;
}

/** A request as the tests write it. */
export interface RawRequest {
  method: string;
  /** Raw request target, sent byte for byte (may hold %-escapes and a query). */
  path: string;
  /** Header pairs in order; a Host header is added when none is given. */
  headers?: Array<[string, string]>;
  /** The body: bytes, or a stream of chunks. */
  body?: Buffer | AsyncIterable<Buffer> | Iterable<Buffer>;
  /** Send the body with Transfer-Encoding: chunked instead of a Content-Length. */
  chunked?: boolean;
}

/** A whole response. */
export interface RawResponse {
  status: number;
  /** Lower-cased names; repeated headers joined with ', ' (set-cookie with '\n'). */
  headers: Record<string, string>;
  rawHeaders: string[];
  body: Buffer;
}

function hasHeader(headers: Array<[string, string]>, lower: string): boolean {
  return headers.some(([n]) => n.toLowerCase() === lower);
}

/** Send one request and resolve with the whole response; rejects on a socket error or after `timeoutMs`. */
export function sendRequest(target: Target, req: RawRequest, timeoutMs = 20_000): Promise<RawResponse> {
  const headers: Array<[string, string]> = [...(req.headers ?? [])];
  if (!hasHeader(headers, 'host')) headers.unshift(['Host', target.socketPath !== undefined ? 'localhost' : `127.0.0.1:${target.port}`]);
  const body = req.body;
  if (body !== undefined && !hasHeader(headers, 'content-length') && !hasHeader(headers, 'transfer-encoding')) {
    if (Buffer.isBuffer(body) && !req.chunked) headers.push(['Content-Length', String(body.length)]);
    else headers.push(['Transfer-Encoding', 'chunked']);
  }
  const flat = headers.flat();
  const mod = target.tls ? https : http;
  return new Promise((resolve, reject) => {
    const r = mod.request(
      {
        host: target.socketPath === undefined ? (target.host ?? '127.0.0.1') : undefined,
        port: target.port,
        socketPath: target.socketPath,
        localAddress: target.localAddress,
        method: req.method,
        path: req.path,
        headers: flat as unknown as http.OutgoingHttpHeaders,
        agent: target.agent ?? false,
        ca: target.ca,
        servername: target.tls ? 'localhost' : undefined,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('response aborted by the server')));
        res.on('end', () => {
          if (!res.complete) return reject(new Error('response ended before it was complete'));
          const out: Record<string, string> = {};
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            const name = res.rawHeaders[i].toLowerCase();
            const prev = out[name];
            out[name] = prev === undefined ? res.rawHeaders[i + 1] : prev + (name === 'set-cookie' ? '\n' : ', ') + res.rawHeaders[i + 1];
          }
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: out, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) });
        });
      },
    );
    const timer = setTimeout(() => {
      r.destroy(new Error(`no complete response within ${timeoutMs} ms`));
    }, timeoutMs);
    r.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    if (body === undefined) r.end();
    else if (Buffer.isBuffer(body)) r.end(body);
    else void pump(body, r).catch((err) => r.destroy(err));
  });
}

async function pump(body: AsyncIterable<Buffer> | Iterable<Buffer>, r: http.ClientRequest): Promise<void> {
  for await (const chunk of body) {
    if (r.destroyed) return;
    if (!r.write(chunk)) await untilDrain(r);
  }
  r.end();
}

/** GET `path`; the body parsed as JSON when the response says it is JSON, else `{}`. */
export async function getJson(target: Target, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await sendRequest(target, { method: 'GET', path });
  const type = res.headers['content-type'] ?? '';
  return { status: res.status, body: type.includes('json') ? (JSON.parse(res.body.toString()) as Record<string, unknown>) : {} };
}

/** Resolves true when something accepts a connection at `where`, false when it is refused or missing. */
export function accepts(where: { port: number; host?: string } | { path: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(where as net.NetConnectOpts);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
