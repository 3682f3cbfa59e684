/**
 * The WHOLE environ compared between fronts, not chosen keys. One request (ENVIRON_REQUEST) is sent to
 * the reference (built-in HTTP/1.1, single mode, in process) and to every cell of the matrix; echo-environ
 * answers with every serialisable key (plainEnviron: streams and functions left out). Every key must be
 * equal to the reference's, except the differences listed here per wire and per mode, each with what the
 * value must be instead. Any other difference fails, named; so does a listed one that is no difference.
 *
 * The port of the server is replaced by `<port>` in every value before comparing (servers listen on
 * different free ports; SERVER_PORT and HTTP_HOST carry it).
 */
import type { Expected } from './table.js';
import { FAKE_WEB_SERVER, type Wire } from './wires.js';
import type { FrontRequest } from './runner.js';

/** The request every cell answers for the comparison (path relative to the mount). */
export const ENVIRON_REQUEST: FrontRequest = {
  method: 'POST',
  path: '/env/caf%C3%A9?a=1&b=%20',
  headers: [
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['X-Test', 'yes'],
    ['Accept', '*/*'],
    ['User-Agent', 'tsgi-conformance'],
    ['Cookie', 'a=1'],
  ],
  body: Buffer.from('hello environ'),
};

/** A concurrency mode as the environ shows it. */
export type ModeName = 'single' | 'threading' | 'threadPool' | 'forking' | 'processPool';

const digits = /^\d+$/;

/** What a wire changes in the environ (vs HTTP/1.1 at the reference), and why. */
export const WIRE_DIFFERENCES: Record<Wire, Record<string, Expected>> = {
  http1: {
    // The client's ephemeral port: different on every connection.
    REMOTE_PORT: digits,
  },
  h2c: {
    REMOTE_PORT: digits,
    // RFC 9113 names the version "HTTP/2" (no minor version).
    SERVER_PROTOCOL: 'HTTP/2',
    // Connection is hop-by-hop: the reference's HTTP/1.1 client sends `Connection: close`; HTTP/2 has none.
    HTTP_CONNECTION: null,
  },
  fastcgi: {
    // The web server's own CGI variables, passed through as it sent them.
    SERVER_SOFTWARE: FAKE_WEB_SERVER.software,
    SERVER_ADDR: '127.0.0.1',
    REMOTE_PORT: FAKE_WEB_SERVER.remotePort,
    // Hop-by-hop: a web server does not pass the client's Connection header on.
    HTTP_CONNECTION: null,
  },
  scgi: {
    SERVER_SOFTWARE: FAKE_WEB_SERVER.software,
    SERVER_ADDR: '127.0.0.1',
    REMOTE_PORT: FAKE_WEB_SERVER.remotePort,
    // SCGI's own marker variable (protocol.txt: every request carries SCGI=1).
    SCGI: '1',
    HTTP_CONNECTION: null,
  },
  cgi: {
    SERVER_SOFTWARE: FAKE_WEB_SERVER.software,
    REMOTE_PORT: FAKE_WEB_SERVER.remotePort,
    HTTP_CONNECTION: null,
  },
};

/** What a concurrency mode changes in the environ (vs single mode at the reference), and why. */
export const MODE_DIFFERENCES: Record<ModeName, Record<string, Expected>> = {
  single: {},
  threading: { 'tsgi.multithread': true },
  threadPool: { 'tsgi.multithread': true },
  forking: { 'tsgi.multiprocess': true },
  processPool: { 'tsgi.multiprocess': true },
};

/** Extra differences of one cell (a wire in a mode), beyond its wire's and its mode's. */
export const CELL_DIFFERENCES: Partial<Record<`${Wire}/${ModeName}`, Record<string, Expected>>> = {
  // A CGI process serves one request and exits (PEP 3333 for CGI: wsgi.run_once and wsgi.multiprocess true).
  'cgi/single': { 'tsgi.run_once': true, 'tsgi.multiprocess': true },
};


function normalise(v: unknown, port: number): unknown {
  if (typeof v === 'string') return v.split(String(port)).join('<port>');
  return v;
}

function matches(actual: unknown, expected: Expected): boolean {
  if (typeof expected === 'function') return false;
  if (expected === null) return actual === undefined;
  if (expected instanceof RegExp) return typeof actual === 'string' && expected.test(actual);
  if (Array.isArray(expected)) return JSON.stringify(actual) === JSON.stringify(expected);
  if (typeof expected === 'object') return (expected as { test(v: unknown): boolean }).test(actual);
  return actual === expected;
}

function show(v: unknown): string {
  return v === undefined ? '(absent)' : JSON.stringify(v);
}

/**
 * Every key where `got` differs from `reference` and the difference is not listed for the cell, and every
 * listed key whose value is not what the list says. Empty when the environs agree.
 */
export function environDifferences(
  reference: { environ: Record<string, unknown>; port: number },
  got: { environ: Record<string, unknown>; port: number },
  cell: { wire: Wire; mode: ModeName },
): string[] {
  const listed: Record<string, Expected> = { ...WIRE_DIFFERENCES[cell.wire], ...MODE_DIFFERENCES[cell.mode], ...CELL_DIFFERENCES[`${cell.wire}/${cell.mode}`] };
  const problems: string[] = [];
  const keys = new Set([...Object.keys(reference.environ), ...Object.keys(got.environ), ...Object.keys(listed)]);
  for (const key of [...keys].sort()) {
    const want = normalise(reference.environ[key], reference.port);
    const have = normalise(got.environ[key], got.port);
    if (key in listed) {
      if (JSON.stringify(want) === JSON.stringify(have)) problems.push(`${key}: listed as a difference for ${cell.wire}/${cell.mode} but equals the reference (${show(have)}): take it off the list`);
      else if (!matches(have, listed[key])) problems.push(`${key}: listed as ${String(listed[key] instanceof RegExp ? listed[key] : JSON.stringify(listed[key]))} for ${cell.wire}/${cell.mode}, got ${show(have)}`);
      continue;
    }
    if (JSON.stringify(want) !== JSON.stringify(have)) problems.push(`${key}: reference ${show(want)}, got ${show(have)} (unlisted difference)`);
  }
  return problems;
}
