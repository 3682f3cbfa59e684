/**
 * The conformance matrix: fronts x concurrency modes, as data. Each cell is one wire protocol spoken to one
 * server; conformance-matrix.test.ts runs the whole table (table.ts) and the whole-environ comparison
 * (environ-diff.ts) on every cell. Servers are shared: one in-process server per front kind in single mode,
 * one CLI process per other mode (its auto listener answers all four wires).
 */
import { absentOr, type Capabilities, type Expected } from './table.js';
import type { ModeName } from './environ-diff.js';
import type { InProcessKind } from './servers.js';
import type { Wire } from './wires.js';

/** A group of cells sharing one server. */
export interface ServerGroup {
  /** Shown in the test titles. */
  name: string;
  mode: ModeName;
  /** In process (single mode) or the CLI with these mode lines in its config. */
  start: { inProcess: InProcessKind } | { cli: string[] } | { cgi: true };
  /** The wires spoken to this server. */
  wires: Wire[];
  /**
   * Keep connections open between rows where the wire can (wires.ts wireClient). forking starts a process
   * per connection: a fresh connection per row would start ~30 Node processes per wire.
   */
  reuseConnections?: boolean;
}

const AUTO_WIRES: Wire[] = ['http1', 'h2c', 'fastcgi', 'scgi'];

/** Every server of the matrix and the wires each is spoken to in. */
export const MATRIX: ServerGroup[] = [
  { name: 'HTTP/1.1 front, single (in process)', mode: 'single', start: { inProcess: 'http' }, wires: ['http1'] },
  { name: 'HTTP/2 h2c front, single (in process)', mode: 'single', start: { inProcess: 'http2' }, wires: ['h2c'] },
  { name: 'FastCGI front, single (in process)', mode: 'single', start: { inProcess: 'fastcgi' }, wires: ['fastcgi'] },
  { name: 'SCGI front, single (in process)', mode: 'single', start: { inProcess: 'scgi' }, wires: ['scgi'] },
  { name: 'protocol=auto front, single (in process)', mode: 'single', start: { inProcess: 'auto' }, wires: AUTO_WIRES },
  { name: 'CGI (examples/cgi/app.cgi), one process per request', mode: 'single', start: { cgi: true }, wires: ['cgi'] },
  { name: 'CLI protocol=auto, threading', mode: 'threading', start: { cli: ['threading = true'] }, wires: AUTO_WIRES },
  { name: 'CLI protocol=auto, threadPool = 2', mode: 'threadPool', start: { cli: ['threadPool = 2'] }, wires: AUTO_WIRES },
  { name: 'CLI protocol=auto, forking', mode: 'forking', start: { cli: ['forking = true', 'spareChildren = 2'] }, wires: AUTO_WIRES, reuseConnections: true },
  { name: 'CLI protocol=auto, processPool = 2', mode: 'processPool', start: { cli: ['processPool = 2'] }, wires: AUTO_WIRES },
];

/** Why a gateway wire skips a row: the test plays the web server, so the row tests the test. */
const PLAYED_BY_THE_TEST = "decided by the test's own web-server stand-in (wires.ts gatewayVars, as nginx), not by tsgi";

/** Rows a wire cannot run, with the reason (shown as pending tests). */
export const WIRE_SKIPS: Record<Wire, Record<string, string>> = {
  http1: {},
  h2c: {},
  fastcgi: {
    'a header name with _ is dropped: X_Custom_Id cannot shadow X-Custom-Id': PLAYED_BY_THE_TEST,
    'X_Forwarded_For alone never becomes HTTP_X_FORWARDED_FOR': PLAYED_BY_THE_TEST,
    'repeated request headers are joined with ", "': PLAYED_BY_THE_TEST,
  },
  scgi: {
    'NUL (%00) in the path is a 400': 'SCGI separates its variables with NUL bytes, so no web server can send one inside PATH_INFO (the stand-in tried: tsgi closes the connection of the malformed head, as it must)',
    'a header name with _ is dropped: X_Custom_Id cannot shadow X-Custom-Id': PLAYED_BY_THE_TEST,
    'X_Forwarded_For alone never becomes HTTP_X_FORWARDED_FOR': PLAYED_BY_THE_TEST,
    'repeated request headers are joined with ", "': PLAYED_BY_THE_TEST,
  },
  cgi: {
    'NUL (%00) in the path is a 400': 'a CGI environment (C strings) cannot carry NUL',
    'invalid UTF-8 (%C3 alone) in the path is a 400': 'Node passes environment values as UTF-8 strings, so the test cannot give the CGI program a lone 0xC3 byte',
    'a path sharing the mount prefix but not its segment is outside (404)': `routing to a CGI program is ${PLAYED_BY_THE_TEST}`,
    'a header name with _ is dropped: X_Custom_Id cannot shadow X-Custom-Id': PLAYED_BY_THE_TEST,
    'X_Forwarded_For alone never becomes HTTP_X_FORWARDED_FOR': PLAYED_BY_THE_TEST,
    'repeated request headers are joined with ", "': PLAYED_BY_THE_TEST,
  },
};

/** What each wire can carry. A web server de-chunks an upload before a gateway protocol sees it. */
export const WIRE_CAPABILITIES: Record<Wire, Capabilities> = {
  http1: { chunkedUpload: true },
  h2c: { chunkedUpload: true },
  fastcgi: { chunkedUpload: false },
  scgi: { chunkedUpload: false },
  cgi: { chunkedUpload: false },
};

/** Rows sent at once per cell: one CGI process per request is the heaviest (a Node start each). */
export const WIRE_CONCURRENCY: Record<Wire, number> = { http1: 4, h2c: 4, fastcgi: 4, scgi: 4, cgi: 2 };

/** Rows a wire runs with environ expectations its protocol changes (runner.ts `adjust`). */
export const WIRE_ADJUST: Partial<Record<Wire, Record<string, { why: string; environ: Record<string, Expected> }>>> = {
  scgi: {
    'GET / reaches the app with the CGI basics': {
      why: 'the SCGI protocol requires CONTENT_LENGTH first on every request, so it is "0" without a body',
      environ: { CONTENT_LENGTH: absentOr('0') },
    },
  },
};
