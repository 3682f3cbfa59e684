/**
 * Property-based fuzz of the FastCGI front (fast-check): valid record streams, mutated (bytes flipped,
 * cut, records dropped, duplicated or injected, random garbage) and delivered in random pieces. Whatever
 * arrives, the server must not crash, every connection must end once the client stops sending, and a good
 * request afterwards must get a 200. Bounded for CI (300 runs, a few seconds); `npm run fuzz:fastcgi` runs many more
 * (FCGI_FUZZ_RUNS, default there 3000).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { App } from '../app-api/types.js';
import { app as echo } from '../examples/echo-environ/app.js';
import { beginRecord, cgiParams, FcgiClient, nameValues, record, ROLE, streamRecords, T } from './support/fcgi-client.js';
import { startFcgiHarness, type FcgiHarness } from './support/fcgi-harness.js';

const RUNS = Number(process.env.FCGI_FUZZ_RUNS ?? '300');

/** One well-formed request, as records (so mutations can work at record level too). */
const requestArb = fc
  .record({
    id: fc.integer({ min: 1, max: 4 }),
    role: fc.constantFrom<number>(ROLE.RESPONDER, ROLE.RESPONDER, ROLE.AUTHORIZER, ROLE.FILTER, 7),
    keepConn: fc.boolean(),
    method: fc.constantFrom('GET', 'POST', 'HEAD'),
    path: fc.constantFrom('/', '/a/b', '/x?y=1', '/caf\u00e9', '/%2F'),
    body: fc.uint8Array({ maxLength: 300 }),
    data: fc.uint8Array({ maxLength: 50 }),
    extra: fc.dictionary(fc.constantFrom('HTTP_X', 'HTTP_PROXY', 'PATH_INFO', 'CONTENT_LENGTH', 'HTTP_A_B'), fc.string({ maxLength: 20 }), { maxKeys: 3 }),
  })
  .map((r) => {
    const body = Buffer.from(r.body);
    const recs = [
      beginRecord(r.id, r.role, r.keepConn),
      ...splitRecords(streamRecords(T.PARAMS, r.id, nameValues(cgiParams(r.method, r.path, { CONTENT_LENGTH: String(body.length), ...r.extra })))),
      ...splitRecords(streamRecords(T.STDIN, r.id, body)),
    ];
    if (r.role === ROLE.FILTER) recs.push(...splitRecords(streamRecords(T.DATA, r.id, Buffer.from(r.data))));
    return recs;
  });

/** Split a concatenation of records back into single records. */
function splitRecords(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const total = 8 + bytes.readUInt16BE(pos + 4) + bytes[pos + 6];
    out.push(bytes.subarray(pos, pos + total));
    pos += total;
  }
  return out;
}

const randomRecordArb = fc
  .record({ type: fc.integer({ min: 0, max: 15 }), id: fc.integer({ min: 0, max: 5 }), content: fc.uint8Array({ maxLength: 40 }), padding: fc.integer({ min: 0, max: 8 }) })
  .map((r) => record(r.type, r.id, Buffer.from(r.content), r.padding));

type Mutation =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'drop'; at: number }
  | { kind: 'dup'; at: number }
  | { kind: 'inject'; at: number; rec: Buffer }
  | { kind: 'garbage'; at: number; bytes: Buffer }
  | { kind: 'abort'; at: number; id: number }
  | { kind: 'getValues'; at: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('dup' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('inject' as const), at: fc.nat(), rec: randomRecordArb }),
  fc.record({ kind: fc.constant('garbage' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 20 }).map((u) => Buffer.from(u)) }),
  fc.record({ kind: fc.constant('abort' as const), at: fc.nat(), id: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('getValues' as const), at: fc.nat() }),
);

function applyMutations(records: Buffer[], mutations: Mutation[]): Buffer {
  const recs = [...records];
  const byteMutations: Mutation[] = [];
  for (const m of mutations) {
    const i = recs.length === 0 ? 0 : m.at % (recs.length + 1);
    if (m.kind === 'drop' && recs.length > 0) recs.splice(i % recs.length, 1);
    else if (m.kind === 'dup' && recs.length > 0) recs.splice(i, 0, recs[i % recs.length]);
    else if (m.kind === 'inject') recs.splice(i, 0, m.rec);
    else if (m.kind === 'abort') recs.splice(i, 0, record(T.ABORT_REQUEST, m.id));
    else if (m.kind === 'getValues') recs.splice(i, 0, record(T.GET_VALUES, 0, nameValues([['FCGI_MPXS_CONNS', '']])));
    else byteMutations.push(m);
  }
  let bytes = Buffer.from(Buffer.concat(recs));
  for (const m of byteMutations) {
    if (bytes.length === 0) break;
    const at = m.at % bytes.length;
    if (m.kind === 'flip') bytes[at] = m.value;
    else if (m.kind === 'truncate') bytes = bytes.subarray(0, at);
    else if (m.kind === 'garbage') bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
  }
  return bytes;
}

/** Deliver `bytes` in pieces at the given cut points, then half-close; resolves when the server closed. */
async function deliver(h: FcgiHarness, bytes: Buffer, cuts: number[]): Promise<void> {
  const c = await FcgiClient.connect({ port: h.port });
  const points = [...new Set(cuts.map((x) => (bytes.length === 0 ? 0 : x % bytes.length)))].sort((a, b) => a - b);
  let from = 0;
  for (const p of [...points, bytes.length]) {
    if (p > from) await c.write(bytes.subarray(from, p));
    from = Math.max(from, p);
  }
  c.socket.end();
  await c.closed;
}

describe('FastCGI front: fuzz', function () {
  let h: FcgiHarness;
  const app: App = async (environ, startResponse) => {
    if (environ['tsgi.fcgi_role'] === 'FILTER') {
      await environ['tsgi.input'].read();
      await (environ['tsgi.fcgi_data'] as { read(): Promise<Buffer> }).read();
    }
    return echo(environ, startResponse);
  };
  before(async () => {
    h = await startFcgiHarness(app, { maxRequestsPerConnection: 3, maxParamsBytes: 4096 });
  });
  after(() => h.server.close(1000));

  it(`random and mutated record streams never crash the server; every connection ends; good requests still work (${RUNS} runs)`, async function () {
    this.timeout(Math.max(60_000, RUNS * 200));
    await fc.assert(
      fc.asyncProperty(
        fc.array(requestArb, { minLength: 1, maxLength: 3 }),
        fc.array(mutationArb, { maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        async (requests, mutations, cuts) => {
          const bytes = applyMutations(requests.flat(), mutations);
          await deliver(h, bytes, cuts);
        },
      ),
      { numRuns: RUNS },
    );
    const c = await FcgiClient.connect({ port: h.port });
    try {
      const r = await c.request({ params: cgiParams('GET', '/after-fuzz') });
      expect(r.status).to.equal(200);
    } finally {
      c.close();
    }
    // The server side of the last closed connections may still be closing: wait, bounded.
    for (let i = 0; i < 200 && h.server.connections > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(h.server.connections).to.equal(0);
    // Only the expected kinds of log lines: protocol errors, refused requests, app errors from cut bodies.
    const unexpected = h.memory.text.split('\n').filter((l) => /TypeError|RangeError|ReferenceError|Maximum call stack/.test(l));
    expect(unexpected).to.deep.equal([]);
  });
});
