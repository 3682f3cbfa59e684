/**
 * What a pool thread loads: its entry (gateway/threads/worker-main.ts) and, when a config feature is on,
 * gateway/features.ts; never serve.ts, the listeners, the adapters or fastify (a thread serves requests the
 * main thread parsed). Read from the compiled modules' static imports; the features table is the one module
 * the thread imports dynamically, so it is walked as a second entry.
 */
import path from 'node:path';
import { expect } from 'chai';
import { DIST, imports, reachable } from './support/import-walk.js';

const dist = DIST;
const walk = (entries: string[]): Set<string> => reachable(entries, { dynamic: true });

describe('pool thread imports', () => {
  it('a pool thread (with every feature on) loads neither serve.ts, the listeners, an adapter nor fastify', () => {
    const mods = walk(['gateway/threads/worker-main.js']);
    expect(mods.has('gateway/features.js'), 'the walk follows the features import').to.equal(true);
    expect(mods.has('app-api/xmlrpc/xmlrpc.js'), 'and the middleware behind it').to.equal(true);
    for (const heavy of ['gateway/serve.js', 'gateway/listeners.js', 'gateway/threads/thread-pool.js', 'fastify']) expect(mods.has(heavy)).to.equal(false, `${heavy} is imported`);
    expect([...mods].filter((m) => m.startsWith('adapters/'))).to.deep.equal([]);
  });

  it('run-mode.ts does not import serve.ts at run time (its import of it is for types only)', () => {
    const { staticOnes, dynamic } = imports(path.join(dist, 'gateway/threads/run-mode.js'));
    expect([...staticOnes, ...dynamic].filter((s) => s.endsWith('serve.js'))).to.deep.equal([]);
  });
});
