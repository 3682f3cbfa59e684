/**
 * Property-based fuzz of the SCGI front (fast-check). Bounded to a few seconds by default; for a long run:
 *
 *     npm run fuzz:scgi                      # FUZZ_RUNS=20000, FUZZ_TIME_MS=120000
 *     FUZZ_RUNS=100000 FUZZ_TIME_MS=600000 npm run fuzz:scgi
 *
 * Properties:
 * - the head parser never throws anything but TSGI_ERR_PROTOCOL, whatever the bytes, and its answer does
 *   not depend on how the bytes were split into chunks;
 * - any header set the protocol allows survives encode -> parse unchanged, with the body bytes left over;
 * - over a socket, a mutated request gets a well-formed response or a closed connection with a
 *   TSGI_ERR_PROTOCOL log line, never anything else, and the server serves the next request.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { isTsgiError } from '../app-api/errors.js';
import type { App } from '../app-api/types.js';
import { encodeScgiHead, ScgiHeadParser } from '../adapters/scgi/parse.js';
import { nginxVars, scgiRequest, sendRaw } from './support/scgi-client.js';
import { startScgiHarness, type ScgiHarness } from './support/scgi-harness.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? '0') || undefined;
const TIME_MS = Number(process.env.FUZZ_TIME_MS ?? '0') || undefined;
/** Per-property budget: about 5 s in all by default. */
function budget(defaultRuns: number, defaultMs: number): fc.Parameters<unknown> {
  return { numRuns: RUNS ?? defaultRuns, interruptAfterTimeLimit: TIME_MS ?? defaultMs, markInterruptAsFailure: false };
}

type Outcome = { kind: 'head'; headers: Record<string, string>; consumed: number; rest: string } | { kind: 'incomplete' } | { kind: 'error'; message: string };

/** Feed `bytes` in chunks cut at `cuts`; report what the parser made of it. Any non-protocol throw escapes. */
function parseIn(bytes: Uint8Array, cuts: number[]): Outcome {
  const parser = new ScgiHeadParser(4096);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let prev = 0;
  const pieces: Buffer[] = [];
  for (const p of [...points, bytes.length]) {
    pieces.push(Buffer.from(bytes.subarray(prev, p)));
    prev = p;
  }
  let restParts: Buffer[] = [];
  let head: Outcome | null = null;
  for (const piece of pieces) {
    if (head !== null) {
      restParts.push(piece);
      continue;
    }
    try {
      const r = parser.push(piece);
      if (r !== null) {
        head = { kind: 'head', headers: { ...r.head.headers }, consumed: r.head.consumed, rest: '' };
        restParts = [r.rest];
      }
    } catch (err) {
      if (!isTsgiError(err, 'TSGI_ERR_PROTOCOL')) throw err;
      return { kind: 'error', message: err.message };
    }
  }
  if (head === null) return { kind: 'incomplete' };
  if (head.kind === 'head') head.rest = Buffer.concat(restParts).toString('latin1');
  return head;
}

// Latin-1 text without NUL: what a name or value may hold.
const nonNul = fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c));
const name = fc.string({ unit: nonNul, minLength: 1, maxLength: 24 }).filter((n) => n !== 'CONTENT_LENGTH' && n !== 'SCGI' && n !== '__proto__');
const value = fc.string({ unit: nonNul, maxLength: 40 });

describe('SCGI fuzz: head parser', function () {
  this.timeout(Math.max(30_000, (TIME_MS ?? 0) * 4));

  it('random bytes: only TSGI_ERR_PROTOCOL, and the same answer however the bytes are split', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      // Mostly-valid prefixes reach the deeper states.
      fc.tuple(fc.integer({ min: 1, max: 120 }), fc.uint8Array({ maxLength: 150 })).map(([n, tail]) => new Uint8Array([...Buffer.from(`${n}:`), ...tail])),
    );
    fc.assert(
      fc.property(bytes, fc.array(fc.nat(), { maxLength: 8 }), (b, cuts) => {
        expect(parseIn(b, cuts)).to.deep.equal(parseIn(b, []));
      }),
      budget(2000, 1500),
    );
  });

  it('valid heads: headers survive encode -> parse, and the body bytes are left over', () => {
    const headers = fc.uniqueArray(fc.tuple(name, value), { selector: ([n]) => n, maxLength: 12 });
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000 }), headers, fc.uint8Array({ maxLength: 64 }), fc.array(fc.nat(), { maxLength: 6 }), (length, hs, body, cuts) => {
        const head = encodeScgiHead(length, hs);
        const all = Buffer.concat([head, Buffer.from(body)]);
        const out = parseIn(all, cuts);
        expect(out).to.deep.equal({
          kind: 'head',
          headers: Object.fromEntries([['CONTENT_LENGTH', String(length)], ['SCGI', '1'], ...hs]),
          consumed: head.length,
          rest: Buffer.from(body).toString('latin1'),
        });
      }),
      budget(1000, 1000),
    );
  });
});

describe('SCGI fuzz: server', function () {
  this.timeout(Math.max(30_000, (TIME_MS ?? 0) * 4));
  let h: ScgiHarness;
  const app: App = async (environ, startResponse) => {
    const body = await environ['tsgi.input'].read();
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [`${environ.REQUEST_METHOD} ${body.length}\n`];
  };
  before(async () => {
    h = await startScgiHarness(app, { headerTimeout: 2000, lingerTimeout: 200 });
  });
  after(() => h.server.close(1000));

  it('mutated requests: a well-formed response or a logged close, and the next request is served', async () => {
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
      fc.record({ op: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
      fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
    );
    const base = Buffer.concat([encodeScgiHead(5, nginxVars('POST', '/fuzz?a=b')), Buffer.from('hello')]);
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (muts) => {
        let bytes = Buffer.from(base);
        for (const m of muts) {
          const at = m.at % (bytes.length + 1);
          if (m.op === 'flip' && at < bytes.length) bytes[at] = m.byte;
          else if (m.op === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(m.bytes), bytes.subarray(at)]);
          else if (m.op === 'delete') bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.n)]);
          else if (m.op === 'truncate') bytes = bytes.subarray(0, at);
        }
        h.memory.lines.length = 0;
        const raw = await sendRaw(h.port, bytes, { halfClose: true });
        if (raw.data.length > 0) {
          // Served: the mutation kept the request valid (a changed value), or made a 400/404/500.
          expect(raw.data.toString('latin1')).to.match(/^Status: [1-5]\d\d[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n/);
        } else if (bytes.length > 0) {
          expect(h.memory.text, `closed silently on ${JSON.stringify(bytes.toString('latin1'))}`).to.match(/TSGI_ERR_PROTOCOL|TSGI_ERR_INPUT_CLOSED/);
        }
        const next = await scgiRequest(h.port, { vars: nginxVars('POST', '/'), body: Buffer.from('ok') });
        expect(next.status).to.equal(200);
        expect(next.body.toString()).to.equal('POST 2\n');
      }),
      budget(600, 2000),
    );
  });
});
