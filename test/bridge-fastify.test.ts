/**
 * The fastify side of the bridge: the tsgiFastify plugin mounting a tsgi app and the express example (through
 * fromNode) next to a fastify route in one server (examples/bridge/fastify-mount.ts), and connect middleware
 * (helmet, compression) in front of a tsgi app on the built-in server by package name, as the `middleware`
 * option sets it.
 */
import { gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import type { FastifyInstance } from 'fastify';
import { isTsgiError } from '../app-api/errors.js';
import { lint } from '../app-api/lint.js';
import type { App } from '../app-api/types.js';
import { startHttpServer } from '../adapters/http/server.js';
import { loadMiddleware } from '../adapters/http/middleware-modules.js';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { OPTION_BY_NAME } from '../gateway/config/options.js';
import { build } from '../examples/bridge/fastify-mount.js';
import { sendRequest } from './support/http-client.js';

describe('tsgiFastify: tsgi and express apps mounted in one fastify server', () => {
  let fastify: FastifyInstance;
  let port = 0;
  before(async () => {
    fastify = (await build()) as unknown as FastifyInstance;
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    port = (fastify.server.address() as { port: number }).port;
  });
  after(() => fastify?.close());

  const get = (path: string) => sendRequest({ port }, { method: 'GET', path });

  it('the fastify route still answers', async () => {
    expect(JSON.parse((await get('/')).body.toString())).to.deep.equal({ from: 'fastify' });
  });

  it('the tsgi app sees its prefix as SCRIPT_NAME, at the prefix itself and below it', async () => {
    expect((await get('/tsgi/a/b?c=1')).body.toString()).to.equal('tsgi app: SCRIPT_NAME=/tsgi PATH_INFO=/a/b\n');
    expect((await get('/tsgi')).body.toString()).to.equal('tsgi app: SCRIPT_NAME=/tsgi PATH_INFO=\n');
  });

  it('the express app answers under /express, its JSON body untouched by fastify\'s parsers', async () => {
    const hello = await get('/express/');
    expect(hello.body.toString()).to.equal('hello from express at /express/ (127.0.0.1)\n');
    expect(hello.headers['x-content-type-options']).to.equal('nosniff');
    const post = await sendRequest({ port }, { method: 'POST', path: '/express/items', headers: [['Content-Type', 'application/json']], body: Buffer.from('{"x":1}') });
    expect(post.status).to.equal(201);
    expect(JSON.parse(post.body.toString())).to.deep.equal({ created: { x: 1 } });
  });
});

describe('middleware option: connect middleware by package name on the built-in server', () => {
  const big: App = lint((_env, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return ['tsgi '.repeat(2000)];
  });

  it('helmet and compression run in front of the app (headers added, body gzipped)', async () => {
    const log = new ErrorLog(new MemoryLog());
    const server = await startHttpServer(new InlineDispatcher(big, { log }), { port: 0, log, middlewareModules: ['helmet', 'compression'] });
    try {
      const res = await sendRequest({ port: server.port }, { method: 'GET', path: '/', headers: [['Accept-Encoding', 'gzip']] });
      expect(res.status).to.equal(200);
      expect(res.headers['x-content-type-options']).to.equal('nosniff');
      expect(res.headers['content-encoding']).to.equal('gzip');
      expect(gunzipSync(res.body).toString()).to.equal('tsgi '.repeat(2000));
    } finally {
      await server.close(1000);
    }
  });

  it('a package that is not installed is a TSGI_ERR_CONFIG naming it and the fix', async () => {
    try {
      await loadMiddleware(['no-such-middleware-pkg']);
      expect.fail('loaded');
    } catch (err) {
      expect(isTsgiError(err, 'TSGI_ERR_CONFIG')).to.equal(true);
      expect((err as Error).message).to.match(/middleware: no-such-middleware-pkg cannot be loaded .*npm install no-such-middleware-pkg/);
    }
  });

  it('the INI value is a comma-separated list of package names', () => {
    const opt = OPTION_BY_NAME.get('middleware')!;
    expect(opt.parse(' helmet ,compression, @scope/mw ')).to.equal('helmet, compression, @scope/mw');
    expect(() => opt.parse('helmet; rm -rf')).to.throw(/not a package name/);
  });
});
