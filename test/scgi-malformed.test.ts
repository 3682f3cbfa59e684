/**
 * Every way an SCGI request can break protocol.txt: the connection is closed without a response, one log
 * line with TSGI_ERR_PROTOCOL names the problem and the peer, the app never runs, and the next request is
 * served. Bytes after the body are never read as a second request.
 */
import { connect } from 'node:net';
import { expect } from 'chai';
import type { App } from '../app-api/types.js';
import { encodeScgiHead } from '../adapters/scgi/parse.js';
import { nginxVars, scgiRequest, sendRaw } from './support/scgi-client.js';
import { startScgiHarness, type ScgiHarness } from './support/scgi-harness.js';

/** A netstring around `block` (Latin-1), with the length it really has. */
function netstring(block: string, comma = ','): Buffer {
  return Buffer.from(`${Buffer.byteLength(block, 'latin1')}:${block}${comma}`, 'latin1');
}

const VALID = 'CONTENT_LENGTH\x000\x00SCGI\x001\x00REQUEST_METHOD\x00GET\x00';

const cases: Array<{ name: string; bytes: Buffer; problem: RegExp }> = [
  { name: 'a leading zero in the netstring length', bytes: Buffer.from(`0${netstring(VALID).toString('latin1')}`, 'latin1'), problem: /leading zero/ },
  { name: 'a zero netstring length', bytes: Buffer.from('0:,', 'latin1'), problem: /leading zero|empty/ },
  { name: 'a non-digit in the length', bytes: Buffer.from(`4x:${VALID},`, 'latin1'), problem: /non-digit byte 0x78/ },
  { name: 'a request that does not start with digits', bytes: Buffer.from('GET / HTTP/1.1\r\n\r\n'), problem: /does not start with a netstring length/ },
  { name: "a missing ':' after the length", bytes: Buffer.from(`${VALID.length}${VALID},`, 'latin1'), problem: /non-digit byte 0x43 .*':'/ },
  { name: "an empty length (':' first)", bytes: Buffer.from(`:${VALID},`, 'latin1'), problem: /length is empty/ },
  { name: "a missing ',' after the block", bytes: netstring(VALID, ';'), problem: /',' after the \d+-byte header block is missing/ },
  // A header block over the limit is answered 431 before the connection closes (test/limits-scgi.test.ts).
  { name: 'an odd number of strings', bytes: netstring('CONTENT_LENGTH\x000\x00SCGI\x001\x00REQUEST_METHOD\x00'), problem: /odd number/ },
  { name: 'a block not ending in NUL', bytes: netstring('CONTENT_LENGTH\x000\x00SCGI\x001'), problem: /does not end with NUL/ },
  { name: 'an empty header name', bytes: netstring(`${VALID}\x00value\x00`), problem: /empty header name/ },
  { name: 'CONTENT_LENGTH not first', bytes: netstring('SCGI\x001\x00CONTENT_LENGTH\x000\x00'), problem: /CONTENT_LENGTH must be the first header/ },
  { name: 'no CONTENT_LENGTH at all', bytes: netstring('SCGI\x001\x00REQUEST_METHOD\x00GET\x00'), problem: /CONTENT_LENGTH must be the first header/ },
  { name: 'CONTENT_LENGTH not a decimal (abc)', bytes: netstring('CONTENT_LENGTH\x00abc\x00SCGI\x001\x00'), problem: /CONTENT_LENGTH "abc" is not a decimal/ },
  { name: 'CONTENT_LENGTH negative', bytes: netstring('CONTENT_LENGTH\x00-1\x00SCGI\x001\x00'), problem: /CONTENT_LENGTH "-1"/ },
  { name: 'CONTENT_LENGTH empty', bytes: netstring('CONTENT_LENGTH\x00\x00SCGI\x001\x00'), problem: /CONTENT_LENGTH ""/ },
  { name: 'CONTENT_LENGTH with a leading zero', bytes: netstring('CONTENT_LENGTH\x0001\x00SCGI\x001\x00'), problem: /CONTENT_LENGTH "01"/ },
  { name: 'CONTENT_LENGTH with a sign or space', bytes: netstring('CONTENT_LENGTH\x00 1\x00SCGI\x001\x00'), problem: /CONTENT_LENGTH " 1"/ },
  { name: 'no SCGI header', bytes: netstring('CONTENT_LENGTH\x000\x00REQUEST_METHOD\x00GET\x00'), problem: /SCGI header is missing/ },
  { name: 'SCGI=2', bytes: netstring('CONTENT_LENGTH\x000\x00SCGI\x002\x00'), problem: /SCGI header is "2"/ },
  { name: 'a duplicate header name', bytes: netstring(`${VALID}REQUEST_METHOD\x00POST\x00`), problem: /duplicate header "REQUEST_METHOD"/ },
  { name: 'a duplicate CONTENT_LENGTH', bytes: netstring('CONTENT_LENGTH\x000\x00SCGI\x001\x00CONTENT_LENGTH\x005\x00'), problem: /duplicate header "CONTENT_LENGTH"/ },
  { name: 'a duplicate SCGI', bytes: netstring(`${VALID}SCGI\x001\x00`), problem: /duplicate header "SCGI"/ },
  { name: 'a header named __proto__ (would set the prototype of the variables object)', bytes: netstring(`${VALID}__proto__\x00x\x00`), problem: /a header named "__proto__"/ },
  // Left out of the variables (an empty CONTENT_TYPE, as nginx sends with every GET), still counted once.
  { name: 'a duplicate of a header the front leaves out', bytes: netstring(`${VALID}CONTENT_TYPE\x00\x00CONTENT_TYPE\x00text/plain\x00`), problem: /duplicate header "CONTENT_TYPE"/ },
  { name: 'trailing bytes after an empty body', bytes: Buffer.concat([netstring(VALID), Buffer.from('x')]), problem: /1 byte\(s\) after the 0-byte body/ },
  {
    name: 'a second whole request after the first (pipelining / desync)',
    bytes: Buffer.concat([encodeScgiHead(3, nginxVars('POST', '/first')), Buffer.from('abc'), encodeScgiHead(0, nginxVars('GET', '/second'))]),
    problem: /byte\(s\) after the 3-byte body .*not read as a request/,
  },
  { name: 'a head cut short by the peer closing', bytes: Buffer.from(`${VALID.length}:CONTENT_LEN`, 'latin1'), problem: /closed in the middle of the request head/ },
];

describe('SCGI front: malformed requests', () => {
  let h: ScgiHarness;
  let calls: string[] = [];
  const app: App = async (environ, startResponse) => {
    calls.push(`${environ.REQUEST_METHOD} ${environ.PATH_INFO}`);
    await environ['tsgi.input'].read();
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return ['ok\n'];
  };
  before(async () => {
    h = await startScgiHarness(app);
  });
  after(() => h.server.close(1000));
  beforeEach(() => {
    calls = [];
    h.memory.lines.length = 0;
  });

  for (const c of cases) {
    it(`${c.name}: closed, logged, never served; the next request is`, async () => {
      // Half-close so that a head cut short is seen as cut short (the server would otherwise wait for the rest).
      const raw = await sendRaw(h.port, c.bytes, { halfClose: true });
      expect(raw.data.length, 'no response bytes').to.equal(0);
      const lines = h.linesWith('TSGI_ERR_PROTOCOL');
      expect(lines, h.memory.text).to.have.length(1);
      expect(lines[0]).to.match(c.problem);
      expect(lines[0]).to.match(/from 127\.0\.0\.1:\d+; connection closed/);
      expect(calls, 'the app never ran').to.deep.equal([]);
      const next = await scgiRequest(h.port);
      expect(next.status).to.equal(200);
      expect(calls).to.deep.equal(['GET /']);
    });
  }

  it('trailing bytes that arrive while the app runs close the connection and are never served', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    let served = 0;
    const slow: App = async (environ, startResponse) => {
      served++;
      started();
      await environ['tsgi.input'].read();
      await gate;
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return ['late\n'];
    };
    const s = await startScgiHarness(slow);
    try {
      const net = await import('node:net');
      const sock = net.connect({ port: s.port, host: '127.0.0.1' });
      const got: Buffer[] = [];
      sock.on('data', (c: Buffer) => got.push(c));
      sock.on('error', () => {});
      const closed = new Promise<void>((r) => sock.on('close', () => r()));
      sock.write(Buffer.concat([encodeScgiHead(2, nginxVars('POST', '/one')), Buffer.from('hi')]));
      await running;
      sock.write(encodeScgiHead(0, nginxVars('GET', '/two')));
      await closed;
      release();
      expect(Buffer.concat(got).length).to.equal(0);
      expect(served).to.equal(1);
      const lines = s.linesWith('TSGI_ERR_PROTOCOL');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/after the 2-byte body/);
    } finally {
      await s.server.close(1000);
    }
  });

  it('a head that does not arrive within headerTimeout is dropped and logged', async () => {
    const s = await startScgiHarness(app, { headerTimeout: 150 });
    try {
      const raw = await sendRaw(s.port, Buffer.from('70:CONTENT_LENGTH\x00', 'latin1'));
      expect(raw.data.length).to.equal(0);
      expect(s.linesWith('TSGI_ERR_PROTOCOL').join('\n')).to.match(/did not arrive within 150 ms/);
    } finally {
      await s.server.close(1000);
    }
  });

  it('a connection that sends nothing is closed after headerTimeout, without a log line', async () => {
    const s = await startScgiHarness(app, { headerTimeout: 150 });
    try {
      const raw = await sendRaw(s.port, Buffer.alloc(0), { timeoutMs: 10_000 });
      expect(raw.data.length).to.equal(0);
      expect(s.memory.text).to.equal('');
    } finally {
      await s.server.close(1000);
    }
  });

  it('a body that stops arriving fails the app\'s read after bodyTimeout (idleTimeout by default) with TSGI_ERR_TIMEOUT, logged', async () => {
    let readError = '';
    const s = await startScgiHarness(async (environ, startResponse) => {
      try {
        await environ['tsgi.input'].read();
      } catch (err) {
        readError = (err as { code?: string }).code ?? String(err);
      }
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return ['too late\n'];
    }, { idleTimeout: 200 });
    try {
      // 3 of 10 announced body bytes, then silence with the connection open.
      const raw = await sendRaw(s.port, Buffer.concat([encodeScgiHead(10, nginxVars('POST', '/stall')), Buffer.from('abc')]), { timeoutMs: 10_000 });
      // The app caught the error and answered: its answer goes out (one that lets it through gets 408:
      // test/limits-scgi.test.ts), then the connection closes.
      expect(raw.data.toString('latin1')).to.include('too late');
      expect(readError).to.equal('TSGI_ERR_TIMEOUT');
      expect(s.memory.text).to.match(/SCGI request from .*: 3 of 10 body bytes, then none for 200 ms \(bodyTimeout\); its body read fails with 408 \(TSGI_ERR_TIMEOUT\)/);
    } finally {
      await s.server.close(1000);
    }
  });

  it('after the response, a peer that keeps its side open is closed after lingerTimeout', async () => {
    const s = await startScgiHarness(app, { lingerTimeout: 150 });
    try {
      // allowHalfOpen: the server's FIN does not make this client end its side (net's default would).
      const socket = connect({ port: s.port, host: '127.0.0.1', allowHalfOpen: true });
      const got: Buffer[] = [];
      let sawEnd = false;
      socket.on('data', (c: Buffer) => got.push(c));
      socket.on('end', () => (sawEnd = true));
      socket.write(encodeScgiHead(0, nginxVars('GET', '/linger')));
      await new Promise<void>((resolve) => socket.once('end', () => resolve()));
      expect(s.server.connections, 'the server still holds the connection while lingering').to.equal(1);
      // The server closes its socket (the client only learns on its next write): watch the server's count.
      const until = Date.now() + 10_000;
      while (s.server.connections > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      socket.destroy();
      expect(Buffer.concat(got).toString('latin1')).to.match(/^Status: 200 OK\r\n[\s\S]*\r\n\r\nok\n$/);
      expect(sawEnd, 'the response ended with a FIN').to.equal(true);
      expect(s.server.connections, 'the server closed the connection').to.equal(0);
      expect(s.memory.text).to.equal('');
    } finally {
      await s.server.close(1000);
    }
  });

  it('a head dripped one byte at a time is parsed like one sent at once', async () => {
    const bytes = encodeScgiHead(0, nginxVars('GET', '/drip'));
    const res = await sendRaw(h.port, (async function* () {
      for (const b of bytes) yield Buffer.from([b]);
    })());
    expect(res.data.toString('latin1')).to.match(/^Status: 200 OK\r\n/);
    expect(calls).to.deep.equal(['GET /drip']);
  });

  it('repeated HTTP_* headers (nginx <= 1.22 sends one per header line) are joined by default; other repeated names still refused', async () => {
    let seen: Record<string, unknown> = {};
    const s = await startScgiHarness((environ, startResponse) => {
      seen = { multi: environ.HTTP_X_MULTI, cookie: environ.HTTP_COOKIE };
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return ['ok\n'];
    });
    try {
      const pairs: Array<[string, string]> = [['REQUEST_METHOD', 'GET'], ['PATH_INFO', '/'], ['HTTP_X_MULTI', 'a'], ['HTTP_X_MULTI', 'b'], ['HTTP_COOKIE', 'x=1'], ['HTTP_COOKIE', 'y=2']];
      const ok = await sendRaw(s.port, encodeScgiHead(0, pairs));
      expect(ok.data.toString('latin1')).to.match(/^Status: 200 OK/);
      expect(seen).to.deep.equal({ multi: 'a, b', cookie: 'x=1; y=2' });
      expect(s.linesWith('TSGI_ERR_PROTOCOL')).to.deep.equal([]);
      const bad = await sendRaw(s.port, encodeScgiHead(0, [['REQUEST_METHOD', 'GET'], ['REQUEST_METHOD', 'POST']]));
      expect(bad.data.length).to.equal(0);
      expect(s.linesWith('TSGI_ERR_PROTOCOL').join('\n')).to.include('duplicate header "REQUEST_METHOD"');
    } finally {
      await s.server.close(1000);
    }
  });

  it('joinDuplicateHttpHeaders: false (strict protocol.txt): a repeated HTTP_* header is closed and logged too', async () => {
    let served = 0;
    const s = await startScgiHarness((environ, startResponse) => {
      served++;
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return ['ok\n'];
    }, { joinDuplicateHttpHeaders: false });
    try {
      const raw = await sendRaw(s.port, netstring(`${VALID}HTTP_X_A\x00a\x00HTTP_X_A\x00b\x00`), { halfClose: true });
      expect(raw.data.length).to.equal(0);
      const lines = s.linesWith('TSGI_ERR_PROTOCOL');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/duplicate header "HTTP_X_A"/);
      expect(served).to.equal(0);
      expect((await scgiRequest(s.port)).status).to.equal(200);
    } finally {
      await s.server.close(1000);
    }
  });

  it('a connection that closes without sending anything is not logged', async () => {
    const raw = await sendRaw(h.port, Buffer.alloc(0), { halfClose: true });
    expect(raw.data.length).to.equal(0);
    expect(h.memory.text).to.equal('');
  });

  it('a body cut short by the peer: the app sees TSGI_ERR_INPUT_CLOSED, the server keeps serving', async () => {
    const raw = await sendRaw(h.port, Buffer.concat([encodeScgiHead(10, nginxVars('POST', '/short')), Buffer.from('abc')]), { halfClose: true });
    expect(raw.data.toString('latin1')).to.match(/^Status: 500 /);
    expect(h.memory.text).to.include('TSGI_ERR_INPUT_CLOSED');
    expect(h.memory.text).to.include('after 3 of the 10 body bytes');
    expect((await scgiRequest(h.port)).status).to.equal(200);
  });
});
