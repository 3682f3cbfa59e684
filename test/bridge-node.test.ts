/**
 * fromNode and toNode: express 5, connect-style and plain node:http code run as tsgi apps (through inject,
 * the same core as the built-in server, and through the built-in server itself), and a tsgi app mounted in
 * express. Every app is wrapped in lint().
 */
import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import express from 'express';
import { fromNode } from '../app-api/bridge/index.js';
import { isTsgiError } from '../app-api/errors.js';
import { inject } from '../gateway/core/inject.js';
import { lint } from '../app-api/lint.js';
import type { App } from '../app-api/types.js';
import { startHttpServer, type HttpServer } from '../adapters/http/server.js';
import { toNode } from '../adapters/node/to-node.js';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';

const quiet = (): ErrorLog => new ErrorLog(new MemoryLog());

describe('fromNode: express 5 as a tsgi app', () => {
  const web = express();
  web.use(express.json());
  web.get('/where', (req, res) => {
    res.json({ baseUrl: req.baseUrl, path: req.path, originalUrl: req.originalUrl, url: req.url, ip: req.ip, protocol: req.protocol, host: req.hostname, query: req.query });
  });
  web.post('/json', (req, res) => res.status(201).json({ got: req.body }));
  web.get('/cookies', (_req, res) => {
    res.cookie('a', '1').cookie('b', '2');
    res.statusMessage = 'Fine Indeed';
    res.status(203).send('ok');
  });
  web.get('/redirect', (_req, res) => res.redirect('/elsewhere'));
  const app = lint(fromNode(web));

  it('sees PATH_INFO as req.url and SCRIPT_NAME as req.baseUrl, the full path as req.originalUrl', async () => {
    const res = await inject(app, { url: 'https://shop.example/app/where?x=1&y=%C3%A9', scriptName: '/app', remoteAddress: '10.1.2.3' });
    expect(res.status).to.equal(200);
    expect(res.json()).to.deep.equal({
      baseUrl: '/app',
      path: '/where',
      originalUrl: '/app/where?x=1&y=%C3%A9',
      url: '/where?x=1&y=%C3%A9',
      ip: '10.1.2.3',
      protocol: 'https',
      host: 'shop.example',
      query: { x: '1', y: 'é' },
    });
  });

  it('parses a JSON body with express.json() (read from tsgi.input)', async () => {
    const res = await inject(app, { method: 'POST', url: '/json', body: JSON.stringify({ a: [1, 2], b: 'é' }), headers: { 'content-type': 'application/json' } });
    expect(res.status).to.equal(201);
    expect(res.json()).to.deep.equal({ got: { a: [1, 2], b: 'é' } });
  });

  it('keeps every Set-Cookie and the status message', async () => {
    const res = await inject(app, '/cookies');
    expect(res.status).to.equal(203);
    expect(res.statusText).to.equal('Fine Indeed');
    expect(res.headerList.filter(([n]) => n.toLowerCase() === 'set-cookie').map(([, v]) => v)).to.deep.equal(['a=1; Path=/', 'b=2; Path=/']);
  });

  it('answers express\'s own 404 and redirects', async () => {
    expect((await inject(app, '/missing')).status).to.equal(404);
    const res = await inject(app, '/redirect');
    expect(res.status).to.equal(302);
    expect(res.headers.location).to.equal('/elsewhere');
  });
});

describe('fromNode: the Node response API', () => {
  it('streams res.write() chunks; write() returns false past the high-water mark and drain follows', async () => {
    const seen: string[] = [];
    const app = lint(
      fromNode((_req, res) => {
        res.setHeader('content-type', 'application/octet-stream');
        const chunk = Buffer.alloc(64 * 1024, 7);
        let n = 0;
        const next = (): void => {
          while (n < 16) {
            n++;
            if (!res.write(chunk)) {
              seen.push('full');
              res.once('drain', () => {
                seen.push('drain');
                next();
              });
              return;
            }
          }
          res.end();
        };
        next();
      }),
    );
    const res = await inject(app, '/');
    expect(res.body.length).to.equal(16 * 64 * 1024);
    expect(seen).to.include('full');
    expect(seen).to.include('drain');
  });

  it('pipe() of a stream into res arrives intact', async () => {
    const data = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    const app = lint(
      fromNode((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        Readable.from((function* () {
          for (let i = 0; i < data.length; i += 100_000) yield data.subarray(i, i + 100_000);
        })()).pipe(res);
      }),
    );
    const res = await inject(app, '/');
    expect(createHash('sha256').update(res.body).digest('hex')).to.equal(createHash('sha256').update(data).digest('hex'));
  });

  it('emits finish and close, and getHeader/removeHeader work before writeHead', async () => {
    const events: string[] = [];
    let done!: () => void;
    const closed = new Promise<void>((r) => (done = r));
    const app = lint(
      fromNode((_req, res) => {
        res.setHeader('x-one', '1');
        res.setHeader('x-two', ['a', 'b']);
        res.removeHeader('x-one');
        events.push(`two=${JSON.stringify(res.getHeader('x-two'))}`);
        res.on('finish', () => events.push('finish'));
        res.on('close', () => {
          events.push('close');
          done();
        });
        res.end('bye');
      }),
    );
    const res = await inject(app, '/');
    await closed;
    expect(res.headerList).to.deep.equal([['x-two', 'a'], ['x-two', 'b'], ['Content-Length', '3']]);
    expect(events).to.deep.equal(['two=["a","b"]', 'finish', 'close']);
  });

  it('req.socket carries REMOTE_ADDR/REMOTE_PORT; what it cannot do fails with TSGI_ERR_BRIDGE_UNSUPPORTED', async () => {
    const errors: string[] = [];
    const app = lint(
      fromNode((req, res) => {
        for (const attempt of [() => req.socket.setTimeout(10), () => req.socket.address(), () => res.writeEarlyHints({ link: '</a.css>' }), () => res.addTrailers({ a: '1' })]) {
          try {
            attempt();
            errors.push('no error');
          } catch (err) {
            errors.push(isTsgiError(err, 'TSGI_ERR_BRIDGE_UNSUPPORTED') ? 'unsupported' : String(err));
          }
        }
        res.end(`${req.socket.remoteAddress}:${req.socket.remotePort}`);
      }),
    );
    const res = await inject(app, { url: '/', remoteAddress: '192.0.2.9', remotePort: 4242 });
    expect(res.text).to.equal('192.0.2.9:4242');
    expect(errors).to.deep.equal(['unsupported', 'unsupported', 'unsupported', 'unsupported']);
  });

  it('an async listener that rejects before answering is a 500', async () => {
    const app = lint(
      fromNode(async () => {
        await Promise.resolve();
        throw new Error('boom');
      }),
    );
    const res = await inject(app, '/');
    expect(res.status).to.equal(500);
    expect(res.errors).to.include('boom');
  });

  it('the client going away closes the Node response (res "close" before "finish")', async () => {
    let closedEarly!: (finished: boolean) => void;
    const closed = new Promise<boolean>((r) => (closedEarly = r));
    let writes = 0;
    const listener = (_req: IncomingMessage, res: ServerResponse): void => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => {
        writes++;
        res.write('tick\n');
        if (writes >= 2000) {
          clearInterval(timer);
          res.end();
        }
      }, 5);
      res.on('close', () => {
        clearInterval(timer);
        closedEarly(res.writableFinished);
      });
    };
    const log = quiet();
    const server: HttpServer = await startHttpServer(new InlineDispatcher(lint(fromNode(listener)), { log }), { port: 0, log });
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
      expect(await closed).to.equal(false);
      expect(writes).to.be.below(2000);
    } finally {
      await server.close(1000);
    }
  });
});

describe('toNode: a tsgi app in node:http and express', () => {
  const echo: App = lint((environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'application/json'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']]);
    return [JSON.stringify({ script: environ.SCRIPT_NAME, path: environ.PATH_INFO, query: environ.QUERY_STRING, remote: environ.REMOTE_ADDR })];
  });

  async function listen(listener: http.RequestListener): Promise<{ port: number; close(): Promise<void> }> {
    const server = http.createServer(listener);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
  }

  async function get(port: number, path: string): Promise<{ status: number; cookies: string[] | undefined; body: string }> {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, cookies: res.headers.getSetCookie(), body: await res.text() };
  }

  it('serves on node:http with the core\'s environ and both Set-Cookie', async () => {
    const s = await listen(toNode(echo, { log: quiet() }));
    try {
      const res = await get(s.port, '/a%20b?x=1');
      expect(JSON.parse(res.body)).to.deep.equal({ script: '', path: '/a b', query: 'x=1', remote: '127.0.0.1' });
      expect(res.cookies).to.deep.equal(['a=1', 'b=2']);
    } finally {
      await s.close();
    }
  });

  it('mounted with express app.use(prefix): SCRIPT_NAME is express\'s baseUrl', async () => {
    const web = express();
    web.get('/', (_req, res) => res.send('express root'));
    web.use('/legacy', toNode(echo, { log: quiet() }) as express.RequestHandler);
    const s = await listen(web as unknown as http.RequestListener);
    try {
      expect(JSON.parse((await get(s.port, '/legacy/items/3?y=2')).body)).to.deep.equal({ script: '/legacy', path: '/items/3', query: 'y=2', remote: '127.0.0.1' });
      expect((await get(s.port, '/')).body).to.equal('express root');
    } finally {
      await s.close();
    }
  });
});
