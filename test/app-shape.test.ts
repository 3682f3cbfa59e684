/** `tsgi MODULE` serves a tsgi app, a fetch handler or a Node app as it is: how the CLI tells them apart. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import express from 'express';
import { Hono } from 'hono';
import { inject } from '../gateway/core/inject.js';
import { lint } from '../app-api/lint.js';
import { loadApp } from '../gateway/app-loader.js';
import { adaptApp, appShape, detectShape } from '../gateway/app-shape.js';

describe('app shape detection (interface = auto) and --interface', () => {
  it('an express app is a Node app, a Hono app and a one-parameter function are fetch handlers, others tsgi', () => {
    expect(detectShape(express())?.description).to.equal('express app (detected)');
    const connectLike = Object.assign((_req: unknown, _res: unknown, _next: unknown) => {}, { handle() {}, use() {} });
    expect(detectShape(connectLike)?.description).to.equal('connect app (detected)');
    expect(detectShape(new Hono())?.kind).to.equal('fetch');
    expect(detectShape({ fetch: () => new Response('x') })?.kind).to.equal('fetch');
    expect(detectShape((_req: Request) => new Response('x'))?.kind).to.equal('fetch');
    expect(detectShape((_env: unknown, _sr: unknown) => [])?.kind).to.equal('tsgi');
    expect(detectShape(42)).to.equal(null);
  });

  it('the explicit interface wins over the shape: a (req, res) listener with --interface node', async () => {
    const listener = (_req: unknown, res: { end(s: string): void }): void => res.end('node listener');
    const app = adaptApp(listener, 'node', 'default');
    expect(appShape(app)?.description).to.equal('node listener (--interface node)');
    expect((await inject(lint(app), '/')).text).to.equal('node listener');
  });

  it('loadApp applies the interface of the spec, and refuses what cannot be one', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-shape-'));
    try {
      writeFileSync(path.join(dir, 'fetch.mjs'), 'export default { fetch: (req) => new Response("from fetch " + new URL(req.url).pathname) };\n');
      writeFileSync(path.join(dir, 'listener.mjs'), 'export default function (req, res) { res.end("from node " + req.url); }\n');
      writeFileSync(path.join(dir, 'number.mjs'), 'export default 42;\n');
      const fetchApp = await loadApp('fetch.mjs', dir);
      expect(appShape(fetchApp)?.kind).to.equal('fetch');
      expect((await inject(lint(fetchApp), '/x')).text).to.equal('from fetch /x');
      const nodeApp = await loadApp({ spec: 'listener.mjs', module: 'listener.mjs', exportName: undefined, factory: false, interface: 'node' }, dir);
      expect((await inject(lint(nodeApp), '/y?z')).text).to.equal('from node /y?z');
      try {
        await loadApp({ spec: 'fetch.mjs', module: 'fetch.mjs', exportName: undefined, factory: false, interface: 'node' }, dir);
        expect.fail('loaded');
      } catch (err) {
        expect((err as { code?: string }).code).to.equal('TSGI_ERR_APP_LOAD');
        expect((err as Error).message).to.match(/not a function/);
      }
      await loadApp('number.mjs', dir).then(
        () => expect.fail('loaded'),
        (err: Error) => expect(err.message).to.match(/not an app/),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
