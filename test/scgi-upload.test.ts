/**
 * A 100 MB SCGI upload is streamed, not held: while the app does not read, the server stops reading the
 * socket, so the web server's writes block after a few MB of kernel buffers; once the app reads again the
 * whole body arrives intact (sha256).
 */
import net from 'node:net';
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import type { App } from '../app-api/types.js';
import { encodeScgiHead } from '../adapters/scgi/parse.js';
import { digestOf, generateBody } from './support/bodies.js';
import { nginxVars, parseResponse } from './support/scgi-client.js';
import { startScgiHarness, type ScgiHarness } from './support/scgi-harness.js';

const SIZE = 100 * 1024 * 1024;
const SEED = 7;

describe('SCGI front: 100 MB upload', function () {
  this.timeout(120_000);
  let h: ScgiHarness;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let parked!: () => void;
  const appParked = new Promise<void>((r) => (parked = r));

  // Reads 1 MiB, waits for the test, then hashes the rest.
  const app: App = async (environ, startResponse) => {
    const input = environ['tsgi.input'];
    const hash = createHash('sha256');
    let length = 0;
    const first = await input.read(1024 * 1024);
    hash.update(first);
    length += first.length;
    parked();
    await gate;
    for await (const chunk of input) {
      hash.update(chunk);
      length += chunk.length;
    }
    startResponse('200 OK', [['Content-Type', 'application/json']]);
    return [JSON.stringify({ length, sha256: hash.digest('hex') })];
  };

  before(async () => {
    h = await startScgiHarness(app);
  });
  after(() => h.server.close(1000));

  it('pushes back while the app does not read, then delivers every byte', async () => {
    let serverSide: net.Socket | undefined;
    h.server.server.once('connection', (s: net.Socket) => (serverSide = s));
    const socket = net.connect({ port: h.port, host: '127.0.0.1' });
    const got: Buffer[] = [];
    socket.on('data', (c: Buffer) => got.push(c));
    const closed = new Promise<void>((resolve, reject) => {
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(encodeScgiHead(SIZE, nginxVars('POST', '/big', { CONTENT_TYPE: 'application/octet-stream' })));

    const drainOr = (ms: number): Promise<boolean> =>
      new Promise((resolve) => {
        const t = setTimeout(() => {
          socket.off('drain', onDrain);
          resolve(false);
        }, ms);
        const onDrain = (): void => {
          clearTimeout(t);
          resolve(true);
        };
        socket.once('drain', onDrain);
      });

    let acceptedWhenBlocked = -1;
    let readWhenBlocked = -1;
    let readAfterWait = -2;
    let sent = 0;
    for (const chunk of generateBody({ size: SIZE, seed: SEED })) {
      sent += chunk.length;
      if (socket.write(chunk)) continue;
      if (acceptedWhenBlocked >= 0) {
        await drainOr(60_000);
        continue;
      }
      // Blocked: once the app is parked, a server that kept reading would drain us again quickly.
      await appParked;
      if (await drainOr(1500)) continue;
      acceptedWhenBlocked = sent - socket.writableLength;
      // The server side has stopped reading: its byte count stands still while the app is parked.
      readWhenBlocked = serverSide!.bytesRead;
      await new Promise((r) => setTimeout(r, 300));
      readAfterWait = serverSide!.bytesRead;
      release();
      await drainOr(60_000);
    }
    if (acceptedWhenBlocked < 0) release(); // never blocked: let the app finish so the test fails on the assertion, not a hang
    await closed;

    expect(acceptedWhenBlocked, 'the writer was blocked while the app did not read').to.be.greaterThan(0);
    // Kernel socket buffers on loopback hold a few MB; a server that buffered the body would take all 100 MB.
    expect(acceptedWhenBlocked).to.be.lessThan(32 * 1024 * 1024);
    expect(readWhenBlocked).to.be.lessThan(32 * 1024 * 1024);
    expect(readAfterWait, 'the server read nothing while the app was parked').to.equal(readWhenBlocked);
    const res = parseResponse({ data: Buffer.concat(got), reset: false });
    expect(res.status).to.equal(200);
    expect(JSON.parse(res.body.toString())).to.deep.equal(digestOf({ size: SIZE, seed: SEED }));
  });
});
