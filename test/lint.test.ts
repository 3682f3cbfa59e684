/**
 * app-api/lint.ts: every rule the lint checks fails at least once here (a broken environ or fake server for
 * the server-side rules, a broken app for the app-side ones), the error names the rule, the side and the
 * SPEC.md section, and well-behaved apps come out of lint() with the very same response.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { isTsgiError } from '../app-api/errors.js';
import { inject, type InjectRequest, type InjectResponse } from '../gateway/core/inject.js';
import { lint, LintError, LINT_RULES, type LintRuleId } from '../app-api/lint.js';
import type { App, Body, Environ, InputStream, StartResponse } from '../app-api/types.js';
import { buildEnviron, cgiFromGateway, cgiFromHttp } from '../gateway/core/environ.js';
import { BodyInput } from '../app-api/input.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';

const covered = new Set<LintRuleId>();

/** Assert `err` is the LintError of `rule`, with the side and section in its message. */
function checkLint(err: unknown, rule: LintRuleId): LintError {
  expect(err, `expected a violation of ${rule}`).to.be.instanceOf(LintError);
  const e = err as LintError;
  expect(isTsgiError(e, 'TSGI_ERR_LINT')).to.equal(true);
  const r = LINT_RULES[rule];
  expect(e.message).to.include(`tsgi lint [${rule}] ${r.side}:`);
  expect(e.message).to.include(`(SPEC.md #${r.section})`);
  expect(e.rule).to.equal(rule);
  expect(e.side).to.equal(r.side);
  covered.add(rule);
  return e;
}

function expectLint(fn: () => unknown, rule: LintRuleId): LintError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  return checkLint(caught, rule);
}

async function expectLintAsync(fn: () => unknown, rule: LintRuleId): Promise<LintError> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  return checkLint(caught, rule);
}

/**
 * Run a broken app under lint through the real gateway core: the violation is reported, logged, and the
 * client gets a 500 (or an aborted response when headers were already out).
 */
async function appViolation(app: App, rule: LintRuleId, req: InjectRequest | string = '/'): Promise<InjectResponse> {
  const seen: LintError[] = [];
  const res = await inject(lint(app, { onViolation: (e) => seen.push(e) }), req);
  checkLint(seen.find((e) => e.rule === rule), rule);
  expect(res.errors).to.include(`tsgi lint [${rule}] app:`);
  expect(res.status === 500 || res.aborted, `status ${res.status}`).to.equal(true);
  return res;
}

const DELETE = Symbol('delete');

/** A valid environ, as the gateway builds it, with keys overridden (or deleted with DELETE). */
function makeEnv(over: Record<string, unknown> = {}, body = ''): { env: Environ; log: MemoryLog } {
  const cgi = cgiFromHttp({ method: 'GET', url: '/p?q=1', httpVersion: '1.1', rawHeaders: ['Host', 'example.test'], remoteAddress: '127.0.0.1', remotePort: 40000, localPort: 80, scheme: 'http' });
  const log = new MemoryLog();
  const env = buildEnviron(cgi, { input: BodyInput.fromBuffer(Buffer.from(body)), errors: new ErrorLog(log), multithread: false, multiprocess: false, runOnce: false, appConfig: {} });
  for (const [k, v] of Object.entries(over)) {
    if (v === DELETE) delete env[k];
    else env[k] = v;
  }
  return { env, log };
}

/** A server's startResponse that accepts anything: for driving the lint by hand. */
const acceptingStart: StartResponse = () => () => {};

const hello: App = (_env, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return ['hello'];
};

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('lint', () => {
  after(() => {
    // Every rule of the table must have failed at least once above.
    const missing = Object.keys(LINT_RULES).filter((id) => !covered.has(id as LintRuleId));
    expect(missing, 'rules without a failing test').to.deep.equal([]);
  });

  describe('SPEC.md and the rule table agree', () => {
    const spec = readFileSync(new URL('../../app-api/SPEC.md', import.meta.url), 'utf8');
    const sections = new Map<string, string>();
    let anchor = '';
    for (const line of spec.split('\n')) {
      const m = /^#{1,3} (.*)$/.exec(line);
      if (m !== null) {
        anchor = m[1].toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-');
        sections.set(anchor, '');
      } else sections.set(anchor, (sections.get(anchor) ?? '') + line + '\n');
    }

    it('states every linted rule, marked (lint), in the section the lint cites', () => {
      for (const [id, rule] of Object.entries(LINT_RULES)) {
        const text = sections.get(rule.section);
        expect(text, `SPEC.md has no section #${rule.section}`).to.be.a('string');
        expect(text, `[${id}] is not in SPEC.md #${rule.section}`).to.match(new RegExp(`\\*\\*\\[${id.replace('.', '\\.')}\\]\\*\\* \\*\\(lint\\)\\*`));
      }
    });

    it('has a lint rule for every id SPEC.md marks (lint)', () => {
      const marked = [...spec.matchAll(/\*\*\[([a-z0-9.-]+)\]\*\* \*\(lint\)\*/g)].map((m) => m[1]);
      expect(marked.length).to.be.greaterThan(30);
      for (const id of marked) expect(LINT_RULES, id).to.have.property(id);
    });
  });

  describe('well-behaved apps pass through unchanged', () => {
    const stream = (...parts: string[]): AsyncIterable<string> => (async function* () { yield* parts; })();
    const apps: Record<string, [App, () => InjectRequest]> = {
      'an array body': [hello, () => ({ url: '/' })],
      'a Buffer chunk and a string chunk': [(_e, sr) => (sr('200 OK', []), [Buffer.from('a'), '\u00e9']), () => ({ url: '/' })],
      'a sync generator that calls startResponse in its first step, with empty chunks': [
        (_e, sr) => (function* () {
          yield ''; // an empty chunk sends nothing, so startResponse may still come after it
          sr('200 OK', []);
          yield 'gen';
          yield '';
          yield 'erator';
        })(),
        () => ({ url: '/' }),
      ],
      'an async generator body': [
        (_e, sr) => {
          sr('200 OK', [['Content-Type', 'text/plain']]);
          return (async function* () {
            yield 'one ';
            yield Buffer.from('two');
          })();
        },
        () => ({ url: '/' }),
      ],
      'an async app (promise body)': [
        async (env, sr) => {
          const body = await env['tsgi.input'].read();
          sr('201 Created', [['Content-Length', String(body.length)]]);
          return [body];
        },
        () => ({ method: 'POST', url: '/', body: 'posted' }),
      ],
      'write() then an empty body': [
        (_e, sr) => {
          const write = sr('200 OK', []);
          write('written ');
          write(Buffer.from('bytes'));
          return [];
        },
        () => ({ url: '/' }),
      ],
      'the excInfo path before headers': [
        (_e, sr) => {
          sr('200 OK', [['Content-Type', 'text/html']]);
          try {
            throw new Error('template failed');
          } catch (err) {
            sr('500 Internal Server Error', [['Content-Type', 'text/plain']], err);
            return ['sorry'];
          }
        },
        () => ({ url: '/' }),
      ],
      'a HEAD with a Content-Length for the GET body': [(_e, sr) => (sr('200 OK', [['Content-Length', '5']]), []), () => ({ method: 'HEAD', url: '/' })],
      'a 304 with the Content-Length of the representation': [(_e, sr) => (sr('304 Not Modified', [['Content-Length', '1234']]), []), () => ({ url: '/' })],
      'input read by read(n), readline() and iteration': [
        async (env, sr) => {
          const input = env['tsgi.input'];
          const a = await input.read(2);
          const line = await input.readline();
          const rest: Buffer[] = [];
          for await (const c of input) rest.push(c);
          sr('200 OK', []);
          return [`${a}|${line}|${Buffer.concat(rest)}`];
        },
        () => ({ method: 'POST', url: '/', body: stream('ab', 'cd\nef', 'gh') }),
      ],
    };
    for (const [name, [app, req]] of Object.entries(apps)) {
      it(name, async () => {
        const seen: LintError[] = [];
        const plain = await inject(app, req());
        const linted = await inject(lint(app, { onViolation: (e) => seen.push(e) }), req());
        expect(seen.map((e) => e.message)).to.deep.equal([]);
        expect(linted.status).to.equal(plain.status);
        expect(linted.headerList).to.deep.equal(plain.headerList);
        expect(linted.text).to.equal(plain.text);
        expect(linted.aborted).to.equal(false);
        expect(linted.errors).to.equal('');
        await turn(); // the close() check runs one turn later
        expect(seen.map((e) => e.message)).to.deep.equal([]);
      });
    }

    it('answers what the app meant: excInfo replaces the first response, read order is kept', async () => {
      const res = await inject(lint(apps['the excInfo path before headers'][0]), '/');
      expect(res.status).to.equal(500);
      expect(res.text).to.equal('sorry');
      const input = await inject(lint(apps['input read by read(n), readline() and iteration'][0]), apps['input read by read(n), readline() and iteration'][1]());
      expect(input.text).to.equal('ab|cd\n|efgh');
    });

    it('keeps the gateway framing: HEAD has the Content-Length of the GET and no body', async () => {
      const head = await inject(lint(hello), { method: 'HEAD', url: '/' });
      expect(head.headers['content-length']).to.equal('5');
      expect(head.body.length).to.equal(0);
    });

    it('forwards close() to the body exactly once', async () => {
      let closes = 0;
      const app: App = (_e, sr) => {
        sr('200 OK', []);
        return Object.assign((async function* () { yield 'x'; })(), { close: () => void closes++ });
      };
      const res = await inject(lint(app), '/');
      expect(res.text).to.equal('x');
      expect(closes).to.equal(1);
    });

    it('checks a middleware on both sides when a second lint() sits under it', async () => {
      const upper = (app: App): App => (env, sr) => app({ ...env, 'mw.seen': true }, sr);
      const seen: LintError[] = [];
      const res = await inject(lint(upper(lint(hello, { onViolation: (e) => seen.push(e) })), { onViolation: (e) => seen.push(e) }), '/');
      expect(res.text).to.equal('hello');
      await turn();
      expect(seen).to.deep.equal([]);
    });

    it('accepts the environ the gateway builds from HTTP, for every request shape', async () => {
      const seen: LintError[] = [];
      const app = lint(hello, { onViolation: (e) => seen.push(e) });
      const requests: InjectRequest[] = [
        { url: '/a%20b/caf%C3%A9?x=1' },
        { url: 'https://secure.example:8443/x', headers: { Cookie: ['a=1', 'b=2'] } },
        { method: 'POST', url: '/up', body: 'data', headers: { 'Content-Type': 'text/plain', Proxy: 'http://evil', X_Forwarded_For: '6.6.6.6' } },
        { method: 'PUT', url: '/stream', body: (async function* () { yield 'a'; })() },
        { url: '/app/x', scriptName: '/app', httpVersion: '1.0' },
        { url: '/h2', httpVersion: '2.0' },
      ];
      for (const r of requests) expect((await inject(app, r)).status, r.url).to.equal(200);
      expect(seen.map((e) => e.message)).to.deep.equal([]);
    });

    it('accepts the environ the gateway builds from FastCGI-style params (nginx fastcgi_params)', () => {
      const cgi = cgiFromGateway({
        QUERY_STRING: 'a=1', REQUEST_METHOD: 'GET', CONTENT_TYPE: '', CONTENT_LENGTH: '', SCRIPT_NAME: '/app', REQUEST_URI: '/app/x?a=1',
        DOCUMENT_URI: '/app/x', DOCUMENT_ROOT: '/srv', SERVER_PROTOCOL: 'HTTP/1.1', REQUEST_SCHEME: 'http', GATEWAY_INTERFACE: 'CGI/1.1',
        SERVER_SOFTWARE: 'nginx/1.22.1', REMOTE_ADDR: '127.0.0.1', REMOTE_PORT: '51234', SERVER_ADDR: '127.0.0.1', SERVER_PORT: '8080',
        SERVER_NAME: 'example.test', HTTP_HOST: 'example.test:8080', HTTP_PROXY: 'http://evil', PATH_INFO: '/x',
      }, { scriptName: '/app' });
      const log = new MemoryLog();
      const env = buildEnviron(cgi, { input: BodyInput.fromBuffer(Buffer.alloc(0)), errors: new ErrorLog(log), multithread: true, multiprocess: false, runOnce: false, appConfig: {} });
      const body = lint(hello)(env, acceptingStart) as Body;
      expect([...(body as Iterable<string>)]).to.deep.equal(['hello']);
    });

    it('lets readSync throw TSGI_ERR_SYNC_INPUT on the event loop (not a lint violation)', async () => {
      const app: App = (env, sr) => {
        try {
          env['tsgi.input'].readSync();
        } catch (err) {
          sr('200 OK', []);
          return [isTsgiError(err, 'TSGI_ERR_SYNC_INPUT') ? 'sync refused' : String(err)];
        }
        sr('200 OK', []);
        return ['read'];
      };
      const res = await inject(lint(app), { method: 'POST', url: '/', body: (async function* () { yield 'x'; })() });
      expect(res.text).to.equal('sync refused');
    });
  });

  describe('server side: the environ', () => {
    const cases: Array<[LintRuleId, Record<string, unknown>]> = [
      ['env.required', { PATH_INFO: DELETE }],
      ['env.required', { 'tsgi.input': DELETE }],
      ['env.cgi-string', { REMOTE_PORT: 40000 }],
      ['env.cgi-string', { HTTP_ACCEPT: null }],
      ['env.request-method', { REQUEST_METHOD: 'GE T' }],
      ['env.request-method', { REQUEST_METHOD: '' }],
      ['env.script-name', { SCRIPT_NAME: '/app/' }],
      ['env.script-name', { SCRIPT_NAME: '/' }],
      ['env.script-name', { SCRIPT_NAME: 'app' }],
      ['env.path-info', { PATH_INFO: 'x' }],
      ['env.content-length', { CONTENT_LENGTH: '12a' }],
      ['env.content-length', { CONTENT_LENGTH: '' }],
      ['env.http-content', { HTTP_CONTENT_TYPE: 'text/plain' }],
      ['env.http-content', { HTTP_CONTENT_LENGTH: '3' }],
      ['env.httpoxy', { HTTP_PROXY: 'http://evil.example' }],
      ['env.server-name', { SERVER_NAME: '' }],
      ['env.server-port', { SERVER_PORT: '80a' }],
      ['env.server-protocol', { SERVER_PROTOCOL: 'HTTP/one' }],
      ['env.remote-port', { REMOTE_PORT: '-1' }],
      ['env.https', { HTTPS: 'on' }],
      ['env.https', { HTTPS: 'off', 'tsgi.url_scheme': 'https' }],
      ['env.version', { 'tsgi.version': [1, 1] }],
      ['env.version', { 'tsgi.version': '1.0' }],
      ['env.url-scheme', { 'tsgi.url_scheme': 'ftp' }],
      ['env.input', { 'tsgi.input': { read: async () => Buffer.alloc(0) } }],
      ['env.errors', { 'tsgi.errors': { write() {} } }],
      ['env.flags', { 'tsgi.multithread': 1 }],
      ['env.flags', { 'tsgi.input_terminated': 'true' }],
      ['env.app-config', { 'tsgi.app_config': { port: 8080 } }],
      ['env.app-config', { 'tsgi.app_config': null }],
    ];
    for (const [rule, over] of cases) {
      it(`${rule}: ${JSON.stringify(over, (_k, v) => (v === DELETE ? '<deleted>' : typeof v === 'function' ? '<fn>' : v))}`, () => {
        const seen: LintError[] = [];
        const err = expectLint(() => lint(hello, { onViolation: (e) => seen.push(e) })(makeEnv(over).env, acceptingStart), rule);
        expect(err.message).to.include('] server:');
        expect(seen).to.deep.equal([err]);
      });
    }

    it('env.type: the environ is an object', () => {
      expectLint(() => lint(hello)(null as unknown as Environ, acceptingStart), 'env.type');
    });

    it('env.type: the environ is a plain object, not a class instance; the fronts\' environs (built with room, gateway/core/cgi-object.ts) are', async () => {
      class Env {}
      const classy = Object.assign(new Env(), makeEnv({}).env) as unknown as Environ;
      expectLint(() => lint(hello)(classy, acceptingStart), 'env.type');
      let proto: unknown;
      const res = await inject(lint((env, sr) => {
        proto = Object.getPrototypeOf(env);
        return hello(env, sr);
      }), { url: '/', headers: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`x-header-${i}`, String(i)])) });
      expect(res.status).to.equal(200);
      expect(proto).to.equal(Object.prototype);
    });

    it('through the real gateway a broken environ becomes a 500 whose log names the server side', async () => {
      const breaker = (app: App): App => (env, sr) => app({ ...env, SCRIPT_NAME: '/' }, sr);
      const res = await inject(breaker(lint(hello)), '/');
      expect(res.status).to.equal(500);
      expect(res.errors).to.include('tsgi lint [env.script-name] server:');
    });
  });

  describe('server side: calls, startResponse, body and input', () => {
    it('server.call: startResponse must be a function', () => {
      expectLint(() => lint(hello)(makeEnv().env, undefined as unknown as StartResponse), 'server.call');
    });

    it('server.write-callable: startResponse must return write', () => {
      expectLint(() => lint(hello)(makeEnv().env, (() => undefined) as unknown as StartResponse), 'server.write-callable');
    });

    it('server.exc-info-rethrow: after headers went out, startResponse(excInfo) must throw', () => {
      const app: App = (_e, sr) => (function* () {
        sr('200 OK', []);
        yield 'first';
        sr('500 Internal Server Error', [], new Error('late failure'));
        yield 'never';
      })();
      const body = lint(app)(makeEnv().env, acceptingStart) as Iterable<string>;
      const it = body[Symbol.iterator]();
      expect(it.next().value).to.equal('first');
      expectLint(() => it.next(), 'server.exc-info-rethrow');
    });

    it('body.close-once: close() twice is caught', () => {
      const body = lint(hello)(makeEnv().env, acceptingStart) as Body;
      body.close!();
      const err = expectLint(() => body.close!(), 'body.close-once');
      expect(err.message).to.include('] server:').and.include('2 times');
    });

    it('body.close-once: a server that iterates to the end and never closes is reported to tsgi.errors', async () => {
      const { env, log } = makeEnv();
      const app: App = (_e, sr) => (sr('200 OK', []), (function* () { yield 'a'; })());
      const body = lint(app)(env, acceptingStart) as Iterable<string>;
      expect([...body]).to.deep.equal(['a']);
      await turn();
      expect(log.text).to.include('tsgi lint [body.close-once] server:').and.include('did not call its close()');
      covered.add('body.close-once');
    });

    it('body.close-once: a server that stops early and never closes is reported to onViolation', async () => {
      const seen: LintError[] = [];
      const app: App = (_e, sr) => (sr('200 OK', []), (async function* () { yield 'a'; yield 'b'; })());
      const body = lint(app, { onViolation: (e) => seen.push(e) })(makeEnv().env, acceptingStart) as AsyncIterable<string>;
      for await (const chunk of body) {
        expect(chunk).to.equal('a');
        break; // calls return()
      }
      await turn();
      expect(seen.map((e) => e.rule)).to.deep.equal(['body.close-once']);
      checkLint(seen[0], 'body.close-once');
    });

    it('body.after-close: next() after done', () => {
      const app: App = (_e, sr) => (sr('200 OK', []), (function* () { yield 'a'; })());
      const it = (lint(app)(makeEnv().env, acceptingStart) as Iterable<string>)[Symbol.iterator]();
      it.next();
      expect(it.next().done).to.equal(true);
      expectLint(() => it.next(), 'body.after-close');
    });

    it('body.after-close: next() after close()', async () => {
      const app: App = (_e, sr) => (sr('200 OK', []), (async function* () { yield 'a'; yield 'b'; })());
      const body = lint(app)(makeEnv().env, acceptingStart) as AsyncIterable<string> & Body;
      const it = body[Symbol.asyncIterator]();
      await it.next();
      body.close!();
      await expectLintAsync(() => it.next(), 'body.after-close');
    });

    it('body.concurrent-next: a second next() before the first resolved', async () => {
      const app: App = (_e, sr) => (sr('200 OK', []), (async function* () { yield 'a'; yield 'b'; })());
      const it = (lint(app)(makeEnv().env, acceptingStart) as AsyncIterable<string>)[Symbol.asyncIterator]();
      const first = it.next();
      await expectLintAsync(() => it.next(), 'body.concurrent-next');
      expect((await first).value).to.equal('a');
    });

    const badInput = (over: Partial<InputStream>): InputStream => {
      const good = BodyInput.fromBuffer(Buffer.from('abc\ndef'));
      return Object.assign(
        {
          read: (n?: number) => good.read(n),
          readline: (n?: number) => good.readline(n),
          readSync: (n?: number) => good.readSync(n),
          [Symbol.asyncIterator]: () => good[Symbol.asyncIterator](),
        },
        over,
      );
    };
    const reader = (use: (input: InputStream) => unknown): App => async (env, sr) => {
      await use(env['tsgi.input']);
      sr('200 OK', []);
      return [];
    };

    it('input.result: read(n) giving more than n bytes', async () => {
      const input = badInput({ read: async () => Buffer.from('too many bytes') });
      await expectLintAsync(() => lint(reader((i) => i.read(3)))(makeEnv({ 'tsgi.input': input }).env, acceptingStart), 'input.result');
    });

    it('input.result: readline() going past the first LF', async () => {
      const input = badInput({ readline: async () => Buffer.from('abc\ndef') });
      await expectLintAsync(() => lint(reader((i) => i.readline()))(makeEnv({ 'tsgi.input': input }).env, acceptingStart), 'input.result');
    });

    it('input.result: read() giving a string', async () => {
      const input = badInput({ read: async () => 'text' as unknown as Buffer });
      await expectLintAsync(() => lint(reader((i) => i.read()))(makeEnv({ 'tsgi.input': input }).env, acceptingStart), 'input.result');
    });

    it('input.sync-error: readSync() failing with something other than a TsgiError', async () => {
      const input = badInput({ readSync: () => { throw new Error('EAGAIN: resource temporarily unavailable'); } });
      await expectLintAsync(() => lint(reader((i) => i.readSync()))(makeEnv({ 'tsgi.input': input }).env, acceptingStart), 'input.sync-error');
    });
  });

  describe('app side', () => {
    it('app.signature: lint() needs a function', () => {
      expectLint(() => lint('app' as unknown as App), 'app.signature');
    });

    it('input.read-arg: read("10")', async () => {
      await appViolation(async (env, sr) => {
        await env['tsgi.input'].read('10' as unknown as number);
        sr('200 OK', []);
        return [];
      }, 'input.read-arg', { method: 'POST', url: '/', body: 'x' });
    });

    it('input.read-arg: readline(1.5)', async () => {
      await appViolation(async (env, sr) => {
        await env['tsgi.input'].readline(1.5);
        sr('200 OK', []);
        return [];
      }, 'input.read-arg', { method: 'POST', url: '/', body: 'x' });
    });

    it('input.concurrent: two reads at once', async () => {
      await appViolation(async (env, sr) => {
        const input = env['tsgi.input'];
        await Promise.all([input.read(1), input.read(1)]);
        sr('200 OK', []);
        return [];
      }, 'input.concurrent', { method: 'POST', url: '/', body: (async function* () { yield 'ab'; })() });
    });

    it('input.after-response: reading the body after the response ended', async () => {
      let kept: InputStream | undefined;
      const app: App = (env, sr) => {
        kept = env['tsgi.input'];
        sr('200 OK', []);
        return ['done'];
      };
      const res = await inject(lint(app), { method: 'POST', url: '/', body: 'late' });
      expect(res.text).to.equal('done');
      await expectLintAsync(() => kept!.read(), 'input.after-response');
    });

    it('errors.write-arg: tsgi.errors.write(an Error)', async () => {
      await appViolation((env, sr) => {
        env['tsgi.errors'].write(new Error('oops') as unknown as string);
        sr('200 OK', []);
        return [];
      }, 'errors.write-arg');
    });

    const statuses: unknown[] = ['200', 'OK', '99 Low', '2000 Big', '103 Early Hints', '200 OK\r\nX-Injected: 1', 200];
    for (const status of statuses) {
      it(`response.status: ${JSON.stringify(status)}`, async () => {
        await appViolation((_e, sr) => (sr(status as string, []), []), 'response.status');
      });
    }

    const headerCases: Array<[LintRuleId, unknown]> = [
      ['response.headers', { 'Content-Type': 'text/plain' }],
      ['response.headers', [['Content-Type', 'text/plain', 'extra']]],
      ['response.headers', [['X-Number', 5]]],
      ['response.headers', ['Content-Type: text/plain']],
      ['response.header-name', [['X A', '1']]],
      ['response.header-name', [['X-A:', '1']]],
      ['response.header-name', [['', '1']]],
      ['response.header-value', [['X-A', 'a\r\nSet-Cookie: evil=1']]],
      ['response.header-value', [['X-A', 'a\nb']]],
      ['response.header-value', [['X-A', 'a\0b']]],
      ['response.header-value', [['X-A', 'snowman \u2603']]],
      ['response.hop-by-hop', [['Connection', 'close']]],
      ['response.hop-by-hop', [['Transfer-Encoding', 'chunked']]],
      ['response.hop-by-hop', [['keep-alive', 'timeout=5']]],
      ['response.hop-by-hop', [['Upgrade', 'websocket']]],
      ['response.status-header', [['Status', '302 Found']]],
      ['response.content-length', [['Content-Length', 'abc']]],
      ['response.content-length', [['Content-Length', '-1']]],
      ['response.content-length', [['Content-Length', '2'], ['Content-Length', '3']]],
    ];
    for (const [rule, headers] of headerCases) {
      it(`${rule}: ${JSON.stringify(headers)}`, async () => {
        const res = await appViolation((_e, sr) => (sr('200 OK', headers as never), ['ab']), rule);
        expect(res.status).to.equal(500);
        expect(res.headerList.map(([n]) => n.toLowerCase())).to.not.include('set-cookie');
      });
    }

    it('response.content-length: a body longer than declared', async () => {
      await appViolation((_e, sr) => (sr('200 OK', [['Content-Length', '2']]), ['abc']), 'response.content-length');
    });

    it('response.content-length: a streamed body shorter than declared (counts UTF-8 bytes)', async () => {
      await appViolation((_e, sr) => {
        sr('200 OK', [['Content-Length', '3']]);
        return (async function* () { yield 'é'; })(); // 2 bytes
      }, 'response.content-length');
    });

    it('response.content-length: write() and chunks count together', async () => {
      await appViolation((_e, sr) => {
        const write = sr('200 OK', [['Content-Length', '3']]);
        write('ab');
        return ['cd'];
      }, 'response.content-length');
    });

    it('response.start-twice: a second startResponse without excInfo', async () => {
      await appViolation((_e, sr) => {
        sr('200 OK', []);
        sr('404 Not Found', []);
        return [];
      }, 'response.start-twice');
    });

    it('response.exc-info: swallowing the error startResponse re-threw and sending more body', async () => {
      const res = await appViolation((_e, sr) => (function* () {
        sr('200 OK', []);
        yield 'partial';
        try {
          sr('500 Internal Server Error', [], new Error('late'));
        } catch {
          /* swallowed: the bug */
        }
        yield 'more';
      })(), 'response.exc-info');
      expect(res.aborted).to.equal(true);
      expect(res.text).to.equal('partial');
    });

    it('response.write-after-end: write() after the server closed the body', async () => {
      let write: ((c: string) => unknown) | undefined;
      const res = await inject(lint((_e, sr) => {
        write = sr('200 OK', []);
        return ['done'];
      }), '/');
      expect(res.text).to.equal('done');
      expectLint(() => write!('late'), 'response.write-after-end');
    });

    it('response.start-before-body: an array without startResponse', async () => {
      await appViolation(() => ['no status'], 'response.start-before-body');
    });

    it('response.start-before-body: a generator yielding before startResponse', async () => {
      await appViolation((_e, sr) => (function* () {
        yield 'too early';
        sr('200 OK', []);
      })(), 'response.start-before-body');
    });

    it('response.start-before-body: a body that ends without startResponse', async () => {
      await appViolation(() => (async function* () {})(), 'response.start-before-body');
    });

    const badBodies: Array<[string, unknown]> = [
      ['a bare string', 'hello'],
      ['a bare Buffer', Buffer.from('hello')],
      ['null', null],
      ['undefined', undefined],
      ['a number', 42],
      ['a plain object', { body: 'x' }],
    ];
    for (const [name, value] of badBodies) {
      it(`body.type: ${name}`, async () => {
        await appViolation((_e, sr) => (sr('200 OK', []), value as Body), 'body.type');
      });
    }

    it('body.type: a promise of a string', async () => {
      await appViolation(async (_e, sr) => (sr('200 OK', []), 'hello' as unknown as Body), 'body.type');
    });

    const badChunks: Array<[string, App]> = [
      ['a number in an array', (_e, sr) => (sr('200 OK', []), [42 as unknown as string])],
      ['an object from a generator', (_e, sr) => (sr('200 OK', []), (function* () { yield {} as unknown as string; })())],
      ['null from an async generator', (_e, sr) => (sr('200 OK', []), (async function* () { yield null as unknown as string; })())],
      ['a number passed to write()', (_e, sr) => (sr('200 OK', [])(7 as unknown as string), [])],
    ];
    for (const [name, app] of badChunks) {
      it(`body.chunk-type: ${name}`, async () => {
        await appViolation(app, 'body.chunk-type');
      });
    }
  });
});
