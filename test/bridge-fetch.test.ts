/**
 * fromFetch and toFetch: a Hono app and bare fetch handlers run as tsgi apps (through inject and the built-in
 * server), and a tsgi app answering fetch Requests. Every app is wrapped in lint().
 */
import http from 'node:http';
import { expect } from 'chai';
import { Hono } from 'hono';
import { fromFetch } from '../app-api/bridge/index.js';
import { inject } from '../gateway/core/inject.js';
import { lint } from '../app-api/lint.js';
import type { App, Environ } from '../app-api/types.js';
import { toFetch } from '../adapters/fetch/to-fetch.js';
import { startHttpServer, type HttpServer } from '../adapters/http/server.js';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';

const quiet = (): ErrorLog => new ErrorLog(new MemoryLog());

describe('fromFetch: a Hono app as a tsgi app', () => {
  const hono = new Hono<{ Bindings: Environ }>();
  hono.get('/hello/:name', (c) => c.json({ name: c.req.param('name'), url: c.req.url, remote: c.env.REMOTE_ADDR, mount: c.env.SCRIPT_NAME }));
  hono.post('/upload', async (c) => c.text(`${(await c.req.arrayBuffer()).byteLength} bytes`));
  hono.get('/cookies', (c) => {
    c.header('set-cookie', 'a=1', { append: true });
    c.header('set-cookie', 'b=2', { append: true });
    return c.text('ok');
  });
  const app = lint(fromFetch(hono));

  it('routes on the path relative to the mount; the environ is c.env', async () => {
    const res = await inject(app, { url: 'http://shop.example/app/hello/ann?x=1', scriptName: '/app', remoteAddress: '10.0.0.7' });
    expect(res.json()).to.deep.equal({ name: 'ann', url: 'http://shop.example/hello/ann?x=1', remote: '10.0.0.7', mount: '/app' });
  });

  it('the full URL with { url: "full" }', async () => {
    const full = new Hono().get('*', (c) => c.text(c.req.url));
    const res = await inject(lint(fromFetch(full, { url: 'full' })), { url: '/app/a%20b/%C3%A9?q=%20', scriptName: '/app' });
    expect(res.text).to.equal('http://localhost/app/a%20b/%C3%A9?q=%20');
  });

  it('a 1 MB upload reaches the handler through the Request stream', async () => {
    const res = await inject(app, { method: 'POST', url: '/upload', body: Buffer.alloc(1024 * 1024, 1) });
    expect(res.text).to.equal(`${1024 * 1024} bytes`);
  });

  it('keeps each Set-Cookie apart', async () => {
    const res = await inject(app, '/cookies');
    expect(res.headerList.filter(([n]) => n === 'set-cookie').map(([, v]) => v)).to.deep.equal(['a=1', 'b=2']);
  });
});

describe('fromFetch: bare handlers', () => {
  it('passes Latin-1 header bytes and the status text both ways', async () => {
    const app = lint(fromFetch((req) => new Response(null, { status: 299, statusText: 'Quite Fine', headers: { 'x-echo': req.headers.get('x-latin') ?? '' } })));
    const res = await inject(app, { url: '/', headers: { 'x-latin': 'caf\xe9 \xff' } });
    expect(res.status).to.equal(299);
    expect(res.statusText).to.equal('Quite Fine');
    expect(res.headers['x-echo']).to.equal('caf\xe9 \xff');
    expect(res.body.length).to.equal(0);
  });

  it('an object with a fetch method (Bun/Deno style export) works, this bound', async () => {
    const handler = {
      greeting: 'hi',
      fetch(this: { greeting: string }) {
        return new Response(this.greeting);
      },
    };
    expect((await inject(lint(fromFetch(handler)), '/')).text).to.equal('hi');
  });

  it('a handler that answers something else than a Response is a 500 naming it', async () => {
    const res = await inject(lint(fromFetch((() => 'nope') as never)), '/');
    expect(res.status).to.equal(500);
    expect(res.errors).to.include('must answer a Response');
  });

  it('the client going away aborts the Request signal and stops the stream', async () => {
    let produced = 0;
    let aborted!: () => void;
    const abortSeen = new Promise<void>((r) => (aborted = r));
    const handler = (req: Request): Response => {
      req.signal.addEventListener('abort', () => aborted());
      let timer: NodeJS.Timeout;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          timer = setInterval(() => {
            produced++;
            controller.enqueue(new TextEncoder().encode('tick\n'));
            if (produced >= 2000) {
              clearInterval(timer);
              controller.close();
            }
          }, 5);
        },
        cancel() {
          clearInterval(timer);
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/plain' } });
    };
    const log = quiet();
    const server: HttpServer = await startHttpServer(new InlineDispatcher(lint(fromFetch(handler)), { log }), { port: 0, log });
    try {
      await new Promise<void>((resolve, reject) => {
        const req = http.get({ port: server.port, path: '/', agent: false }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (err) => (err.message.includes('socket hang up') ? resolve() : reject(err)));
      });
      await abortSeen;
      expect(produced).to.be.below(2000);
    } finally {
      await server.close(1000);
    }
  });
});

describe('toFetch: a tsgi app as a fetch handler', () => {
  const app: App = lint(async (environ, startResponse) => {
    const body = await environ['tsgi.input'].read();
    startResponse('201 Made', [['Content-Type', 'application/json'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']]);
    return [JSON.stringify({ method: environ.REQUEST_METHOD, script: environ.SCRIPT_NAME, path: environ.PATH_INFO, query: environ.QUERY_STRING, host: environ.HTTP_HOST, remote: environ.REMOTE_ADDR, body: body.toString() })];
  });
  const handler = toFetch(app, { scriptName: '/api', log: quiet(), remoteAddress: () => '203.0.113.5' });

  it('builds the environ with the core (mount, query, Host, body) and answers a Response', async () => {
    const res = await handler(new Request('https://api.example/api/v1/x%20y?z=1', { method: 'PUT', body: 'payload' }));
    expect(res.status).to.equal(201);
    expect(res.statusText).to.equal('Made');
    expect(res.headers.getSetCookie()).to.deep.equal(['a=1', 'b=2']);
    expect(await res.json()).to.deep.equal({ method: 'PUT', script: '/api', path: '/v1/x y', query: 'z=1', host: 'api.example', remote: '203.0.113.5', body: 'payload' });
  });

  it('a path outside the mount is the core\'s 404', async () => {
    expect((await handler(new Request('http://api.example/other'))).status).to.equal(404);
  });

  it('streams an async body, and HEAD gets a null body', async () => {
    const streaming = toFetch(
      lint((_env, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        return (async function* () {
          for (let i = 0; i < 3; i++) yield `part ${i}\n`;
        })();
      }),
      { log: quiet() },
    );
    const res = await streaming(new Request('http://x.example/'));
    expect(await res.text()).to.equal('part 0\npart 1\npart 2\n');
    const head = await streaming(new Request('http://x.example/', { method: 'HEAD' }));
    expect(head.body).to.equal(null);
  });

  it('a failing app is a 500 Response', async () => {
    const failing = toFetch(lint(() => {
      throw new Error('broken');
    }), { log: quiet() });
    expect((await failing(new Request('http://x.example/'))).status).to.equal(500);
  });
});
