/**
 * Malformed FastCGI input (reliability table row; Go's fcgi_test TestMalformedParams, CVE-2025-23016):
 * each case must close that connection, log one TSGI_ERR_PROTOCOL line naming what was wrong and the peer,
 * and leave the process serving: the next connection's request gets a 200.
 */
import { expect } from 'chai';
import { app as echo } from '../examples/echo-environ/app.js';
import { beginRecord, cgiParams, FcgiClient, nameValues, record, ROLE, streamRecords, T } from './support/fcgi-client.js';
import { startFcgiHarness, type FcgiHarness } from './support/fcgi-harness.js';

const params = (id: number, method = 'GET', path = '/'): Buffer => streamRecords(T.PARAMS, id, nameValues(cgiParams(method, path)));

function withVersion(rec: Buffer, version: number): Buffer {
  const out = Buffer.from(rec);
  out[0] = version;
  return out;
}

/** name, bytes the web server sends, what the log line must say. */
const CASES: [string, Buffer, RegExp][] = [
  ['version 2', withVersion(beginRecord(1), 2), /unsupported FastCGI version 2/],
  ['version 0 after a good record', Buffer.concat([beginRecord(1), withVersion(record(T.PARAMS, 1), 0)]), /unsupported FastCGI version 0/],
  ['BEGIN_REQUEST with 7 content bytes', record(T.BEGIN_REQUEST, 1, Buffer.alloc(7)), /FCGI_BEGIN_REQUEST with 7 content bytes/],
  ['BEGIN_REQUEST with 9 content bytes', record(T.BEGIN_REQUEST, 1, Buffer.alloc(9, 0)), /FCGI_BEGIN_REQUEST with 9 content bytes/],
  ['PARAMS without BEGIN_REQUEST', params(3), /FCGI_PARAMS for request id 3, which has no FCGI_BEGIN_REQUEST/],
  ['STDIN without BEGIN_REQUEST', record(T.STDIN, 4, Buffer.from('x')), /FCGI_STDIN for request id 4, which has no FCGI_BEGIN_REQUEST/],
  ['ABORT_REQUEST without BEGIN_REQUEST', record(T.ABORT_REQUEST, 5), /FCGI_ABORT_REQUEST for request id 5/],
  ['duplicate BEGIN_REQUEST while active', Buffer.concat([beginRecord(1), beginRecord(1)]), /request id 1, which is still active/],
  ['STDIN before the end of PARAMS', Buffer.concat([beginRecord(1), record(T.PARAMS, 1, nameValues({ A: 'b' })), record(T.STDIN, 1, Buffer.from('x'))]), /FCGI_STDIN for request 1 before the end of its FCGI_PARAMS/],
  ['PARAMS after the end of PARAMS', Buffer.concat([beginRecord(1), params(1), record(T.PARAMS, 1, nameValues({ A: 'b' }))]), /FCGI_PARAMS for request 1 after/],
  ['STDIN after its end', Buffer.concat([beginRecord(1), params(1, 'POST', '/hold'), record(T.STDIN, 1), record(T.STDIN, 1, Buffer.from('late'))]), /FCGI_STDIN for request 1 after its end-of-stream/],
  ['DATA for a responder', Buffer.concat([beginRecord(1), params(1, 'POST', '/hold'), record(T.DATA, 1, Buffer.from('d'))]), /FCGI_DATA for request 1, whose role is RESPONDER/],
  ['name length near 2^31 (4-byte form)', Buffer.concat([beginRecord(1), record(T.PARAMS, 1, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x01, 0x41, 0x42])), record(T.PARAMS, 1)]), /claims 2147483647/],
  ['value length past the data', Buffer.concat([beginRecord(1), record(T.PARAMS, 1, Buffer.from([0x01, 0x80, 0x00, 0x10, 0x00, 0x41, 0x42])), record(T.PARAMS, 1)]), /claims 1 \+ 4096 bytes/],
  ['truncated 4-byte length', Buffer.concat([beginRecord(1), record(T.PARAMS, 1, Buffer.from([0x01, 0x80, 0x00])), record(T.PARAMS, 1)]), /truncated in a 4-byte length/],
  // Params over the limit are well framed: answered 431, not a protocol error (test/limits-fastcgi.test.ts).
  ['more concurrent requests than allowed', Buffer.concat([1, 2, 3, 4, 5].map((id) => beginRecord(id))), /more than 4 concurrent requests/],
  ['STDOUT sent by the web server', Buffer.concat([beginRecord(1), record(T.STDOUT, 1, Buffer.from('x'))]), /FCGI_STDOUT \(request 1\) is not a record a web server sends/],
  ['unknown record type for a request', Buffer.concat([beginRecord(1), record(99, 1)]), /record type 99 \(request 1\) is not a record a web server sends/],
  ['BEGIN_REQUEST with request id 0', record(T.BEGIN_REQUEST, 0, Buffer.from([0, 1, 1, 0, 0, 0, 0, 0])), /FCGI_BEGIN_REQUEST with request id 0/],
  ['GET_VALUES with a broken pair', record(T.GET_VALUES, 0, Buffer.from([0x05, 0x00, 0x41])), /FCGI_GET_VALUES body/],
];

describe('FastCGI front: malformed records', () => {
  let h: FcgiHarness;
  const held: (() => void)[] = [];
  let holding: () => void = () => {};
  const releaseHold = (): void => {
    for (const release of held.splice(0)) release();
  };
  before(async () => {
    h = await startFcgiHarness(async (environ, startResponse) => {
      if (environ.SCRIPT_NAME === '/hold') {
        holding();
        await new Promise<void>((resolve) => held.push(resolve));
      }
      return echo(environ, startResponse);
    }, { maxRequestsPerConnection: 4 });
  });
  after(async () => {
    releaseHold();
    await h.server.close(1000);
  });

  for (const [name, bytes, logged] of CASES) {
    it(`${name}: connection closed, one TSGI_ERR_PROTOCOL line, next request 200`, async () => {
      const before = h.linesWith('TSGI_ERR_PROTOCOL').length;
      const c = await FcgiClient.connect({ port: h.port });
      const port = c.socket.localPort;
      await c.write(bytes);
      await c.closed;
      const lines = h.linesWith('TSGI_ERR_PROTOCOL').slice(before);
      expect(lines, h.memory.text).to.have.length(1);
      expect(lines[0]).to.match(logged);
      expect(lines[0]).to.include(`127.0.0.1:${port}`);
      releaseHold();

      const good = await FcgiClient.connect({ port: h.port });
      try {
        const r = await good.request({ params: cgiParams('GET', '/after') });
        expect(r.status).to.equal(200);
      } finally {
        good.close();
      }
    });
  }

  it('a malformed record on one connection leaves a request in flight on another one alone', async () => {
    const busy = await FcgiClient.connect({ port: h.port });
    const started = new Promise<void>((resolve) => (holding = resolve));
    const res = busy.request({ role: ROLE.RESPONDER, params: cgiParams('GET', '/hold') });
    await started;
    const bad = await FcgiClient.connect({ port: h.port });
    await bad.write(withVersion(beginRecord(1), 9));
    await bad.closed;
    releaseHold();
    expect((await res).status).to.equal(200);
    busy.close();
  });
});
