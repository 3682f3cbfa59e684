/**
 * fromFetch's light Request and Response (app-api/bridge/light-request.ts, light-response.ts): what a handler
 * does with its Request works as on a real one (instanceof, headers, `new Request(request)`, `fetch(request)`
 * with a body, to a real loopback server), and a light Response is sent exactly as a real Response made of
 * the same body and init would be (status, reason, header list in order, body bytes). Apps wrapped in lint().
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Hono } from 'hono';
import { fromFetch } from '../app-api/bridge/index.js';
import { headerList } from '../app-api/bridge/header-list.js';
import { isLightRequest } from '../app-api/bridge/light-request.js';
import { LightResponse, partsHeaderList } from '../app-api/bridge/light-response.js';
import { natives } from '../app-api/bridge/natives.js';
import { statusLine } from '../app-api/bridge/reason.js';
import { lint } from '../app-api/lint.js';
import { inject } from '../gateway/core/inject.js';

describe('fromFetch: the light Request', () => {
  it('is a Request to its handler: instanceof, method, url, headers, and a real Request from new Request(request)', async () => {
    let seen: Record<string, unknown> = {};
    const app = lint(fromFetch((req: Request) => {
      const copy = new Request(req, { headers: { 'x-copy': 'yes' } });
      seen = {
        light: isLightRequest(req),
        instance: req instanceof Request,
        method: req.method,
        url: req.url,
        header: req.headers.get('x-a'),
        copyUrl: copy.url,
        copyMethod: copy.method,
        copyHeader: copy.headers.get('x-copy'),
        copyIsLight: isLightRequest(copy),
        cloneUrl: req.clone().url,
        bodyUsed: req.bodyUsed,
      };
      return new Response('ok');
    }));
    const res = await inject(app, { method: 'DELETE', url: 'http://Shop.Example:80/a/../b%20c?q=1', headers: { 'x-a': 'caf\xe9' } });
    expect(res.text).to.equal('ok');
    expect(seen).to.deep.equal({
      light: true,
      instance: true,
      method: 'DELETE',
      // As `new Request(url).url` reads it: host lower-cased, the default port dropped.
      url: 'http://shop.example/b%20c?q=1',
      header: 'caf\xe9',
      copyUrl: 'http://shop.example/b%20c?q=1',
      copyMethod: 'DELETE',
      copyHeader: 'yes',
      copyIsLight: false,
      cloneUrl: 'http://shop.example/b%20c?q=1',
      bodyUsed: false,
    });
  });

  it('its url is what a real Request would say for odd targets and hosts', async () => {
    const urls: string[] = [];
    const app = lint(fromFetch((req: Request) => {
      urls.push(req.url);
      return new Response(null, { status: 204 });
    }, { url: 'full' }));
    const cases = ['http://h.example/x/./y/%2e%2e/z', 'http://h.example/%7Etilde/"quote"?a=<b>', 'http://h.example:8080/ok?x=1', 'http://H.EXAMPLE:443/', "http://h.example:59999/it's?q='x'"];
    for (const url of cases) await inject(app, url);
    const expected = cases.map((u) => {
      const parsed = new URL(u);
      return new Request(`${parsed.protocol}//${parsed.host}${decodeURIComponent(parsed.pathname).replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/]/gu, (c) => encodeURIComponent(c))}${parsed.search}`).url;
    });
    expect(urls).to.deep.equal(expected);
  });

  describe('fetch(request) to a real loopback server (a proxy)', () => {
    let upstream: http.Server;
    let port = 0;
    before(async () => {
      upstream = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ method: req.method, url: req.url, header: req.headers['x-up'], body: Buffer.concat(chunks).toString() }));
        });
      });
      await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
      port = (upstream.address() as AddressInfo).port;
    });
    after(async () => {
      await new Promise<void>((r) => upstream.close(() => r()));
    });

    it('fetch(c.req.raw) sends method, target, headers and the streamed body on', async () => {
      const hono = new Hono();
      hono.all('*', async (c) => {
        const res = await fetch(c.req.raw);
        // The upstream connection's own headers are not the client's (hono/proxy drops them too).
        const headers = new Headers(res.headers);
        for (const name of ['connection', 'keep-alive', 'transfer-encoding']) headers.delete(name);
        return new Response(res.body, { status: res.status, headers });
      });
      const app = lint(fromFetch(hono));
      const body = 'z'.repeat(100_000);
      const res = await inject(app, { method: 'POST', url: `http://127.0.0.1:${port}/p/q?r=1`, headers: { 'x-up': 'one', 'content-type': 'text/plain' }, body: Buffer.from(body) });
      expect(res.status, res.errors).to.equal(200);
      expect(res.json()).to.deep.equal({ method: 'POST', url: '/p/q?r=1', header: 'one', body });
    });

    it('fetch(url, request) takes the Request as the init', async () => {
      const app = lint(fromFetch(async (req: Request) => {
        const res = await fetch(`http://127.0.0.1:${port}/other`, { method: req.method, headers: req.headers });
        return new Response(await res.text(), { headers: { 'content-type': res.headers.get('content-type')! } });
      }));
      const res = await inject(app, { method: 'PUT', url: '/ignored', headers: { 'x-up': 'two' } });
      expect(res.json()).to.deep.equal({ method: 'PUT', url: '/other', header: 'two', body: '' });
    });
  });
});

describe('fromFetch: the light Response is sent as the real one would be', () => {
  const bytes = new Uint8Array([0, 1, 2, 255]);
  const cases: Array<[string, () => [unknown, ResponseInit | undefined]]> = [
    ['a string, no init', () => ['hello', undefined]],
    ['no body', () => [null, undefined]],
    ['bytes, status and reason', () => [bytes, { status: 201, statusText: 'Made Here' }]],
    ['a record with mixed-case names, out of order', () => ['x', { headers: { 'X-Zed': 'z', 'Content-Type': 'text/html', 'x-alpha': 'a' } }]],
    ['a record needing Headers (spaces to trim)', () => ['x', { headers: { 'x-pad': '  padded  ' } }]],
    ['a record with Set-Cookie', () => ['x', { headers: { 'set-cookie': 'a=1', vary: 'accept' } }]],
    ['header pairs with two Set-Cookie', () => ['x', { headers: [['set-cookie', 'a=1'], ['set-cookie', 'b=2'], ['x-b', '1'], ['x-a', '2']] }]],
    ['a Headers object, string body', () => ['x', { status: 404, headers: new Headers({ 'x-h': 'h', 'set-cookie': 's=1' }) }]],
    ['Latin-1 value', () => ['x', { headers: { 'x-latin': 'caf\xe9' } }]],
    ['bytes, no init (no content type)', () => [bytes, undefined]],
    ['a record naming one header twice in two cases (Headers joins them)', () => ['x', { headers: { 'X-Dup': '1', 'x-dup': '2', 'x-other': 'o' } }]],
    ['a status Node has no reason for', () => ['x', { status: 299 }]],
  ];
  for (const [name, make] of cases) {
    it(name, async () => {
      const [body, init] = make();
      const light = new LightResponse(body as never, init) as unknown as Response;
      const parts = LightResponse.parts(light);
      expect(parts, 'stays light').to.not.equal(undefined);
      const [body2, init2] = make();
      const real = new natives.Response(body2 as never, init2);
      expect([parts!.status, parts!.statusText, partsHeaderList(parts!)]).to.deep.equal([real.status, real.statusText, headerList(real.headers)]);
      const sent = await inject(lint(fromFetch(() => new LightResponse(make()[0] as never, make()[1]) as unknown as Response)), '/');
      expect(sent.body.equals(Buffer.from(await real.arrayBuffer()))).to.equal(true);
      expect(sent.headerList.filter(([n]) => n.toLowerCase() !== 'content-length')).to.deep.equal(headerList(real.headers));
    });
  }

  it('the status line sent: the reason given, else the standard one, else Unknown', async () => {
    const sent = async (init: ResponseInit): Promise<[number, string]> => {
      const res = await inject(lint(fromFetch(() => new Response('x', init))), '/');
      return [res.status, res.statusText];
    };
    expect(await sent({})).to.deep.equal([200, 'OK']);
    expect(await sent({ status: 404 })).to.deep.equal([404, 'Not Found']);
    expect(await sent({ status: 404, statusText: 'Nothing Here' })).to.deep.equal([404, 'Nothing Here']);
    expect(await sent({ status: 299 })).to.deep.equal([299, 'Unknown']);
    expect(statusLine(503, undefined)).to.equal('503 Service Unavailable');
  });

  it('bodies of other kinds, and bad inits, behave as on a real Response', async () => {
    expect(LightResponse.parts(new LightResponse(new Blob(['b'])) as unknown as Response)).to.equal(undefined);
    expect(() => new LightResponse('x', { status: 204 })).to.throw(TypeError);
    expect(() => new LightResponse('x', { status: 99 })).to.throw(RangeError);
    const res = new LightResponse('abc', { status: 202 }) as unknown as Response;
    expect(res instanceof natives.Response && res.ok).to.equal(true);
    expect(await res.clone().text()).to.equal('abc');
    expect(await res.text()).to.equal('abc');
    expect(res.bodyUsed).to.equal(true);
  });

  it('a header a middleware sets on the response after it was made is sent', async () => {
    const hono = new Hono();
    hono.use(async (c, next) => {
      await next();
      c.res.headers.set('x-after', 'yes');
    });
    hono.get('/', (c) => c.text('hi'));
    const res = await inject(lint(fromFetch(hono)), '/');
    expect(res.text).to.equal('hi');
    expect(res.headers['x-after']).to.equal('yes');
    expect(res.headers['content-type']).to.equal(new natives.Response('hi').headers.get('content-type'));
  });

  it('Hono answers through the light classes (the global Response is the light one)', async () => {
    let made: Response | undefined;
    const hono = new Hono();
    hono.get('/', (c) => (made = c.text('hi')));
    await inject(lint(fromFetch(hono)), '/');
    expect(Object.getPrototypeOf(made)).to.equal(LightResponse.prototype);
    expect(LightResponse.parts(made!), 'sent without building a real Response').to.not.equal(undefined);
  });
});
