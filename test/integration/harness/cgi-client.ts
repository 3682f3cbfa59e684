/**
 * Act as the web server of a CGI program: build the CGI environment of a request, run the program with
 * the body on stdin, and parse its CGI response (headers, `Status:`, blank line, body). Used to drive
 * `cgi-fcgi` (libfcgi's FastCGI client, itself a CGI program) and our own CGI entry directly.
 *
 * What a real web server decides (path decoding, which headers become HTTP_*) is decided here the way
 * nginx does it: the path is percent-decoded, header names with `_` are dropped, repeats are joined.
 */
import { spawn } from 'node:child_process';
import type { FrontRequest, FrontResponse } from '../../conformance/runner.js';
import { generateBody } from '../../support/bodies.js';

/** The CGI environment for `req`, mounted at `mount`. Throws for what a CGI environment cannot carry. */
export function cgiEnvironment(req: FrontRequest, mount: string, server: { port: number }): Record<string, string> {
  const q = req.path.indexOf('?');
  const rawPath = q === -1 ? req.path : req.path.slice(0, q);
  const path = decodeURIComponent(rawPath);
  if (!path.startsWith(mount)) throw new Error(`${path} is outside ${mount}`);
  const env: Record<string, string> = {
    GATEWAY_INTERFACE: 'CGI/1.1',
    REQUEST_METHOD: req.method,
    SCRIPT_NAME: mount,
    PATH_INFO: path.slice(mount.length),
    QUERY_STRING: q === -1 ? '' : req.path.slice(q + 1),
    REQUEST_URI: req.path,
    SERVER_NAME: 'localhost',
    SERVER_PORT: String(server.port),
    SERVER_PROTOCOL: 'HTTP/1.1',
    SERVER_SOFTWARE: 'tsgi-integration-cgi-client',
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: '40000',
    PATH: process.env.PATH ?? '/usr/bin:/bin',
  };
  const body = req.body;
  const length = body === undefined ? undefined : Buffer.isBuffer(body) ? body.length : body.size;
  if (length !== undefined && (length > 0 || req.method === 'POST' || req.method === 'PUT')) env.CONTENT_LENGTH = String(length);
  for (const [name, value] of req.headers ?? []) {
    const lower = name.toLowerCase();
    if (lower.includes('_')) continue;
    if (lower === 'content-type') env.CONTENT_TYPE = value;
    else if (lower === 'content-length' || lower === 'transfer-encoding') continue;
    else {
      const key = 'HTTP_' + lower.toUpperCase().replace(/-/g, '_');
      env[key] = env[key] === undefined ? value : `${env[key]}${key === 'HTTP_COOKIE' ? '; ' : ', '}${value}`;
    }
  }
  env.HTTP_HOST ??= `127.0.0.1:${server.port}`;
  return env;
}

/** Parse a CGI response: header lines up to the first empty line; `Status:` gives the status (default 200). */
export function parseCgiResponse(out: Buffer): FrontResponse {
  let end = out.indexOf('\r\n\r\n');
  let sep = 4;
  const lf = out.indexOf('\n\n');
  if (end === -1 || (lf !== -1 && lf < end)) {
    end = lf;
    sep = 2;
  }
  if (end === -1) throw new Error(`no end of CGI headers in ${JSON.stringify(out.subarray(0, 200).toString('latin1'))}`);
  const headers: Record<string, string> = {};
  let status = 200;
  for (const line of out.subarray(0, end).toString('latin1').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`bad CGI header line ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'status') {
      status = Number(value.split(' ')[0]);
      continue;
    }
    headers[name] = headers[name] === undefined ? value : headers[name] + (name === 'set-cookie' ? '\n' : ', ') + value;
  }
  return { status, headers, body: out.subarray(end + sep) };
}

/** Run `command` as a CGI program for `req`; resolves with its parsed response. Bounded by `timeoutMs`. */
export function runCgi(command: string, args: string[], env: Record<string, string>, req: FrontRequest, timeoutMs = 60_000): Promise<FrontResponse> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => {
      if (err.length < 16_384) err += c.toString('utf8');
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const all = Buffer.concat(out);
      try {
        resolve(parseCgiResponse(all));
      } catch (e) {
        reject(new Error(`${command} exited (code ${code}, signal ${signal}): ${(e as Error).message}\nstderr: ${err}`));
      }
    });
    // The program may exit before reading everything (an error answer): that is not our failure.
    child.stdin.on('error', () => {});
    void (async () => {
      const body = req.body;
      if (body !== undefined) {
        for (const chunk of Buffer.isBuffer(body) ? [body] : generateBody(body)) {
          if (!child.stdin.write(chunk)) await new Promise<void>((r) => {
            child.stdin.once('drain', r);
            child.stdin.once('close', r);
          });
          if (child.stdin.destroyed) break;
        }
      }
      child.stdin.end();
    })();
  });
}
