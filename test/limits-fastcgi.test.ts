/**
 * Request limits on the FastCGI front, at each boundary, with a raw FastCGI client (tsgi's own checks) and
 * behind real nginx (fastcgi_pass, examples/deploy/nginx/fastcgi.conf), where nginx's own limits answer
 * first above its large_client_header_buffers (8k): the tests say which layer answered, by tsgi's log.
 * A refused request ends with END_REQUEST and a `Status:` line; the connection serves the next request.
 */
import { expect } from 'chai';
import { beginRecord, cgiParams, FcgiClient, nameValues, record, streamRecords, T, type FcgiResult } from './support/fcgi-client.js';
import { startFcgiHarness, type FcgiHarness } from './support/fcgi-harness.js';
import { bodyLengthApp, httpRequest, manyFields, RawHttp, targetForLine, TEST_MAX_BODY, valueForLine } from './support/limits.js';
import { findBinary } from './integration/harness/binaries.js';
import { requireInstalled } from './integration/harness/skip.js';
import { startWebServer, type WebServer } from './integration/harness/web-server.js';

/** FastCGI params limit used here: small enough to cross, large enough for an 8190-byte header. */
const PARAMS_LIMIT = 16 * 1024;

/** HTTP_* variables for `fields` as nginx passes them (X-F0 -> HTTP_X_F0). */
function httpVars(fields: [string, string][]): Record<string, string> {
  return Object.fromEntries(fields.map(([n, v]) => ['HTTP_' + n.toUpperCase().replace(/-/g, '_'), v]));
}

/** Params whose encoded FCGI_PARAMS bytes are exactly `bytes` (padded with a variable that is not a header). */
function paramsOfSize(bytes: number): Record<string, string> {
  const params = cgiParams('GET', '/');
  let pad = 200;
  for (let i = 0; i < 3; i++) pad += bytes - nameValues({ ...params, TEST_PAD: 'z'.repeat(pad) }).length;
  const out = { ...params, TEST_PAD: 'z'.repeat(pad) };
  expect(nameValues(out).length).to.equal(bytes);
  return out;
}

describe('limits: FastCGI front (raw client)', function () {
  this.timeout(60_000);
  let h: FcgiHarness;
  let c: FcgiClient;
  let id = 0;

  before(async () => {
    h = await startFcgiHarness(bodyLengthApp, { maxParamsBytes: PARAMS_LIMIT, limits: { maxBodySize: TEST_MAX_BODY }, bodyTimeout: 300 });
    c = await FcgiClient.connect({ port: h.port });
  });
  after(async () => {
    c.close();
    await h.server.close(1000);
  });

  const send = (params: Record<string, string>, stdin?: Buffer): Promise<FcgiResult> => c.request({ id: ++id, params, stdin });

  /** `bad` is refused with `status` and the same connection serves the next request. */
  async function refusedThenServed(params: Record<string, string>, status: number, stdin?: Buffer): Promise<void> {
    const r = await send(params, stdin);
    expect(r.status, r.body.toString()).to.equal(status);
    expect(r.protocolStatus).to.equal(0);
    expect((await send(cgiParams('GET', '/after'))).status).to.equal(200);
    expect(c.connectionClosed).to.equal(false);
  }

  it('limitRequestLine: REQUEST_METHOD REQUEST_URI SERVER_PROTOCOL of 4094 bytes passes, 4095 is 414', async () => {
    expect((await send(cgiParams('GET', targetForLine('GET', 4094)))).status).to.equal(200);
    await refusedThenServed(cgiParams('GET', targetForLine('GET', 4095)), 414);
    expect(h.memory.text).to.match(/refused FastCGI request \d+ from 127\.0\.0\.1:\d+ with 414: .*\(TSGI_ERR_URI_TOO_LONG\)/);
  });

  it('limitRequestFields: 100 HTTP_* variables pass (HTTP_HOST + 99), 101 are 431', async () => {
    expect((await send(cgiParams('GET', '/', httpVars(manyFields(99))))).status).to.equal(200);
    await refusedThenServed(cgiParams('GET', '/', httpVars(manyFields(100))), 431);
  });

  it('limitRequestFieldSize: HTTP_X_BIG as an 8190-byte header line passes, 8191 is 431', async () => {
    expect((await send(cgiParams('GET', '/', { HTTP_X_BIG: valueForLine('X-Big', 8190) }))).status).to.equal(200);
    await refusedThenServed(cgiParams('GET', '/', { HTTP_X_BIG: valueForLine('X-Big', 8191) }), 431);
    expect(h.memory.text).to.include('header field "HTTP_X_BIG" is 8191 bytes, over limitRequestFieldSize 8190');
  });

  it('limitParamsSize: FCGI_PARAMS of the limit pass, one byte more is 431 (dropped, not held), the connection goes on', async () => {
    expect((await send(paramsOfSize(PARAMS_LIMIT))).status).to.equal(200);
    await refusedThenServed(paramsOfSize(PARAMS_LIMIT + 1), 431);
    expect(h.memory.text).to.include(`FCGI_PARAMS of ${PARAMS_LIMIT + 1} bytes, over limitParamsSize ${PARAMS_LIMIT}`);
  });

  it('a connection holds at most 2 x limitParamsSize of params of requests not yet started: one byte more closes it, logged', async () => {
    const before = h.linesWith('TSGI_ERR_PROTOCOL').length;
    const greedy = await FcgiClient.connect({ port: h.port });
    try {
      // Two requests with exactly the limit each, never ended: held, the connection still answers.
      await greedy.write(Buffer.concat([beginRecord(1), streamRecords(T.PARAMS, 1, Buffer.alloc(PARAMS_LIMIT, 0x61), false), beginRecord(2), streamRecords(T.PARAMS, 2, Buffer.alloc(PARAMS_LIMIT, 0x61), false)]));
      expect(await greedy.getValues(['FCGI_MPXS_CONNS'])).to.deep.equal({ FCGI_MPXS_CONNS: '1' });
      await greedy.write(Buffer.concat([beginRecord(3), record(T.PARAMS, 3, Buffer.from('a'))]));
      await greedy.closed;
    } finally {
      greedy.close();
    }
    const lines = h.linesWith('TSGI_ERR_PROTOCOL').slice(before);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include(`hold more than 2 x limitParamsSize (${PARAMS_LIMIT} bytes) on one connection`);
    expect((await send(cgiParams('GET', '/after'))).status).to.equal(200);
  });

  it('maxBodySize: CONTENT_LENGTH of the limit passes, one more is 413 before the app runs', async () => {
    const ok = await send(cgiParams('POST', '/', { CONTENT_LENGTH: String(TEST_MAX_BODY) }), Buffer.alloc(TEST_MAX_BODY, 1));
    expect(ok.body.toString()).to.equal(`length=${TEST_MAX_BODY}`);
    await refusedThenServed(cgiParams('POST', '/', { CONTENT_LENGTH: String(TEST_MAX_BODY + 1) }), 413, Buffer.alloc(TEST_MAX_BODY + 1, 1));
  });

  it('maxBodySize: FCGI_STDIN without CONTENT_LENGTH is counted: the limit passes, one byte more is 413', async () => {
    expect((await send(cgiParams('POST', '/'), Buffer.alloc(TEST_MAX_BODY, 1))).body.toString()).to.equal(`length=${TEST_MAX_BODY}`);
    await refusedThenServed(cgiParams('POST', '/'), 413, Buffer.alloc(TEST_MAX_BODY + 1, 1));
  });

  it('bodyTimeout: a CONTENT_LENGTH whose FCGI_STDIN stops coming is answered 408; the connection goes on', async () => {
    const rid = ++id;
    const res = c.response(rid);
    await c.write(Buffer.concat([beginRecord(rid), streamRecords(T.PARAMS, rid, nameValues(cgiParams('POST', '/', { CONTENT_LENGTH: '10' }))), record(T.STDIN, rid, Buffer.from('abcde'))]));
    const r = await res;
    expect(r.status).to.equal(408);
    expect(h.memory.text).to.match(/FastCGI request \d+ from 127\.0\.0\.1:\d+: no FCGI_STDIN for 300 ms \(bodyTimeout\)/);
    expect((await send(cgiParams('GET', '/after'))).status).to.equal(200);
  });
});

describe('limits: nginx fastcgi_pass -> tsgi FastCGI', function () {
  this.timeout(60_000);
  let h: FcgiHarness;
  let web: WebServer | undefined;
  let port = 0;

  before(async function () {
    const nginx = requireInstalled(this, 'nginx', findBinary('nginx'));
    h = await startFcgiHarness(bodyLengthApp, { host: '127.0.0.1', limits: { maxBodySize: TEST_MAX_BODY } });
    web = await startWebServer('nginx', nginx, [{ name: 'fastcgi', template: 'fastcgi.conf', vars: { NAME: 'tsgi_limits', UPSTREAM: `127.0.0.1:${h.port}`, KEEP_CONN: 'on' } }]);
    port = web.ports.fastcgi;
  });
  after(async () => {
    await web?.stop();
    await h?.server.close(1000);
  });

  /** One request through nginx on a fresh connection: the status, and whether tsgi logged a refusal for it. */
  async function viaNginx(bytes: string): Promise<{ status: number; tsgiRefused: boolean }> {
    const before = h.linesWith('refused').length;
    const c = await RawHttp.connect(port);
    try {
      c.send(bytes);
      const r = await c.response();
      return { status: r.status, tsgiRefused: h.linesWith('refused').length > before };
    } finally {
      c.close();
    }
  }

  it('request line: 4094 bytes pass, 4095 are 414 from tsgi; over nginx\'s 8k buffer, 414 from nginx', async () => {
    expect(await viaNginx(httpRequest('GET', '/app' + targetForLine('GET', 4094 - 4)))).to.deep.equal({ status: 200, tsgiRefused: false });
    expect(await viaNginx(httpRequest('GET', '/app' + targetForLine('GET', 4095 - 4)))).to.deep.equal({ status: 414, tsgiRefused: true });
    expect(await viaNginx(httpRequest('GET', '/app' + targetForLine('GET', 9000)))).to.deep.equal({ status: 414, tsgiRefused: false });
  });

  it('header fields: 100 pass, 101 are 431 from tsgi (nginx has no count limit)', async () => {
    expect(await viaNginx(httpRequest('GET', '/app/', manyFields(99)))).to.deep.equal({ status: 200, tsgiRefused: false });
    expect(await viaNginx(httpRequest('GET', '/app/', manyFields(100)))).to.deep.equal({ status: 431, tsgiRefused: true });
  });

  it('header line: 8190 bytes pass, 8191 are 431 from tsgi; over nginx\'s 8k buffer, 400 from nginx', async () => {
    expect(await viaNginx(httpRequest('GET', '/app/', [['X-Big', valueForLine('X-Big', 8190)]]))).to.deep.equal({ status: 200, tsgiRefused: false });
    expect(await viaNginx(httpRequest('GET', '/app/', [['X-Big', valueForLine('X-Big', 8191)]]))).to.deep.equal({ status: 431, tsgiRefused: true });
    expect(await viaNginx(httpRequest('GET', '/app/', [['X-Big', valueForLine('X-Big', 9000)]]))).to.deep.equal({ status: 400, tsgiRefused: false });
  });

  it('body: the limit passes, one byte more is 413 from tsgi (nginx client_max_body_size 200m lets it through)', async () => {
    expect(await viaNginx(httpRequest('POST', '/app/', [], 'x'.repeat(TEST_MAX_BODY)))).to.deep.equal({ status: 200, tsgiRefused: false });
    expect(await viaNginx(httpRequest('POST', '/app/', [], 'x'.repeat(TEST_MAX_BODY + 1)))).to.deep.equal({ status: 413, tsgiRefused: true });
  });
});
