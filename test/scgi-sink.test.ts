/**
 * ScgiSink writes `Status:` line, headers, blank line and body as one buffer and reuses the encoded head of
 * the last response when status and headers are the same: every response in a sequence that changes one
 * thing at a time (a value, the reason, the code, one header more, the same names in another order) must
 * be exactly the head the CGI rules give for it, and changing the app's header arrays afterwards must not
 * change what a later response sends.
 */
import { expect } from 'chai';
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { HeaderList } from '../app-api/types.js';
import { cgiResponseHeadText } from '../adapters/cgi/response-head.js';
import { ScgiSink } from '../adapters/scgi/sink.js';

/** A socket that records what is written to it and whether it was ended. */
function recordingSocket(): { socket: Socket; written: () => string; ended: () => boolean } {
  const chunks: Buffer[] = [];
  let ended = false;
  const s = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
    final(cb) {
      ended = true;
      cb();
    },
  });
  return { socket: s as unknown as Socket, written: () => Buffer.concat(chunks).toString('latin1'), ended: () => ended };
}

async function respond(code: number, reason: string, headers: HeaderList, body?: string): Promise<{ out: string; ended: boolean; told: number }> {
  const rec = recordingSocket();
  let told = 0;
  const sink = new ScgiSink(rec.socket, { responseEnded: () => void told++ });
  sink.start(code, reason, headers);
  sink.end(body === undefined ? undefined : Buffer.from(body, 'latin1'));
  await new Promise((r) => setImmediate(r));
  return { out: rec.written(), ended: rec.ended(), told };
}

describe('SCGI sink: the response head', () => {
  it('sends exactly each response head and body, through a sequence that changes one thing at a time', async () => {
    const ct: [string, string] = ['Content-Type', 'text/plain; charset=utf-8'];
    const steps: Array<[number, string, HeaderList, string | undefined]> = [
      [200, 'OK', [ct, ['Content-Length', '14']], 'Hello, world!\n'],
      [200, 'OK', [ct, ['Content-Length', '14']], 'Hello, world!\n'], // the same again
      [200, 'OK', [ct, ['Content-Length', '15']], 'Hello, world!!\n'], // one value
      [200, 'Fine', [ct, ['Content-Length', '15']], 'Hello, world!!\n'], // the reason
      [201, 'Fine', [ct, ['Content-Length', '15']], 'Hello, world!!\n'], // the code
      [201, 'Fine', [ct, ['Content-Length', '15'], ['X-A', '1']], 'Hello, world!!\n'], // one header more
      [201, 'Fine', [['Content-Length', '15'], ct, ['X-A', '1']], 'Hello, world!!\n'], // another order
      [204, '', [], undefined], // no reason, no headers, no body
      [200, 'OK', [ct], ''], // an empty body: the head alone
    ];
    for (const [code, reason, headers, body] of steps) {
      const r = await respond(code, reason, headers, body);
      expect(r.out, `${code} ${reason} ${JSON.stringify(headers)}`).to.equal(cgiResponseHeadText(code, reason, headers) + (body ?? ''));
      expect(r.ended).to.equal(true);
      expect(r.told).to.equal(1);
    }
  });

  it("is not changed by the app changing its header arrays after a response", async () => {
    const headers: HeaderList = [['X-Id', 'aaa']];
    expect((await respond(200, 'OK', headers, 'x')).out).to.equal('Status: 200 OK\r\nX-Id: aaa\r\n\r\nx');
    headers[0][1] = 'bbb';
    expect((await respond(200, 'OK', headers, 'x')).out).to.equal('Status: 200 OK\r\nX-Id: bbb\r\n\r\nx');
    expect((await respond(200, 'OK', [['X-Id', 'aaa']], 'x')).out).to.equal('Status: 200 OK\r\nX-Id: aaa\r\n\r\nx');
  });

  it('writes a head and a body over 16 KiB as two writes, the bytes unchanged', async () => {
    const big = 'y'.repeat(20_000);
    const r = await respond(200, 'OK', [['Content-Length', String(big.length)]], big);
    expect(r.out).to.equal(`Status: 200 OK\r\nContent-Length: ${big.length}\r\n\r\n${big}`);
  });
});
