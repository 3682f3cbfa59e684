/**
 * Runs the conformance table (table.ts) against one front. A front says how to send a request (plain HTTP
 * over a socket, to itself or to the web server in front of it) and where it mounts `conformanceApp`:
 *
 *     describe('my front', () => {
 *       let port = 0;
 *       before(async () => { port = await startMyFront(conformanceApp); });
 *       after(() => stopMyFront());
 *       runConformance('conformance', { name: 'my front', mount: '/app', send: httpSend(() => ({ port })) });
 *     });
 */
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { generateBody } from '../support/bodies.js';
import { sendRequest, type Target } from '../support/http-client.js';
import { conformanceTable, type Capabilities, type CaseRequest, type Check, type ConformanceCase, type Expected, type FrontContext } from './table.js';

/** A request as the runner hands it to a front: the full raw target (mount included). */
export interface FrontRequest extends CaseRequest {}

/** A response as a front hands it back. Header names lower-case; repeats joined with ', ' (set-cookie: '\n'). */
export interface FrontResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** A front under test. */
export interface Front {
  name: string;
  /** SCRIPT_NAME the front mounts the app at: '' or '/app'. */
  mount: string;
  send(request: FrontRequest): Promise<FrontResponse>;
  /** caseName -> why this front cannot do it (shown as a pending test). */
  skips?: Record<string, string>;
  capabilities?: Capabilities;
  /**
   * Send up to this many rows at once (default 1: one after another). Safe where rows share no state on
   * the server (every row of the table is independent); each row is still checked in its own test.
   */
  concurrency?: number;
  /**
   * caseName -> environ expectations this front replaces in that row, and why (shown in the test title):
   * for what its protocol mandates (SCGI's CONTENT_LENGTH on every request), never to hide a bug.
   */
  adjust?: Record<string, { why: string; environ: Record<string, Expected> }>;
}

/** A `send` for fronts reachable over plain HTTP(S): the target may be computed late (after before()). */
export function httpSend(target: Target | (() => Target)): Front['send'] {
  return (req) => {
    const t = typeof target === 'function' ? target() : target;
    const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : generateBody(req.body);
    const headers = [...(req.headers ?? [])];
    if (body !== undefined && !Buffer.isBuffer(body) && !req.chunked && !Buffer.isBuffer(req.body)) {
      headers.push(['Content-Length', String(req.body!.size)]);
    }
    return sendRequest(t, { method: req.method, path: req.path, headers, body, chunked: req.chunked });
  };
}

function isCheck(x: unknown): x is Check {
  return typeof x === 'object' && x !== null && typeof (x as Check).test === 'function' && !(x instanceof RegExp);
}

/** Compare one value; returns a failure text or null. */
function mismatch(label: string, actual: unknown, expected: Expected, front: FrontContext): string | null {
  if (typeof expected === 'function') return mismatch(label, actual, expected(front), front);
  if (expected === null) return actual === undefined ? null : `${label}: expected absent, got ${JSON.stringify(actual)}`;
  if (expected instanceof RegExp) return typeof actual === 'string' && expected.test(actual) ? null : `${label}: expected ${expected}, got ${JSON.stringify(actual)}`;
  if (Array.isArray(expected)) return JSON.stringify(actual) === JSON.stringify(expected) ? null : `${label}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
  if (isCheck(expected)) return expected.test(actual) ? null : `${label}: expected ${expected.describe}, got ${JSON.stringify(actual)}`;
  return actual === expected ? null : `${label}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}

function short(buf: Buffer): string {
  const s = buf.subarray(0, 300).toString('utf8');
  return buf.length > 300 ? s + `... (${buf.length} bytes)` : s;
}

/** Check one response against a case; throws an assertion error listing every mismatch. */
export function checkCase(c: ConformanceCase, res: FrontResponse, front: FrontContext): void {
  const e = c.expect;
  const problems: string[] = [];
  if (res.status !== e.status) problems.push(`status: expected ${e.status}, got ${res.status} (body: ${short(res.body)})`);
  for (const [name, want] of Object.entries(e.headers ?? {})) {
    const p = mismatch(`header ${name}`, res.headers[name], want, front);
    if (p !== null) problems.push(p);
  }
  if (e.noBody && res.body.length > 0) problems.push(`expected no body, got ${res.body.length} bytes: ${short(res.body)}`);
  if (e.bodyExcludes !== undefined && res.body.toString('latin1').includes(e.bodyExcludes)) problems.push(`body must not contain ${JSON.stringify(e.bodyExcludes)}`);
  if (e.environ !== undefined || e.body !== undefined || e.afterJson !== undefined) {
    const nl = res.body.indexOf(10);
    let echo: { environ: Record<string, unknown>; body: { length: number; sha256: string } } | null = null;
    try {
      echo = JSON.parse(res.body.subarray(0, nl === -1 ? res.body.length : nl).toString('utf8'));
    } catch {
      problems.push(`the body is not echo-environ JSON: ${short(res.body)}`);
    }
    if (echo !== null) {
      for (const [key, want] of Object.entries(e.environ ?? {})) {
        const p = mismatch(`environ ${key}`, echo.environ[key], want, front);
        if (p !== null) problems.push(p);
      }
      if (e.body !== undefined && (echo.body.length !== e.body.length || echo.body.sha256 !== e.body.sha256)) {
        problems.push(`request body as the app read it: expected ${e.body.length} bytes sha256 ${e.body.sha256}, got ${echo.body.length} bytes sha256 ${echo.body.sha256}`);
      }
      if (e.afterJson !== undefined) {
        const rest = nl === -1 ? Buffer.alloc(0) : res.body.subarray(nl + 1);
        const sha = createHash('sha256').update(rest).digest('hex');
        if (rest.length !== e.afterJson.length || sha !== e.afterJson.sha256) problems.push(`streamed part: expected ${e.afterJson.length} bytes, got ${rest.length} (sha256 ${sha})`);
      }
    }
  }
  expect(problems, `${c.name}:\n  ` + problems.join('\n  ')).to.deep.equal([]);
}

/** Run `jobs` with at most `limit` at once; each result promise settles with its own job. */
function limited<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<T>[] {
  let next = 0;
  const settle: Array<{ resolve: (v: T) => void; reject: (e: unknown) => void }> = [];
  const results = jobs.map((_, i) => new Promise<T>((resolve, reject) => (settle[i] = { resolve, reject })));
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      await jobs[i]().then(settle[i].resolve, settle[i].reject);
    }
  };
  for (let i = 0; i < Math.min(limit, jobs.length); i++) void worker();
  for (const r of results) r.catch(() => {}); // checked by the row's own test
  return results;
}

/** Define one mocha test per table row for `front`. */
export function runConformance(describeName: string, front: Front): void {
  describe(describeName, function () {
    this.timeout(60_000);
    const ctx: FrontContext = { mount: front.mount };
    const send = (c: ConformanceCase): Promise<FrontResponse> => front.send({ ...c.request, path: front.mount + c.request.path });
    const runnable: ConformanceCase[] = [];
    for (const c of conformanceTable) {
      const skip = front.skips?.[c.name];
      if (c.mountOnly && front.mount === '') continue;
      if (skip !== undefined) {
        it.skip(`${c.name} [skipped on ${front.name}: ${skip}]`);
        continue;
      }
      if (c.needs !== undefined && front.capabilities?.[c.needs] !== true) {
        it.skip(`${c.name} [${front.name} lacks ${c.needs}]`);
        continue;
      }
      const adjusted = front.adjust?.[c.name];
      runnable.push(adjusted === undefined ? c : { ...c, name: `${c.name} [adjusted on ${front.name}: ${adjusted.why}]`, expect: { ...c.expect, environ: { ...c.expect.environ, ...adjusted.environ } } });
    }
    // Concurrent fronts send every row in before() (bounded) and each test awaits its own answer.
    let started: Map<ConformanceCase, Promise<FrontResponse>> | undefined;
    if ((front.concurrency ?? 1) > 1) {
      before(() => {
        const answers = limited(runnable.map((c) => () => send(c)), front.concurrency!);
        started = new Map(runnable.map((c, i) => [c, answers[i]]));
      });
    }
    for (const c of runnable) {
      it(c.name, async function () {
        // A retry (mocha's retries) sends the row again rather than re-reading the first answer.
        const retry = (this.test as unknown as { currentRetry(): number } | undefined)?.currentRetry() ?? 0;
        const res = await (retry === 0 ? (started?.get(c) ?? send(c)) : send(c));
        checkCase(c, res, ctx);
      });
    }
  });
}
