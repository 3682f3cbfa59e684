/**
 * The FastCGI idle timeout (a periodic sweep over the connections, not a timer per socket): idle keep-conn
 * connections and web servers that stall mid-request are closed; a slow app is not idle.
 */
import { expect } from 'chai';
import type { App } from '../app-api/types.js';
import { beginRecord, cgiParams, FcgiClient, nameValues, record, ROLE, T } from './support/fcgi-client.js';
import { startFcgiHarness, type FcgiHarness } from './support/fcgi-harness.js';

const IDLE_MS = 150;

/** Resolves true if `p` settles within `ms`, false otherwise (a bound on the wait, not a timing assertion). */
function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    p.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}

const slow: App = async (environ, startResponse) => {
  const ms = Number(new URLSearchParams(String(environ.QUERY_STRING)).get('ms') ?? '0');
  await new Promise((r) => setTimeout(r, ms));
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [Buffer.from(`slept ${ms}\n`)];
};

describe('FastCGI front: idle timeout', () => {
  let h: FcgiHarness;
  const clients: FcgiClient[] = [];
  const connect = async (): Promise<FcgiClient> => {
    const c = await FcgiClient.connect({ port: h.port });
    clients.push(c);
    return c;
  };
  before(async () => {
    h = await startFcgiHarness(slow, { idleTimeout: IDLE_MS });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
    expect(h.violations.map(String)).to.deep.equal([]);
  });
  after(() => h.server.close(1000));

  it('closes a keep-conn connection that stays idle after its request', async () => {
    const c = await connect();
    const r = await c.request({ params: cgiParams('GET', '/?ms=0') });
    expect(r.status).to.equal(200);
    expect(await within(c.closed, 20 * IDLE_MS), 'connection closed by the server').to.equal(true);
  });

  it('keeps a connection whose request runs longer than the idle timeout, then serves the next request on it', async () => {
    const c = await connect();
    const r = await c.request({ params: cgiParams('GET', '/?ms=' + String(6 * IDLE_MS)) });
    expect(r.status).to.equal(200);
    expect(r.body.toString()).to.equal(`slept ${6 * IDLE_MS}\n`);
    expect(c.connectionClosed).to.equal(false);
    const again = await c.request({ id: 2, params: cgiParams('GET', '/?ms=0') });
    expect(again.status).to.equal(200);
  });

  it('closes a connection whose web server stalls in the middle of FCGI_PARAMS', async () => {
    const c = await connect();
    // BEGIN and one PARAMS record, but never the empty PARAMS record that ends them.
    await c.write(Buffer.concat([beginRecord(1, ROLE.RESPONDER, true), record(T.PARAMS, 1, nameValues([['REQUEST_METHOD', 'GET']]))]));
    expect(await within(c.closed, 20 * IDLE_MS), 'connection closed by the server').to.equal(true);
  });

  it('idleTimeout: 0 never closes an idle connection', async () => {
    const h0 = await startFcgiHarness(slow, { idleTimeout: 0 });
    try {
      const c = await FcgiClient.connect({ port: h0.port });
      clients.push(c);
      expect((await c.request({ params: cgiParams('GET', '/?ms=0') })).status).to.equal(200);
      expect(await within(c.closed, 6 * IDLE_MS), 'connection closed').to.equal(false);
    } finally {
      await h0.server.close(1000);
    }
  });
});
