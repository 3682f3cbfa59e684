/**
 * Request limits on the SCGI front, at each boundary, with a raw SCGI client. SCGI is one request per
 * connection, so "goes on serving" is the next connection's 200. A refused request gets a `Status:` line,
 * including a header block over the limit, which is answered before it is read.
 */
import { expect } from 'chai';
import { encodeScgiHead } from '../adapters/scgi/parse.js';
import { nginxVars, parseResponse, scgiRequest, sendRaw, type ScgiResponse } from './support/scgi-client.js';
import { startScgiHarness, type ScgiHarness } from './support/scgi-harness.js';
import { bodyLengthApp, manyFields, targetForLine, TEST_MAX_BODY, valueForLine } from './support/limits.js';

const HEAD_LIMIT = 16 * 1024;

/** Netstring payload bytes of a head. */
const blockLength = (vars: Record<string, string>, contentLength = 0): number => {
  const head = encodeScgiHead(contentLength, vars);
  return head.length - head.indexOf(':'.charCodeAt(0)) - 2;
};

/** nginx-like variables whose header block is exactly `bytes` long. */
function varsOfBlock(bytes: number): Record<string, string> {
  const vars = nginxVars('GET', '/');
  const pad = bytes - blockLength({ ...vars, TEST_PAD: '' });
  const out = { ...vars, TEST_PAD: 'z'.repeat(pad) };
  expect(blockLength(out)).to.equal(bytes);
  return out;
}

function httpVars(fields: [string, string][]): Record<string, string> {
  return Object.fromEntries(fields.map(([n, v]) => ['HTTP_' + n.toUpperCase().replace(/-/g, '_'), v]));
}

describe('limits: SCGI front', function () {
  this.timeout(60_000);
  let h: ScgiHarness;

  before(async () => {
    h = await startScgiHarness(bodyLengthApp, { maxHeaderBytes: HEAD_LIMIT, limits: { maxBodySize: TEST_MAX_BODY }, bodyTimeout: 300, lingerTimeout: 500 });
  });
  after(() => h.server.close(1000));

  const get = (vars: Record<string, string>, body?: Buffer): Promise<ScgiResponse> => scgiRequest(h.port, { vars, body, halfClose: true });

  /** `status` for the bad request, then 200 for the next connection. */
  async function refusedThenServed(vars: Record<string, string>, status: number, body?: Buffer): Promise<void> {
    const r = await get(vars, body);
    expect(r.status, r.body.toString()).to.equal(status);
    expect(r.reset).to.equal(false);
    expect((await get(nginxVars('GET', '/after'))).status).to.equal(200);
  }

  it('limitRequestLine: 4094 bytes pass, 4095 are 414', async () => {
    expect((await get(nginxVars('GET', targetForLine('GET', 4094)))).status).to.equal(200);
    await refusedThenServed(nginxVars('GET', targetForLine('GET', 4095)), 414);
    expect(h.memory.text).to.match(/refused SCGI request GET \/p+ from 127\.0\.0\.1:\d+ with 414: .*\(TSGI_ERR_URI_TOO_LONG\)/);
  });

  it('limitRequestFields: 100 pass (HTTP_HOST + 99), 101 are 431', async () => {
    expect((await get(nginxVars('GET', '/', httpVars(manyFields(99))))).status).to.equal(200);
    await refusedThenServed(nginxVars('GET', '/', httpVars(manyFields(100))), 431);
  });

  it('limitRequestFieldSize: 8190 passes, 8191 is 431', async () => {
    expect((await get(nginxVars('GET', '/', { HTTP_X_BIG: valueForLine('X-Big', 8190) }))).status).to.equal(200);
    await refusedThenServed(nginxVars('GET', '/', { HTTP_X_BIG: valueForLine('X-Big', 8191) }), 431);
  });

  it('limitParamsSize: a header block of the limit passes, one byte more is 431 (Status line, logged), the server goes on', async () => {
    expect((await get(varsOfBlock(HEAD_LIMIT))).status).to.equal(200);
    await refusedThenServed(varsOfBlock(HEAD_LIMIT + 1), 431);
    expect(h.memory.text).to.include(`the header block is over the limit of ${HEAD_LIMIT} bytes`);
    expect(h.memory.text).to.include('TSGI_ERR_HEADERS_TOO_LARGE');
  });

  it('a netstring length far over the limit is answered 431 at once, without waiting for the block', async () => {
    const r = parseResponse(await sendRaw(h.port, Buffer.from('99999999999999999999:', 'latin1'), { halfClose: true }));
    expect(r.status).to.equal(431);
  });

  it('maxBodySize: CONTENT_LENGTH of the limit passes, one more is 413 before the app runs', async () => {
    const ok = await get(nginxVars('POST', '/'), Buffer.alloc(TEST_MAX_BODY, 1));
    expect(ok.body.toString()).to.equal(`length=${TEST_MAX_BODY}`);
    await refusedThenServed(nginxVars('POST', '/'), 413, Buffer.alloc(TEST_MAX_BODY + 1, 1));
  });

  it('bodyTimeout: a declared body that stops coming is answered 408 (Status line), then closed', async () => {
    const head = encodeScgiHead(10, nginxVars('POST', '/'));
    const r = parseResponse(await sendRaw(h.port, Buffer.concat([head, Buffer.from('abcde')])));
    expect(r.status).to.equal(408);
    expect(h.memory.text).to.match(/SCGI request from 127\.0\.0\.1:\d+: 5 of 10 body bytes, then none for 300 ms \(bodyTimeout\)/);
    expect((await get(nginxVars('GET', '/after'))).status).to.equal(200);
  });
});
