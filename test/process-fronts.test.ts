/**
 * processPool and forking for every front (FastCGI, SCGI, protocol=auto), through the real `tsgi` command:
 * pool workers accept on the inherited socket and run the front's connection handler; a forking child gets
 * one connection (FastCGI keep-conn: every request on it); SIGTERM lets the request in flight finish.
 * (protocol = http is covered by process-pool.test.ts and process-forking.test.ts.)
 */
import { expect } from 'chai';
import { alive, CliServer, fcgiKeepConn, requestVia, waitFor, type Answer, type Speak } from './fixtures/process/harness.js';
import { cgiParams, FcgiClient } from './support/fcgi-client.js';

const PROTOCOLS: Array<{ protocol: 'fastcgi' | 'scgi' | 'auto'; speak: Speak[] }> = [
  { protocol: 'fastcgi', speak: ['fastcgi'] },
  { protocol: 'scgi', speak: ['scgi'] },
  // One listener, every protocol: each is sniffed by whichever worker accepts the connection.
  { protocol: 'auto', speak: ['http', 'scgi', 'fastcgi'] },
];

/** SIGTERM with a slow request in flight (spoken in `speak`): it completes, the server exits 0, workers end. */
async function sigtermDrains(server: CliServer, speak: Speak): Promise<void> {
  const slow = server.get('/slow?ms=1500', speak);
  await waitFor('the slow request to start', () => server.events().some((e) => e.what === 'request-begin'));
  const worker = server.events().find((e) => e.what === 'request-begin')!.pid;
  server.signal('SIGTERM');
  expect((await slow).pid).to.equal(worker);
  expect(await server.exited).to.deep.equal({ code: 0, signal: null });
  expect(server.eventsOf(worker)).to.include.members(['graceful signal', 'stop signal', 'exit signal']);
  for (const pid of new Set(server.events().map((e) => e.pid))) expect(alive(pid)).to.equal(false, `worker ${pid} exited`);
}

for (const { protocol, speak } of PROTOCOLS) {
  describe(`processPool = 2, protocol = ${protocol} (tsgi command)`, function () {
    this.timeout(60_000);
    let server: CliServer;
    before(async () => {
      server = await CliServer.start({ processPool: 2, protocol, gracefulTimeout: 20 });
    });
    after(() => server?.close());

    for (const how of speak) {
      it(`answers ${how} requests from 2 worker processes`, async () => {
        const pids = new Set<number>();
        // Each request keeps its worker busy, so concurrent requests must be taken by the other one.
        for (let round = 0; round < 5 && pids.size < 2; round++) {
          const answers = await Promise.all(Array.from({ length: 4 }, () => server.get('/hold?ms=150', how)));
          for (const a of answers) {
            expect(a.multiprocess).to.equal(true);
            pids.add(a.pid);
          }
        }
        expect(pids.size).to.equal(2);
        expect(pids.has(server.pid)).to.equal(false, 'the primary serves no requests');
      });
    }

    it('SIGTERM during a slow request: the request completes and the server exits 0', async () => {
      await sigtermDrains(server, speak[speak.length - 1]);
    });
  });

  describe(`forking = 1, protocol = ${protocol} (tsgi command)`, function () {
    this.timeout(60_000);
    let server: CliServer;
    before(async () => {
      server = await CliServer.start({ forking: 1, protocol, gracefulTimeout: 20 });
    });
    after(() => server?.close());

    for (const how of speak) {
      it(`serves each ${how} connection from a fresh process that exits afterwards`, async () => {
        const seen: number[] = [];
        for (let i = 0; i < 3; i++) {
          const a = await server.get('/', how);
          expect(a.multiprocess).to.equal(true);
          expect(a.pid).to.not.equal(server.pid);
          expect(seen).to.not.include(a.pid);
          seen.push(a.pid);
          await waitFor(`child ${a.pid} to exit after its connection closed`, () => !alive(a.pid));
        }
      });
    }

    if (speak.includes('fastcgi')) {
      it('FastCGI keep-conn: one child serves every request of its connection and exits when it closes', async () => {
        const conn = await fcgiKeepConn(server.port);
        const answers: Answer[] = [];
        try {
          for (let i = 0; i < 3; i++) answers.push(await conn.get('/'));
          expect(new Set(answers.map((a) => a.pid)).size).to.equal(1);
          expect(alive(answers[0].pid)).to.equal(true, 'the child lives as long as its connection');
        } finally {
          conn.close();
        }
        await waitFor(`child ${answers[0].pid} to exit after its connection closed`, () => !alive(answers[0].pid));
        const next = await server.get('/', 'fastcgi');
        expect(next.pid).to.not.equal(answers[0].pid);
      });
    }

    it('SIGTERM during a slow request: the request completes and the server exits 0', async () => {
      await sigtermDrains(server, speak[0]);
    });
  });
}

describe('forking at maxChildren, protocol = scgi (tsgi command)', function () {
  this.timeout(60_000);
  let server: CliServer;
  before(async () => {
    server = await CliServer.start({ forking: 1, protocol: 'scgi', maxChildren: 1, spareChildren: 1 });
  });
  after(() => server?.close());

  it('answers an SCGI 503 with Retry-After while the only child is busy', async () => {
    const busy = server.get('/slow?ms=1500', 'scgi');
    await waitFor('the slow request to start', () => server.events().some((e) => e.what === 'request-begin'));
    const res = await requestVia('scgi', server.port, '/');
    expect(res.status).to.equal(503);
    expect(res.body.toString()).to.match(/every worker process is busy/);
    expect((await busy).version).to.equal('v0');
  });
});

describe('forking at maxChildren, protocol = fastcgi (tsgi command)', function () {
  this.timeout(60_000);
  let server: CliServer;
  before(async () => {
    server = await CliServer.start({ forking: 1, protocol: 'fastcgi', maxChildren: 1, spareChildren: 1 });
  });
  after(() => server?.close());

  it('answers a FastCGI 503 with Retry-After for the request id it was sent while the only child is busy, and closes a connection that does not begin with FCGI_BEGIN_REQUEST', async () => {
    const busy = server.get('/slow?ms=2500', 'fastcgi');
    await waitFor('the slow request to start', () => server.events().some((e) => e.what === 'request-begin'));
    // Not id 1: the reply must name the id of the FCGI_BEGIN_REQUEST it answers.
    const client = await FcgiClient.connect({ port: server.port });
    const res = await client.request({ id: 7, params: cgiParams('GET', '/') });
    expect(res.status).to.equal(503);
    expect(res.headers.find(([name]) => name.toLowerCase() === 'retry-after')?.[1]).to.equal('1');
    expect(res.body.toString()).to.match(/every worker process is busy/);
    expect([res.appStatus, res.protocolStatus], 'FCGI_END_REQUEST: app status 0, FCGI_REQUEST_COMPLETE').to.deep.equal([0, 0]);
    await client.closed;
    // Bytes that are not FastCGI: nothing to answer, the connection is closed as before.
    const stranger = await FcgiClient.connect({ port: server.port });
    await stranger.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await stranger.closed;
    expect(stranger.received).to.deep.equal([]);
    expect((await busy).version).to.equal('v0');
  });
});
