/** The gateway core (gateway/handler.ts serveApp) through an in-memory sink: the PEP 3333 rules, framing, close(). */
import { expect } from 'chai';
import { isTsgiError } from '../app-api/errors.js';
import type { App, Body, Chunk, Environ, HeaderList } from '../app-api/types.js';
import { buildEnviron } from '../gateway/core/environ.js';
import { serveApp } from '../gateway/core/serve-app.js';
import { emptyInput } from '../app-api/input.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { FakeSink, type FakeSinkOptions } from './support/fake-sink.js';

function makeEnv(method = 'GET'): Environ {
  return buildEnviron(
    { REQUEST_METHOD: method, SCRIPT_NAME: '', PATH_INFO: '/', QUERY_STRING: '', SERVER_NAME: 'localhost', SERVER_PORT: '80', SERVER_PROTOCOL: 'HTTP/1.1' },
    { input: emptyInput(), errors: new ErrorLog(new MemoryLog()), multithread: false, multiprocess: false, runOnce: false, appConfig: {} },
  );
}

/** Serve `app` once; resolves when the core says the response is done. */
async function serve(app: App, opts: { method?: string; sink?: FakeSinkOptions } = {}): Promise<{ sink: FakeSink; logText: string }> {
  const sink = new FakeSink(opts.sink);
  const mem = new MemoryLog();
  await serveApp(app, makeEnv(opts.method), sink, { log: new ErrorLog(mem) });
  return { sink, logText: mem.text };
}

const TEXT: HeaderList = [['Content-Type', 'text/plain']];

/** A body object that counts close() calls and whether its iterator's finally ran. */
function countedBody(chunks: Chunk[], opts: { throwAt?: number } = {}): { body: Body; closes: () => number; finallyRan: () => boolean } {
  let closes = 0;
  let finallyRan = false;
  const body = {
    *[Symbol.iterator](): Iterator<Chunk> {
      try {
        for (let i = 0; i < chunks.length; i++) {
          if (i === opts.throwAt) throw new Error('boom in body');
          yield chunks[i];
        }
      } finally {
        finallyRan = true;
      }
    },
    close(): void {
      closes++;
    },
  };
  return { body, closes: () => closes, finallyRan: () => finallyRan };
}

describe('gateway core: serveApp', () => {
  describe('startResponse and excInfo', () => {
    it('a second startResponse without excInfo throws TSGI_ERR_START_RESPONSE_TWICE and the first status stands', async () => {
      let caught: unknown;
      const { sink } = await serve((_env, startResponse) => {
        startResponse('200 OK', TEXT);
        try {
          startResponse('404 Not Found', TEXT);
        } catch (err) {
          caught = err;
        }
        return ['ok'];
      });
      expect(isTsgiError(caught, 'TSGI_ERR_START_RESPONSE_TWICE')).to.equal(true);
      expect(sink.status).to.equal(200);
      expect(sink.body.toString()).to.equal('ok');
    });

    it('an uncaught second startResponse ends in a 500', async () => {
      const { sink, logText } = await serve((_env, startResponse) => {
        startResponse('200 OK', TEXT);
        startResponse('200 OK', TEXT);
        return ['never'];
      });
      expect(sink.status).to.equal(500);
      expect(sink.body.toString()).to.not.include('never');
      expect(logText).to.include('TSGI_ERR_START_RESPONSE_TWICE');
    });

    it('with excInfo before headers are sent, the new status and headers replace the old ones', async () => {
      const { sink } = await serve((_env, startResponse) => {
        startResponse('200 OK', [['X-First', '1']]);
        try {
          throw new Error('handled');
        } catch (err) {
          startResponse('503 Busy', [['X-Second', '2']], err);
        }
        return ['later'];
      });
      expect(sink.status).to.equal(503);
      expect(sink.reason).to.equal('Busy');
      expect(sink.header('X-First')).to.equal(undefined);
      expect(sink.header('X-Second')).to.equal('2');
      expect(sink.body.toString()).to.equal('later');
    });

    it('with excInfo after headers are sent, startResponse re-throws excInfo and the connection is aborted', async () => {
      let rethrown: unknown;
      const original = new Error('mid-body failure');
      const { sink } = await serve((_env, startResponse) => {
        startResponse('200 OK', TEXT);
        return (function* () {
          yield 'part one';
          try {
            startResponse('500 Oops', TEXT, original);
          } catch (err) {
            rethrown = err;
            throw err;
          }
        })();
      });
      expect(rethrown).to.equal(original);
      expect(sink.status).to.equal(200);
      expect(sink.aborted).to.equal(true);
      expect(sink.ended).to.equal(false);
    });
  });

  describe('close() exactly once', () => {
    it('on success', async () => {
      const b = countedBody(['a', 'b']);
      const { sink } = await serve((_env, sr) => {
        sr('200 OK', TEXT);
        return b.body;
      });
      expect(sink.body.toString()).to.equal('ab');
      expect(b.closes()).to.equal(1);
      expect(b.finallyRan()).to.equal(true);
    });

    it('on an error in the body before any byte: 500, close once', async () => {
      const b = countedBody(['a'], { throwAt: 0 });
      const { sink } = await serve((_env, sr) => {
        sr('200 OK', TEXT);
        return b.body;
      });
      expect(sink.status).to.equal(500);
      expect(b.closes()).to.equal(1);
    });

    it('on an error in the body after bytes went out: abort, close once', async () => {
      const b = countedBody(['a', 'b'], { throwAt: 1 });
      const { sink } = await serve((_env, sr) => {
        sr('200 OK', TEXT);
        return b.body;
      });
      expect(sink.status).to.equal(200);
      expect(sink.aborted).to.equal(true);
      expect(b.closes()).to.equal(1);
    });

    it('on a client abort mid-body: iteration stops, the iterator finally runs, close once', async () => {
      const b = countedBody(['a', 'b', 'c', 'd']);
      const { sink } = await serve(
        (_env, sr) => {
          sr('200 OK', TEXT);
          return b.body;
        },
        { sink: { closeAfterWrites: 1 } },
      );
      expect(sink.body.toString()).to.equal('a');
      expect(b.closes()).to.equal(1);
      expect(b.finallyRan()).to.equal(true);
    });

    it('on an array body with close()', async () => {
      let closes = 0;
      await serve((_env, sr) => {
        sr('200 OK', TEXT);
        return Object.assign(['x'], { close: () => void closes++ });
      });
      expect(closes).to.equal(1);
    });

    it('on an async generator body aborted by the client: its finally runs', async () => {
      let finallyRan = 0;
      await serve(
        (_env, sr) => {
          sr('200 OK', TEXT);
          return (async function* () {
            try {
              for (let i = 0; i < 100; i++) yield `chunk ${i}\n`;
            } finally {
              finallyRan++;
            }
          })();
        },
        { sink: { closeAfterWrites: 2, slow: true } },
      );
      expect(finallyRan).to.equal(1);
    });

    it('when close() itself throws: logged, the response still completes', async () => {
      const { sink, logText } = await serve((_env, sr) => {
        sr('200 OK', TEXT);
        return Object.assign(['x'], { close: () => { throw new Error('close failed'); } });
      });
      expect(sink.ended).to.equal(true);
      expect(logText).to.include('close failed');
    });
  });

  describe('framing', () => {
    it('an array body gets a Content-Length and goes out in one end()', async () => {
      const { sink } = await serve((_env, sr) => {
        sr('200 OK', TEXT);
        return ['Hello, ', 'world'];
      });
      expect(sink.header('content-length')).to.equal('12');
      expect(sink.events.map((e) => e.type)).to.deep.equal(['start', 'end']);
      expect(sink.body.toString()).to.equal('Hello, world');
    });

    it('HEAD: headers including Content-Length, no body', async () => {
      const { sink } = await serve((_env, sr) => {
        sr('200 OK', TEXT);
        return ['hello'];
      }, { method: 'HEAD' });
      expect(sink.status).to.equal(200);
      expect(sink.header('content-length')).to.equal('5');
      expect(sink.body.length).to.equal(0);
      expect(sink.ended).to.equal(true);
    });

    it('HEAD with a generator body: no body bytes', async () => {
      const { sink } = await serve((_env, sr) => {
        sr('200 OK', TEXT);
        return (function* () {
          yield 'a';
          yield 'b';
        })();
      }, { method: 'HEAD' });
      expect(sink.body.length).to.equal(0);
      expect(sink.ended).to.equal(true);
    });

    it('204: Content-Length and body are stripped', async () => {
      const { sink } = await serve((_env, sr) => {
        sr('204 No Content', [['Content-Length', '5']]);
        return ['hello'];
      });
      expect(sink.status).to.equal(204);
      expect(sink.header('content-length')).to.equal(undefined);
      expect(sink.body.length).to.equal(0);
      expect(sink.ended).to.equal(true);
    });

    it('304: no body, no Content-Length added', async () => {
      const { sink } = await serve((_env, sr) => {
        sr('304 Not Modified', [['ETag', '"x"']]);
        return ['ignored'];
      });
      expect(sink.status).to.equal(304);
      expect(sink.header('etag')).to.equal('"x"');
      expect(sink.header('content-length')).to.equal(undefined);
      expect(sink.body.length).to.equal(0);
    });

    it('1xx as the final status is refused: 500, nothing of it sent', async () => {
      const { sink } = await serve((_env, sr) => {
        sr('103 Early Hints', [['Link', '</a.css>; rel=preload']]);
        return ['x'];
      });
      expect(sink.status).to.equal(500);
      expect(sink.header('link')).to.equal(undefined);
    });

    it('hop-by-hop headers from the app are dropped on every protocol', async () => {
      const { sink } = await serve((_env, sr) => {
        sr('200 OK', [['Connection', 'close'], ['Keep-Alive', 'timeout=1'], ['X-Kept', 'yes']]);
        return ['x'];
      });
      expect(sink.header('connection')).to.equal(undefined);
      expect(sink.header('keep-alive')).to.equal(undefined);
      expect(sink.header('x-kept')).to.equal('yes');
    });

    it('a Status header is refused: 500, the real status is never replaced', async () => {
      const { sink } = await serve((_env, sr) => {
        sr('200 OK', [['Status', '302 Found']]);
        return ['x'];
      });
      expect(sink.status).to.equal(500);
      expect(sink.header('status')).to.equal(undefined);
    });

    it('Transfer-Encoding from the app is dropped (framing is the gateway\'s)', async () => {
      const { sink } = await serve((_env, sr) => {
        sr('200 OK', [['Transfer-Encoding', 'chunked']]);
        return ['x'];
      });
      expect(sink.header('transfer-encoding')).to.equal(undefined);
      expect(sink.body.toString()).to.equal('x');
    });

    it('an array body longer than its Content-Length: 500 (nothing was on the wire yet)', async () => {
      const { sink, logText } = await serve((_env, sr) => {
        sr('200 OK', [['Content-Length', '3']]);
        return ['abcdef'];
      });
      expect(logText).to.include('TSGI_ERR_CONTENT_LENGTH_MISMATCH');
      expect(sink.status).to.equal(500);
      expect(sink.body.toString()).to.not.include('abc');
    });

    it('an array body shorter than its Content-Length: 500', async () => {
      const { sink, logText } = await serve((_env, sr) => {
        sr('200 OK', [['Content-Length', '10']]);
        return ['ab'];
      });
      expect(logText).to.include('TSGI_ERR_CONTENT_LENGTH_MISMATCH');
      expect(sink.status).to.equal(500);
    });

    describe('a one-string body on a sink that takes text (the HTTP front)', () => {
      it('goes out as text in one call, Content-Length counted in UTF-8 bytes', async () => {
        const { sink } = await serve((_env, sr) => {
          sr('200 OK', TEXT);
          return ['h\u00e9llo \u20ac'];
        }, { sink: { text: true } });
        expect(sink.status).to.equal(200);
        expect(sink.header('content-length')).to.equal('10');
        const ends = sink.events.filter((e) => e.type === 'end');
        expect(ends).to.have.length(1);
        expect(ends[0]).to.include({ text: true });
        expect(sink.body.toString('utf8')).to.equal('h\u00e9llo \u20ac');
      });

      it('HEAD: the Content-Length of the text, no body', async () => {
        const { sink } = await serve((_env, sr) => {
          sr('200 OK', TEXT);
          return ['\u20ac'];
        }, { method: 'HEAD', sink: { text: true } });
        expect(sink.header('content-length')).to.equal('3');
        expect(sink.body.length).to.equal(0);
      });

      it('longer or shorter than its Content-Length: 500, nothing of it sent', async () => {
        for (const declared of ['2', '9']) {
          const { sink, logText } = await serve((_env, sr) => {
            sr('200 OK', [['Content-Length', declared]]);
            return ['abcde'];
          }, { sink: { text: true } });
          expect(logText).to.include('TSGI_ERR_CONTENT_LENGTH_MISMATCH');
          expect(sink.status).to.equal(500);
          expect(sink.body.toString()).to.not.include('abc');
        }
      });

      it('an empty string: Content-Length 0, the response ends', async () => {
        const { sink } = await serve((_env, sr) => {
          sr('200 OK', TEXT);
          return [''];
        }, { sink: { text: true } });
        expect(sink.header('content-length')).to.equal('0');
        expect(sink.events.at(-1)?.type).to.equal('end');
      });
    });

    it('HEAD may declare the GET body\'s Content-Length with an empty body', async () => {
      const { sink } = await serve((_env, sr) => {
        sr('200 OK', [['Content-Length', '10']]);
        return [];
      }, { method: 'HEAD' });
      expect(sink.status).to.equal(200);
      expect(sink.header('content-length')).to.equal('10');
    });

    it('a generator body longer than its Content-Length: aborted, never a clean end', async () => {
      const { sink, logText } = await serve((_env, sr) => {
        sr('200 OK', [['Content-Length', '3']]);
        return (function* () {
          yield 'ab';
          yield 'cd';
        })();
      });
      expect(logText).to.include('TSGI_ERR_CONTENT_LENGTH_MISMATCH');
      expect(sink.aborted).to.equal(true);
      expect(sink.ended).to.equal(false);
    });

    it('a generator body shorter than its Content-Length: aborted, never a clean end', async () => {
      const { sink, logText } = await serve((_env, sr) => {
        sr('200 OK', [['Content-Length', '10']]);
        return (function* () {
          yield 'ab';
        })();
      });
      expect(logText).to.include('TSGI_ERR_CONTENT_LENGTH_MISMATCH');
      expect(sink.status).to.equal(200);
      expect(sink.aborted).to.equal(true);
      expect(sink.ended).to.equal(false);
    });

    it('a non-numeric Content-Length is a 500', async () => {
      const { sink } = await serve((_env, sr) => {
        sr('200 OK', [['Content-Length', 'ten']]);
        return ['x'];
      });
      expect(sink.status).to.equal(500);
    });
  });

  describe('status and header validation', () => {
    const bad: Array<[string, HeaderList]> = [
      ['CR LF in a value', [['X-Bad', 'a\r\nX-Injected: 1']]],
      ['LF alone in a value', [['X-Bad', 'a\nX-Injected: 1']]],
      ['NUL in a value', [['X-Bad', 'a\0b']]],
      ['a space in the name', [['X Bad', 'v']]],
      ['a colon in the name', [['X-Bad:', 'v']]],
      ['CR LF in the name', [['X-Bad\r\nX-Injected', 'v']]],
      ['a character above U+00FF in a value', [['X-Bad', 'snow \u2603']]],
      ['a non-string value', [['X-Bad', 42 as unknown as string]]],
    ];
    for (const [what, headers] of bad) {
      it(`${what}: 500 and nothing of the header reaches the sink`, async () => {
        const { sink, logText } = await serve((_env, sr) => {
          sr('200 OK', [['Content-Type', 'text/plain'], ...headers]);
          return ['secret body'];
        });
        expect(sink.status).to.equal(500);
        const sent = JSON.stringify(sink.headers);
        expect(sent).to.not.match(/X-Bad|X-Injected/i);
        expect(sink.body.toString()).to.not.include('secret body');
        expect(logText).to.include('TSGI_ERR_BAD_HEADER');
      });
    }

    for (const status of ['99 Low', '600 High', '200 OK\r\nX-Injected: 1', 'OK 200', 200 as unknown as string]) {
      it(`status ${JSON.stringify(status)} is refused with a 500`, async () => {
        const { sink, logText } = await serve((_env, sr) => {
          sr(status, TEXT);
          return ['x'];
        });
        expect(sink.status).to.equal(500);
        expect(logText).to.include('TSGI_ERR_BAD_STATUS');
      });
    }

    it('an empty reason phrase is allowed', async () => {
      const { sink } = await serve((_env, sr) => {
        sr('201 ', TEXT);
        return ['x'];
      });
      expect(sink.status).to.equal(201);
    });
  });

  describe('bodies and chunks', () => {
    it('strings are UTF-8, Uint8Arrays and Buffers are bytes', async () => {
      const { sink } = await serve((_env, sr) => {
        sr('200 OK', TEXT);
        return (function* () {
          yield 'é';
          yield new Uint8Array([1, 2, 3]).subarray(1);
          yield Buffer.from('z');
          yield '';
        })();
      });
      expect([...sink.body]).to.deep.equal([0xc3, 0xa9, 2, 3, 0x7a]);
    });

    it('a promise of a body, and an async generator body', async () => {
      const { sink } = await serve(async (_env, sr) => {
        await new Promise((r) => setImmediate(r));
        sr('200 OK', TEXT);
        return (async function* () {
          yield 'a';
          await new Promise((r) => setImmediate(r));
          yield 'b';
        })();
      });
      expect(sink.body.toString()).to.equal('ab');
      expect(sink.ended).to.equal(true);
    });

    it('an app whose promise rejects: 500, logged', async () => {
      const { sink, logText } = await serve(async () => {
        throw new Error('async failure');
      });
      expect(sink.status).to.equal(500);
      expect(logText).to.include('async failure');
    });

    it('a body without startResponse: 500 TSGI_ERR_NO_START_RESPONSE', async () => {
      const { sink, logText } = await serve(() => ['x']);
      expect(sink.status).to.equal(500);
      expect(logText).to.include('TSGI_ERR_NO_START_RESPONSE');
    });

    it('a bare string body: 500 TSGI_ERR_BAD_BODY', async () => {
      const { sink, logText } = await serve((_env, sr) => {
        sr('200 OK', TEXT);
        return 'not an iterable of chunks' as unknown as Body;
      });
      expect(sink.status).to.equal(500);
      expect(logText).to.include('TSGI_ERR_BAD_BODY');
    });

    it('a chunk that is not a string or bytes: 500 TSGI_ERR_BAD_CHUNK', async () => {
      const { sink, logText } = await serve((_env, sr) => {
        sr('200 OK', TEXT);
        return [42 as unknown as Chunk];
      });
      expect(sink.status).to.equal(500);
      expect(logText).to.include('TSGI_ERR_BAD_CHUNK');
    });

    it('the write() callable sends bytes before the returned body', async () => {
      const { sink } = await serve(async (_env, sr) => {
        const write = sr('200 OK', TEXT);
        await write('first ');
        return ['then'];
      });
      expect(sink.body.toString()).to.equal('first then');
      expect(sink.header('content-length')).to.equal(undefined);
    });

    it('backpressure: a write that returns a promise is awaited before the next chunk is produced', async () => {
      const sink = new FakeSink({ slow: true });
      const app: App = (_env, sr) => {
        sr('200 OK', TEXT);
        return (function* () {
          for (let i = 0; i < 3; i++) {
            sink.trace.push(`produce ${i}`);
            yield `c${i}`;
          }
        })();
      };
      await serveApp(app, makeEnv(), sink, { log: new ErrorLog(new MemoryLog()) });
      expect(sink.trace).to.deep.equal(['produce 0', 'write 0', 'drained 0', 'produce 1', 'write 1', 'drained 1', 'produce 2', 'write 2', 'drained 2']);
      expect(sink.ended).to.equal(true);
    });

    it('backpressure with an async generator body', async () => {
      const sink = new FakeSink({ slow: true });
      const app: App = (_env, sr) => {
        sr('200 OK', TEXT);
        return (async function* () {
          for (let i = 0; i < 2; i++) {
            sink.trace.push(`produce ${i}`);
            yield `c${i}`;
          }
        })();
      };
      await serveApp(app, makeEnv(), sink, { log: new ErrorLog(new MemoryLog()) });
      expect(sink.trace).to.deep.equal(['produce 0', 'write 0', 'drained 0', 'produce 1', 'write 1', 'drained 1']);
    });

    it('serveApp returns no promise for a synchronous app with an array body (hot path)', () => {
      const sink = new FakeSink();
      const r = serveApp((_env, sr) => {
        sr('200 OK', TEXT);
        return ['x'];
      }, makeEnv(), sink, { log: new ErrorLog(new MemoryLog()) });
      expect(r).to.equal(undefined);
      expect(sink.ended).to.equal(true);
    });
  });
});
