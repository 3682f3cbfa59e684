/**
 * Request limits on the built-in server (HTTP/1.1 and h2c), at each boundary: the limit passes, one more is
 * refused with its status, and the same connection (or the server, where the answer closes it) goes on
 * serving. Defaults are gunicorn's (limitRequestLine 4094, limitRequestFields 100, limitRequestFieldSize
 * 8190); maxBodySize and bodyTimeout are set small here.
 */
import http2 from 'node:http2';
import { expect } from 'chai';
import { startHttpServer, type HttpServer } from '../adapters/http/server.js';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { bodyLengthApp, httpRequest, manyFields, RawHttp, targetForLine, TEST_MAX_BODY, valueForLine } from './support/limits.js';

describe('limits: HTTP/1.1 front', function () {
  this.timeout(60_000);
  let server: HttpServer;
  const memory = new MemoryLog();
  const log = new ErrorLog(memory);
  let c: RawHttp;

  before(async () => {
    server = await startHttpServer(new InlineDispatcher(bodyLengthApp, { log }), { port: 0, log, limits: { maxBodySize: TEST_MAX_BODY }, bodyTimeout: 300 });
  });
  after(async () => {
    await server.close(1000);
  });
  beforeEach(async () => {
    c = await RawHttp.connect(server.port);
  });
  afterEach(() => c.close());

  /** Send `bad` then a good request on the same connection: `status`, then 200. */
  async function refusedThenServed(bad: string, status: number): Promise<void> {
    c.send(bad);
    const r = await c.response();
    expect(r.status, r.body).to.equal(status);
    c.send(httpRequest('GET', '/after'));
    expect((await c.response()).status).to.equal(200);
  }

  it('limitRequestLine 4094: a 4094-byte request line passes, 4095 is 414, the connection goes on', async () => {
    c.send(httpRequest('GET', targetForLine('GET', 4094)));
    expect((await c.response()).status).to.equal(200);
    await refusedThenServed(httpRequest('GET', targetForLine('GET', 4095)), 414);
    expect(memory.text).to.match(/refused HTTP request GET .* with 414: the request line is 4095 bytes, over limitRequestLine 4094; .* \(TSGI_ERR_URI_TOO_LONG\)/);
  });

  it('a request line over Node\'s 16 KiB head limit is refused 431 by Node\'s parser, before tsgi\'s check', async () => {
    c.send(httpRequest('GET', targetForLine('GET', 20_000)));
    const r = await c.response();
    expect(r.status).to.equal(431);
    await c.closedByServer();
  });

  it('limitRequestFields 100: 100 fields pass (Host + 99), 101 are 431, the connection goes on', async () => {
    c.send(httpRequest('GET', '/', manyFields(99)));
    expect((await c.response()).status).to.equal(200);
    await refusedThenServed(httpRequest('GET', '/', manyFields(100)), 431);
    expect(memory.text).to.match(/the request has 101 header fields, over limitRequestFields 100; .* \(TSGI_ERR_HEADERS_TOO_LARGE\)/);
  });

  it('limitRequestFieldSize 8190: an 8190-byte header line passes, 8191 is 431, the connection goes on', async () => {
    c.send(httpRequest('GET', '/', [['X-Big', valueForLine('X-Big', 8190)]]));
    expect((await c.response()).status).to.equal(200);
    await refusedThenServed(httpRequest('GET', '/', [['X-Big', valueForLine('X-Big', 8191)]]), 431);
    expect(memory.text).to.include('header field "X-Big" is 8191 bytes, over limitRequestFieldSize 8190');
  });

  it('maxBodySize: a declared body of the limit passes, one byte more is 413 before the app runs, and the connection closes', async () => {
    c.send(httpRequest('POST', '/', [], 'x'.repeat(TEST_MAX_BODY)));
    expect((await c.response()).body).to.equal(`length=${TEST_MAX_BODY}`);
    c.send(httpRequest('POST', '/', [['Content-Length', String(TEST_MAX_BODY + 1)]]));
    const r = await c.response();
    expect(r.status).to.equal(413);
    expect(r.headers.connection).to.equal('close');
    await c.closedByServer();
    const next = await RawHttp.connect(server.port);
    next.send(httpRequest('GET', '/next'));
    expect((await next.response()).status).to.equal(200);
    next.close();
  });

  it('maxBodySize: a chunked body of the limit passes; one byte more fails the app\'s read and is answered 413', async () => {
    const chunked = (n: number): string => `${n.toString(16)}\r\n${'y'.repeat(n)}\r\n0\r\n\r\n`;
    c.send(httpRequest('POST', '/', [['Transfer-Encoding', 'chunked']]) + chunked(TEST_MAX_BODY));
    expect((await c.response()).body).to.equal(`length=${TEST_MAX_BODY}`);
    c.send(httpRequest('POST', '/', [['Transfer-Encoding', 'chunked']]) + chunked(TEST_MAX_BODY + 1));
    const r = await c.response();
    expect(r.status).to.equal(413);
    expect(memory.text).to.include('(1001 bytes read so far) is over maxBodySize 1000 bytes');
    await c.closedByServer();
  });

  it('bodyTimeout: a declared body that never comes is answered 408 and the connection closed; the server goes on', async () => {
    c.send(httpRequest('POST', '/', [['Content-Length', '10']]) + 'abcde');
    const r = await c.response();
    expect(r.status).to.equal(408);
    await c.closedByServer();
    expect(memory.text).to.match(/no request body byte from 127\.0\.0\.1:\d+ for 300 ms \(bodyTimeout\)/);
    const next = await RawHttp.connect(server.port);
    next.send(httpRequest('GET', '/next'));
    expect((await next.response()).status).to.equal(200);
    next.close();
  });
});

describe('limits: HTTP/2 (h2c) front', function () {
  this.timeout(60_000);
  let server: HttpServer;
  const log = new ErrorLog(new MemoryLog());
  let session: http2.ClientHttp2Session;

  before(async () => {
    server = await startHttpServer(new InlineDispatcher(bodyLengthApp, { log }), { port: 0, log, http2: true, limits: { maxBodySize: TEST_MAX_BODY } });
    session = http2.connect(`http://127.0.0.1:${server.port}`);
  });
  after(async () => {
    session.close();
    await server.close(1000);
  });

  function request(headers: http2.OutgoingHttpHeaders, body?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const s = session.request(headers, { endStream: body === undefined });
      s.on('response', (h) => resolve(Number(h[':status'])));
      s.on('error', reject);
      s.resume();
      if (body !== undefined) s.end(body);
    });
  }

  it('limitRequestLine: `GET :path HTTP/2.0` of 4094 bytes passes, 4095 is 414, the session goes on', async () => {
    expect(await request({ ':path': targetForLine('GET', 4094, 'HTTP/2.0') })).to.equal(200);
    expect(await request({ ':path': targetForLine('GET', 4095, 'HTTP/2.0') })).to.equal(414);
    expect(await request({ ':path': '/after' })).to.equal(200);
  });

  it('limitRequestFields: 100 fields pass, 101 are 431 (pseudo-headers are not fields)', async () => {
    expect(await request({ ':path': '/', ...Object.fromEntries(manyFields(100)) })).to.equal(200);
    expect(await request({ ':path': '/', ...Object.fromEntries(manyFields(101)) })).to.equal(431);
    expect(await request({ ':path': '/after' })).to.equal(200);
  });

  it('limitRequestFieldSize: 8190 passes, 8191 is 431', async () => {
    expect(await request({ ':path': '/', 'x-big': valueForLine('x-big', 8190) })).to.equal(200);
    expect(await request({ ':path': '/', 'x-big': valueForLine('x-big', 8191) })).to.equal(431);
    expect(await request({ ':path': '/after' })).to.equal(200);
  });

  it('maxBodySize: a body of the limit passes; one byte more is 413, declared or not', async () => {
    expect(await request({ ':path': '/', ':method': 'POST' }, 'x'.repeat(TEST_MAX_BODY))).to.equal(200);
    expect(await request({ ':path': '/', ':method': 'POST', 'content-length': String(TEST_MAX_BODY + 1) }, 'x'.repeat(TEST_MAX_BODY + 1))).to.equal(413);
    expect(await request({ ':path': '/', ':method': 'POST' }, 'x'.repeat(TEST_MAX_BODY + 1))).to.equal(413);
    expect(await request({ ':path': '/after' })).to.equal(200);
  });
});
