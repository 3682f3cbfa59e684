/**
 * gzip and encode through inject() under lint(): negotiation (br, gzip, identity, q-values), what is skipped
 * (types, small bodies, Content-Encoding set, no-transform, 206/304), Vary, Content-Length, weak ETag, HEAD,
 * streamed bodies compressed chunk by chunk with close() called once, and the encode tool's charset.
 */
import zlib from 'node:zlib';
import { expect } from 'chai';
import { inject } from '../../gateway/core/inject.js';
import { lint } from '../../app-api/lint.js';
import type { App, Chunk, HeaderList } from '../../app-api/types.js';
import { encode } from '../../app-api/tools/encode.js';
import { gzip, gzipTool } from '../../app-api/tools/gzip.js';

const TEXT = 'hello compressible world\n'.repeat(200);

function fixed(status: string, headers: HeaderList, body: Chunk[]): App {
  return (_env, startResponse) => {
    startResponse(status, headers);
    return body;
  };
}

describe('tools: gzip', () => {
  const text = lint(gzip(fixed('200 OK', [['Content-Type', 'text/plain'], ['ETag', '"v1"']], [TEXT])));

  it('gzip when the client accepts only gzip: Content-Encoding, Vary, weak ETag, new Content-Length', async () => {
    const res = await inject(text, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.status).to.equal(200);
    expect(res.headers['content-encoding']).to.equal('gzip');
    expect(res.headers['vary']).to.equal('Accept-Encoding');
    expect(res.headers['etag']).to.equal('W/"v1"');
    expect(res.headers['content-length']).to.equal(String(res.body.length));
    expect(res.body.length).to.be.lessThan(TEXT.length / 5);
    expect(zlib.gunzipSync(res.body).toString()).to.equal(TEXT);
  });

  it('brotli first on equal q-values; q-values decide otherwise; identity when nothing fits', async () => {
    const br = await inject(text, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(br.headers['content-encoding']).to.equal('br');
    expect(zlib.brotliDecompressSync(br.body).toString()).to.equal(TEXT);
    const q = await inject(text, { headers: { 'accept-encoding': 'br;q=0.5, gzip;q=1' } });
    expect(q.headers['content-encoding']).to.equal('gzip');
    for (const ae of [undefined, 'identity', 'deflate', 'gzip;q=0, br;q=0']) {
      const res = await inject(text, { headers: ae === undefined ? {} : { 'accept-encoding': ae } });
      expect(res.headers['content-encoding'], String(ae)).to.equal(undefined);
      expect(res.headers['vary']).to.equal('Accept-Encoding');
      expect(res.text).to.equal(TEXT);
    }
    const noBr = lint(gzip(fixed('200 OK', [['Content-Type', 'text/plain']], [TEXT]), { brotli: false }));
    expect((await inject(noBr, { headers: { 'accept-encoding': 'br, gzip' } })).headers['content-encoding']).to.equal('gzip');
  });

  it('skips: other types, small bodies, Content-Encoding set, no-transform, 206 and 304', async () => {
    const cases: Array<[string, App]> = [
      ['image/png', fixed('200 OK', [['Content-Type', 'image/png']], [TEXT])],
      ['application/zip', fixed('200 OK', [['Content-Type', 'application/zip']], [TEXT])],
      ['small', fixed('200 OK', [['Content-Type', 'text/plain']], ['tiny'])],
      ['small by Content-Length', fixed('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '4']], ['ti', 'ny'])],
      ['encoded already', fixed('200 OK', [['Content-Type', 'text/plain'], ['Content-Encoding', 'gzip']], [zlib.gzipSync(TEXT)])],
      ['no-transform', fixed('200 OK', [['Content-Type', 'text/plain'], ['Cache-Control', 'public, no-transform']], [TEXT])],
      ['206', fixed('206 Partial Content', [['Content-Type', 'text/plain'], ['Content-Range', `bytes 0-9/${TEXT.length}`]], [TEXT.slice(0, 10)])],
      ['304', fixed('304 Not Modified', [['ETag', '"v1"']], [])],
    ];
    for (const [name, app] of cases) {
      const res = await inject(lint(gzip(app)), { headers: { 'accept-encoding': 'gzip, br' } });
      expect(res.headers['content-encoding'] ?? 'none', name).to.equal(name === 'encoded already' ? 'gzip' : 'none');
    }
  });

  it('adds Accept-Encoding to an existing Vary once', async () => {
    const app = lint(gzip(fixed('200 OK', [['Content-Type', 'text/html'], ['Vary', 'Cookie']], [TEXT])));
    expect((await inject(app, { headers: { 'accept-encoding': 'gzip' } })).headers['vary']).to.equal('Cookie, Accept-Encoding');
    const star = lint(gzip(fixed('200 OK', [['Content-Type', 'text/html'], ['Vary', '*']], [TEXT])));
    expect((await inject(star, { headers: { 'accept-encoding': 'gzip' } })).headers['vary']).to.equal('*');
  });

  it('HEAD: the headers of a GET (Content-Length of the compressed body), no body', async () => {
    const get = await inject(text, { headers: { 'accept-encoding': 'gzip' } });
    const res = await inject(text, { method: 'HEAD', headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers['content-encoding']).to.equal('gzip');
    expect(res.headers['content-length']).to.equal(get.headers['content-length']);
    expect(res.body.length).to.equal(0);
  });

  it('streams an async body through zlib chunk by chunk (unknown size: compressed), closing it once', async () => {
    let closes = 0;
    let produced = 0;
    const streamed: App = (_env, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'application/json']]);
      return {
        async *[Symbol.asyncIterator]() {
          for (let i = 0; i < 2000; i++) {
            produced++;
            yield `{"row":${i},"pad":"${'x'.repeat(200)}"}\n`;
          }
        },
        close() {
          closes++;
        },
      };
    };
    const res = await inject(lint(gzip(streamed)), { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers['content-encoding']).to.equal('gzip');
    expect(res.headers['content-length']).to.equal(undefined);
    const plain = zlib.gunzipSync(res.body).toString();
    expect(plain.split('\n')).to.have.length(2001);
    expect(produced).to.equal(2000);
    expect(closes).to.equal(1);
  });

  it('a write()-style app and an app that calls startResponse inside its generator are compressed too', async () => {
    let closes = 0;
    const writer: App = (_env, startResponse) => {
      const write = startResponse('200 OK', [['Content-Type', 'text/plain']]);
      write(TEXT.slice(0, 1000));
      return Object.assign([TEXT.slice(1000)], { close: () => void closes++ });
    };
    const a = await inject(lint(gzip(writer)), { headers: { 'accept-encoding': 'gzip' } });
    expect(zlib.gunzipSync(a.body).toString()).to.equal(TEXT);
    expect(closes).to.equal(1);
    const plain = await inject(lint(gzip(writer)));
    expect(plain.text).to.equal(TEXT);
    expect(closes).to.equal(2);
    const lazy: App = (_env, startResponse) =>
      (function* () {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        yield TEXT;
      })();
    const b = await inject(gzip(lazy), { headers: { 'accept-encoding': 'gzip' } });
    expect(zlib.gunzipSync(b.body).toString()).to.equal(TEXT);
  });

  it('the ToolDef declares its options with defaults', () => {
    expect(Object.keys(gzipTool.options).sort()).to.deep.equal(['brotli', 'brotli_level', 'compress_level', 'mime_types', 'min_size']);
    expect(gzipTool.options.compress_level.default).to.equal(5);
  });
});

describe('tools: encode', () => {
  it('adds charset=utf-8 to text/* without one; leaves a declared charset and non-text alone', async () => {
    const app = lint(encode(fixed('200 OK', [['Content-Type', 'text/html']], ['é'])));
    const res = await inject(app);
    expect(res.headers['content-type']).to.equal('text/html; charset=utf-8');
    expect(res.body.equals(Buffer.from('é', 'utf8'))).to.equal(true);
    const declared = await inject(lint(encode(fixed('200 OK', [['Content-Type', 'text/plain; charset=iso-8859-1']], [Buffer.from([0xe9])]))));
    expect(declared.headers['content-type']).to.equal('text/plain; charset=iso-8859-1');
    const json = await inject(lint(encode(fixed('200 OK', [['Content-Type', 'application/json']], ['{}']))));
    expect(json.headers['content-type']).to.equal('application/json');
  });

  it('encodes string chunks in ISO-8859-1; a character it cannot hold is a 500, not mojibake', async () => {
    const res = await inject(lint(encode(fixed('200 OK', [['Content-Type', 'text/plain']], ['caf', 'é']), { encoding: 'iso-8859-1' })));
    expect(res.headers['content-type']).to.equal('text/plain; charset=iso-8859-1');
    expect([...res.body]).to.deep.equal([0x63, 0x61, 0x66, 0xe9]);
    const bad = await inject(lint(encode(fixed('200 OK', [['Content-Type', 'text/plain']], ['€']), { encoding: 'iso-8859-1' })));
    expect(bad.status).to.equal(500);
    expect(bad.errors).to.match(/cannot represent/);
  });
});
