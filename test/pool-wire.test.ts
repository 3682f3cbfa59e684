/**
 * The wire encodings between the main thread and pool threads (gateway/threads/channel.ts): response heads as
 * one string, small bodies as latin1 strings, CGI variables as one string. Each must give back exactly what
 * went in, for every byte and every header the gateway core lets through.
 */
import { expect } from 'chai';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { bodyFromWire, bodyToWire, decodeCgi, decodeHead, encodeCgi, encodeHead, SMALL_BODY, wireLength } from '../gateway/threads/channel.js';
import type { HeaderList } from '../app-api/types.js';

/** Post through a real MessagePort, as the pool does, and take it out on the other side. */
function throughPort<T>(value: T, transfer?: ArrayBuffer[]): T {
  const { port1, port2 } = new MessageChannel();
  try {
    port1.postMessage(value, transfer);
    return receiveMessageOnPort(port2)!.message as T;
  } finally {
    port1.close();
  }
}

describe('pool wire encodings', () => {
  it('a response head survives as one string: status, reason with spaces, repeated and empty headers, latin1', () => {
    const headers: HeaderList = [
      ['Content-Type', 'text/html; charset=utf-8'],
      ['Set-Cookie', 'a=1; Path=/'],
      ['Set-Cookie', 'b=2'],
      ['X-Empty', ''],
      ['X-Latin1', 'caf\u00e9 \u00ff'],
    ];
    const wire = encodeHead(418, "I'm a teapot", headers);
    expect(typeof wire).to.equal('string');
    expect(decodeHead(throughPort(wire))).to.deep.equal([418, "I'm a teapot", headers]);
    expect(decodeHead(encodeHead(204, 'No Content', []))).to.deep.equal([204, 'No Content', []]);
    expect(decodeHead(encodeHead(200, '', [['A', 'b']]))).to.deep.equal([200, '', [['A', 'b']]]);
  });

  it('a small body crosses as a latin1 string with every byte value intact; a large one as a transferred ArrayBuffer', () => {
    const all = Buffer.alloc(512);
    for (let i = 0; i < all.length; i++) all[i] = i % 256;
    const [small, none] = bodyToWire(all);
    expect(typeof small).to.equal('string');
    expect(none).to.equal(undefined);
    expect(wireLength(small)).to.equal(512);
    expect(bodyFromWire(throughPort(small)).equals(all)).to.equal(true);

    const view = new Uint8Array(all.buffer, all.byteOffset + 10, 20); // a view into a larger buffer
    expect(bodyFromWire(bodyToWire(view)[0]).equals(Buffer.from(view))).to.equal(true);

    const big = Buffer.alloc(SMALL_BODY + 1, 0xfe);
    const [large, transfer] = bodyToWire(big);
    expect(large).to.be.instanceOf(ArrayBuffer);
    expect(transfer).to.deep.equal([large]);
    const received = throughPort(large, transfer);
    expect((large as ArrayBuffer).byteLength, 'transferred, not copied').to.equal(0);
    expect(wireLength(received)).to.equal(SMALL_BODY + 1);
    expect(bodyFromWire(received).equals(big)).to.equal(true);
    expect(big[0], 'the producer keeps its own buffer').to.equal(0xfe);
  });

  it('CGI variables cross as one string and come back equal, empty values and "=" included', () => {
    const cgi = {
      REQUEST_METHOD: 'GET',
      QUERY_STRING: 'a=1&b==2',
      PATH_INFO: '/caf\u00e9/x y',
      HTTP_COOKIE: '',
      HTTP_X_MANY: 'one, two',
      SCRIPT_NAME: '',
    };
    const wire = encodeCgi(cgi);
    expect(typeof wire).to.equal('string');
    expect(decodeCgi(throughPort(wire))).to.deep.equal(cgi);
    expect(decodeCgi(encodeCgi({}))).to.deep.equal({});
  });

  it('CGI variables with a NUL (a %00 path, a FastCGI param) cross as the object, unchanged', () => {
    const cgi = { PATH_INFO: '/a\0b', REQUEST_METHOD: 'GET' };
    const wire = encodeCgi(cgi);
    expect(wire).to.equal(cgi);
    expect(decodeCgi(throughPort(wire))).to.deep.equal(cgi);
    const nulName = { ['X\0Y']: 'v' };
    expect(decodeCgi(encodeCgi(nulName))).to.deep.equal(nulName);
  });
});
