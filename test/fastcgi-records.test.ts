/** Unit tests of the FastCGI record layer, name-value pairs, the byte -> string rule and the sink's framing. */
import { expect } from 'chai';
import { encodeParams, paramText, parseParams, ParamEncodingError } from '../adapters/fastcgi/params.js';
import { RecordError, RecordReader, type RawRecord } from '../adapters/fastcgi/records.js';
import { FastcgiSink, type SinkHost } from '../adapters/fastcgi/sink.js';
import type { HeaderList } from '../app-api/types.js';
import { nameValues, record, T } from './support/fcgi-client.js';

function readAll(pieces: Buffer[]): RawRecord[] {
  const reader = new RecordReader();
  const out: RawRecord[] = [];
  for (const p of pieces) reader.push(p, (r) => (out.push({ ...r, content: Buffer.from(r.content) }), true));
  return out;
}

/** Parse records out of what a sink sent (client-side view). */
function parseRecords(bytes: Buffer): { type: number; id: number; content: Buffer }[] {
  const out = [];
  let pos = 0;
  while (pos < bytes.length) {
    const len = bytes.readUInt16BE(pos + 4);
    out.push({ type: bytes[pos + 1], id: bytes.readUInt16BE(pos + 2), content: bytes.subarray(pos + 8, pos + 8 + len) });
    pos += 8 + len + bytes[pos + 6];
  }
  return out;
}

describe('FastCGI records', () => {
  it('reads records split at every byte boundary, with padding', () => {
    const stream = Buffer.concat([record(T.PARAMS, 1, Buffer.from('abc'), 5), record(T.STDIN, 258, Buffer.alloc(300, 7)), record(T.STDIN, 258)]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const recs = readAll([stream.subarray(0, cut), stream.subarray(cut)]);
      expect(recs.map((r) => [r.type, r.requestId, r.content.length]), `cut at ${cut}`).to.deep.equal([
        [T.PARAMS, 1, 3],
        [T.STDIN, 258, 300],
        [T.STDIN, 258, 0],
      ]);
    }
    const bytewise = readAll([...stream].map((b) => Buffer.from([b])));
    expect(bytewise).to.have.length(3);
    expect(bytewise[0].content.toString()).to.equal('abc');
  });

  it('refuses a version other than 1, even in a partial header', () => {
    const bad = record(T.PARAMS, 1);
    bad[0] = 2;
    expect(() => readAll([bad])).to.throw(RecordError, /version 2/);
    expect(() => readAll([bad.subarray(0, 3)])).to.throw(RecordError, /version 2/);
  });
});

describe('FastCGI name-value pairs', () => {
  it('round-trips 1-byte and 4-byte lengths', () => {
    const long = 'v'.repeat(70000);
    const parsed = parseParams(encodeParams([['A', ''], ['B', 'x'.repeat(127)], ['C', 'y'.repeat(128)], ['LONG', long]]));
    expect(parsed.A).to.equal('');
    expect(parsed.B).to.have.length(127);
    expect(parsed.C).to.have.length(128);
    expect(parsed.LONG).to.equal(long);
  });

  it('refuses lengths that run past the data, including lengths near 2^31', () => {
    const huge = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x01, 0x41, 0x42]);
    expect(() => parseParams(huge)).to.throw(RecordError, /claims 2147483647/);
    const value = Buffer.from([0x01, 0xff, 0xff, 0xff, 0xfe, 0x41]);
    expect(() => parseParams(value)).to.throw(RecordError, /claims/);
    expect(() => parseParams(Buffer.from([0x85, 0x00]))).to.throw(RecordError, /truncated/);
    expect(() => parseParams(Buffer.from([0x00, 0x01, 0x41]))).to.throw(RecordError, /empty name/);
  });

  it('a later duplicate replaces an earlier one; repeated HTTP_* headers are joined as the HTTP front joins them', () => {
    const p = parseParams(nameValues([['X', '1'], ['X', '2'], ['HTTP_X_MULTI', 'a'], ['HTTP_X_MULTI', 'b'], ['HTTP_COOKIE', 'a=1'], ['HTTP_COOKIE', 'b=2']]));
    expect(p.X).to.equal('2');
    expect(p.HTTP_X_MULTI).to.equal('a, b');
    expect(p.HTTP_COOKIE).to.equal('a=1; b=2');
  });

  it('decodes decoded-path variables as strict UTF-8 and everything else as Latin-1', () => {
    const utf8 = Buffer.from('/caf\u00e9', 'utf8');
    expect(paramText('PATH_INFO', utf8)).to.equal('/caf\u00e9');
    expect(paramText('SCRIPT_NAME', utf8)).to.equal('/caf\u00e9');
    // A raw header value keeps one char per byte, as Node's HTTP parser gives it to the HTTP front.
    expect(paramText('HTTP_X', utf8)).to.equal(utf8.toString('latin1'));
    expect(paramText('REQUEST_URI', Buffer.from([0x2f, 0xe9]))).to.equal('/\u00e9');
    expect(() => paramText('PATH_INFO', Buffer.from([0x2f, 0xe9]))).to.throw(ParamEncodingError, /PATH_INFO is not valid UTF-8/);
  });
});

describe('FastCGI sink framing', () => {
  function fakeHost(): SinkHost & { sent: Buffer[]; ended: number[]; aborted: number } {
    const host = {
      sent: [] as Buffer[],
      ended: [] as number[],
      aborted: 0,
      send: (b: Buffer) => (host.sent.push(Buffer.from(b)), true),
      drained: () => Promise.resolve(),
      requestEnded: (id: number) => void host.ended.push(id),
      abortConnection: () => void host.aborted++,
    };
    return host;
  }

  it('sends a small response as one buffer: head + body, empty STDOUT, END_REQUEST', () => {
    const host = fakeHost();
    const sink = new FastcgiSink(host, { requestId: 7, closed: false });
    sink.start(200, 'OK', [['Content-Type', 'text/plain'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']]);
    sink.end(Buffer.from('hi'));
    expect(host.sent).to.have.length(1);
    const recs = parseRecords(host.sent[0]);
    expect(recs.map((r) => [r.type, r.id])).to.deep.equal([[T.STDOUT, 7], [T.STDOUT, 7], [T.END_REQUEST, 7]]);
    expect(recs[0].content.toString('latin1')).to.equal('Status: 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nhi');
    expect(recs[1].content).to.have.length(0);
    expect([...recs[2].content]).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(host.ended).to.deep.equal([7]);
    expect(sink.closed).to.equal(true);
  });

  it('endText: a string body goes out encoded as UTF-8 in the same one buffer; a long one or one behind a huge head too', () => {
    const cases: Array<[string, HeaderList]> = [
      ['h\u00e9llo \u20ac', [['Content-Type', 'text/plain; charset=utf-8']]],
      ['\u00e9'.repeat(20_000), []], // 40,000 bytes: over the copy limit
      ['short', [['X-Big', 'v'.repeat(65_000)]]], // the head alone nearly fills a record
    ];
    for (const [text, headers] of cases) {
      const host = fakeHost();
      const sink = new FastcgiSink(host, { requestId: 3, closed: false });
      sink.start(200, 'OK', headers);
      sink.endText(text);
      const recs = parseRecords(Buffer.concat(host.sent));
      for (const r of recs) expect(r.content.length).to.be.at.most(65535);
      const stdout = Buffer.concat(recs.filter((r) => r.type === T.STDOUT).map((r) => r.content));
      expect(stdout.subarray(stdout.indexOf('\r\n\r\n') + 4).toString('utf8')).to.equal(text);
      expect(recs.at(-1)!.type).to.equal(T.END_REQUEST);
      expect(host.ended).to.deep.equal([3]);
      if (text.length < 100 && headers.length === 1) expect(host.sent).to.have.length(1);
    }
  });

  it('splits large chunks into records of at most 65535 bytes', () => {
    const host = fakeHost();
    const sink = new FastcgiSink(host, { requestId: 1, closed: false });
    sink.start(200, 'OK', []);
    const body = Buffer.alloc(200_000);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    sink.write(body);
    sink.end();
    const recs = parseRecords(Buffer.concat(host.sent));
    for (const r of recs) expect(r.content.length).to.be.at.most(65535);
    const stdout = Buffer.concat(recs.filter((r) => r.type === T.STDOUT).map((r) => r.content));
    expect(stdout.subarray(stdout.indexOf('\r\n\r\n') + 4).equals(body)).to.equal(true);
    expect(recs.at(-1)!.type).to.equal(T.END_REQUEST);
  });

  it('abort() tears the connection down instead of sending END_REQUEST', () => {
    const host = fakeHost();
    const sink = new FastcgiSink(host, { requestId: 1, closed: false });
    sink.start(200, 'OK', [['Content-Length', '10']]);
    sink.write(Buffer.from('abc'));
    sink.abort(new Error('boom'));
    expect(host.aborted).to.equal(1);
    expect(parseRecords(Buffer.concat(host.sent)).some((r) => r.type === T.END_REQUEST)).to.equal(false);
    expect(sink.closed).to.equal(true);
  });
});
