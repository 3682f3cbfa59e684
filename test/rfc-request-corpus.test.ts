/**
 * The raw-request corpus (test/fixtures/requests/): every invalid request gets its expected status and a
 * closed connection, and the app never answers it; every valid one is served as its file says. Run
 * against the built-in HTTP front in single mode (inline dispatcher) and in threadPool mode (the app in a
 * pool thread), over real loopback sockets, with llhttp strict (no insecureHTTPParser anywhere in tsgi).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { startHttpServer, type HttpServer } from '../adapters/http/server.js';
import { InlineDispatcher, type Dispatcher } from '../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { ThreadPoolDispatcher } from '../gateway/threads/thread-pool.js';
import { app } from './fixtures/requests/app.js';
import { loadCorpus, sendRaw, type CorpusCase } from './support/request-corpus.js';

const INVALID = loadCorpus('invalid');
const VALID = loadCorpus('valid');
const POOL_APP = fileURLToPath(new URL('./fixtures/requests/app.js', import.meta.url));

interface Mode {
  name: string;
  dispatcher(log: ErrorLog): Promise<Dispatcher>;
}

const MODES: Mode[] = [
  { name: 'single', dispatcher: async (log) => new InlineDispatcher(app, { log }) },
  {
    name: 'threadPool=1',
    dispatcher: async (log) => {
      const pool = new ThreadPoolDispatcher({ app: POOL_APP, log, size: 1 });
      await pool.start();
      return pool;
    },
  },
];

async function checkInvalid(port: number, c: CorpusCase): Promise<void> {
  const x = await sendRaw(port, c.bytes, { halfClose: c.halfClose });
  const seen = x.responses.map((r) => r.status);
  expect(x.closed, `${c.name}: the server must close the connection (got ${JSON.stringify(seen)})`).to.equal(true);
  if (c.status === 0) {
    expect(seen, `${c.name}: closed without an answer`).to.deep.equal([]);
    expect(x.rest.length, `${c.name}: no bytes at all`).to.equal(0);
  } else {
    // Exactly one answer: a second one would mean bytes after the bad request were read as a request.
    expect(seen, `${c.name}: ${c.why}`).to.deep.equal([c.status]);
  }
}

async function checkValid(port: number, c: CorpusCase): Promise<void> {
  const x = await sendRaw(port, c.bytes, { wantResponses: c.responses, halfClose: c.halfClose });
  expect(x.responses.map((r) => r.status), `${c.name}: ${c.why}`).to.deep.equal(new Array(c.responses).fill(c.status));
  const env = JSON.parse(x.responses[0].body.toString('latin1')) as Record<string, string>;
  for (const [key, value] of c.env) expect(env[key], `${c.name}: ${key}`).to.equal(value);
  for (const key of c.envAbsent) expect(env, `${c.name}: ${key} must be absent`).to.not.have.property(key);
  if (c.body !== undefined) expect(env.body, `${c.name}: the body the app read`).to.equal(c.body);
}

describe('RFC 9110/9112: the raw-request corpus against the built-in HTTP front', function () {
  this.timeout(120_000);

  it('the corpus is complete: every file parses, with an expectation, and covers the classes of the issue', () => {
    const names = INVALID.map((c) => c.name);
    expect(INVALID.length).to.be.greaterThan(70);
    expect(VALID.length).to.be.greaterThan(15);
    for (const prefix of ['method-', 'version-', 'target-', 'host-', 'cl-te-', 'cl-duplicate', 'cl-plus', 'te-obfuscated', 'te-in-http10', 'header-bare', 'request-bare-lf', 'header-space-before-colon', 'header-obs-fold', 'header-nul', 'chunk-size-overflow', 'chunk-ext-', 'trailer-', 'content-type-conflict']) {
      expect(names.some((n) => n.startsWith(prefix)), `a case named ${prefix}*`).to.equal(true);
    }
  });

  it('tsgi never turns on insecureHTTPParser (llhttp stays strict)', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(root + dir)) {
        const rel = `${dir}/${entry}`;
        if (statSync(root + rel).isDirectory()) walk(rel);
        else if (rel.endsWith('.ts') && /insecureHTTPParser\s*:|insecure-http-parser/.test(readFileSync(root + rel, 'utf8'))) offenders.push(rel);
      }
    };
    for (const dir of ['adapters', 'gateway', 'app-api']) walk(dir);
    expect(offenders).to.deep.equal([]);
  });

  for (const mode of MODES) {
    describe(mode.name, () => {
      let server: HttpServer;
      let dispatcher: Dispatcher | undefined;
      const memory = new MemoryLog();
      before(async () => {
        const log = new ErrorLog(memory);
        dispatcher = await mode.dispatcher(log);
        server = await startHttpServer(dispatcher, { port: 0, log });
      });
      after(async () => {
        await server?.close(500);
        await dispatcher?.close();
      });

      for (const c of INVALID) {
        it(`invalid/${c.name}: ${c.status === 0 ? 'closed, no answer' : c.status + (c.close ? ' and close' : '')}`, () => checkInvalid(server.port, c));
      }
      for (const c of VALID) {
        it(`valid/${c.name}: ${c.responses} x ${c.status}`, () => checkValid(server.port, c));
      }

      it('after the whole corpus the server still serves, and logged what tsgi refused itself', async () => {
        const ok = VALID.find((c) => c.name === 'get-simple')!;
        await checkValid(server.port, ok);
        expect(memory.text).to.include('more than one Host header');
        expect(memory.text).to.include('Transfer-Encoding in an HTTP/1.0 request');
      });
    });
  }
});
