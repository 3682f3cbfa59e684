/**
 * Slow request heads on FastCGI (slowloris from a peer of the FastCGI port): a connection that begins a
 * request and then drips its FCGI_PARAMS a few bytes at a time is never idle, so the idle timeout alone
 * held it forever (bench:slowloris showed 300 such sockets held for the whole run). `headerTimeout` now
 * bounds the time from FCGI_BEGIN_REQUEST to the end of FCGI_PARAMS, as it bounds the HTTP and SCGI heads
 * (those are test/connection-manager.test.ts and the SCGI tests). In-process server, loopback.
 *
 * No timing is asserted: the drip goes on (bounded, 200 x 50 ms) until the server closes the connection,
 * which only the header deadline can do while bytes keep moving; with headerTimeout = 0 it stays open.
 */
import net from 'node:net';
import { expect } from 'chai';
import { app } from './fixtures/overload/app.js';
import { beginRecord, cgiParams, nameValues, record, ROLE, streamRecords, T } from './support/fcgi-client.js';
import { startFcgiHarness, type FcgiHarness } from './support/fcgi-harness.js';
import { lint } from '../app-api/lint.js';
import { defaultServerConfig } from '../gateway/config/options.js';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { autoFront } from '../gateway/fronts/auto.js';

/** Begin a request, announce 65,535 bytes of FCGI_PARAMS and drip 8 per 50 ms; resolve true if the server closed it. */
async function drip(port: number): Promise<boolean> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let closed = false;
  socket.on('close', () => (closed = true));
  socket.write(Buffer.concat([beginRecord(1, ROLE.RESPONDER, false), Buffer.from([1, T.PARAMS, 0, 1, 0xff, 0xff, 0, 0])]));
  for (let i = 0; i < 200 && !closed; i++) {
    await new Promise((r) => setTimeout(r, 50));
    if (!closed) socket.write(Buffer.from('AAAAAAAA'));
  }
  const byServer = closed;
  socket.destroy();
  return byServer;
}

/** One ordinary request: the STDOUT text. */
function served(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    socket.on('data', (c: Buffer) => got.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(got).toString('latin1')));
    socket.write(Buffer.concat([beginRecord(1, ROLE.RESPONDER, false), streamRecords(T.PARAMS, 1, nameValues(cgiParams('GET', '/who', { SCRIPT_NAME: '', PATH_INFO: '/who' }))), record(T.STDIN, 1)]));
  });
}

describe('FastCGI: a peer dripping FCGI_PARAMS is cut by headerTimeout', function () {
  this.timeout(60_000);
  let h: FcgiHarness | undefined;
  afterEach(async () => {
    await h?.server.close(1000);
    h = undefined;
  });

  it('headerTimeout = 0.3 s: the dripping connection is closed and logged; an ordinary request is served', async () => {
    h = await startFcgiHarness(app, { headerTimeout: 300, idleTimeout: 60_000 });
    expect(await drip(h.port), 'the server never closed the dripping connection').to.equal(true);
    expect(h.linesWith('headerTimeout')).to.have.length(1);
    expect(await served(h.port)).to.match(/Status: 200|Content-Type: text\/plain/);
  });

  it('headerTimeout = 0 (off): the same connection stays open while it drips (the control)', async () => {
    h = await startFcgiHarness(app, { headerTimeout: 0, idleTimeout: 60_000 });
    expect(await drip(h.port)).to.equal(false);
  });
});

describe('protocol = auto: the FastCGI side takes the listener\'s headerTimeout', function () {
  this.timeout(60_000);

  it('[server] headerTimeout = 0.3 on an auto listener: a FastCGI peer dripping FCGI_PARAMS is closed and logged', async () => {
    // The auto listener once built its FastCGI settings apart from protocol = fastcgi's and left headerTimeout
    // out, so such a peer was held until the adapter's 20 s default.
    const memory = new MemoryLog();
    const log = new ErrorLog(memory);
    const config = { ...defaultServerConfig(), socketPort: 0, headerTimeout: 0.3, idleTimeout: 60 };
    const front = await autoFront.start(new InlineDispatcher(lint(app), { log }), config, log);
    try {
      const port = Number(/:(\d+)$/.exec(front.url)?.[1]);
      expect(await drip(port), 'the auto listener never closed the dripping FastCGI connection').to.equal(true);
      expect(memory.lines.filter((l) => l.includes('headerTimeout'))).to.have.length(1);
      expect(await served(port)).to.match(/Status: 200|Content-Type: text\/plain/);
    } finally {
      await front.close(1000);
    }
  });
});

