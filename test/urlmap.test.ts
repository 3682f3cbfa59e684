/** app-api/urlmap.ts: longest prefix on segment boundaries, host entries, SCRIPT_NAME/PATH_INFO, 404, no leaks. */
import { expect } from 'chai';
import { isTsgiError } from '../app-api/errors.js';
import { inject, type InjectRequest } from '../gateway/core/inject.js';
import { lint, type LintError } from '../app-api/lint.js';
import type { App } from '../app-api/types.js';
import { urlmap } from '../app-api/urlmap.js';

/** An app that says who it is and what it was given. */
function named(name: string): App {
  return (env, sr) => {
    sr('200 OK', [['Content-Type', 'application/json']]);
    return [JSON.stringify({ name, SCRIPT_NAME: env.SCRIPT_NAME, PATH_INFO: env.PATH_INFO })];
  };
}

interface Seen {
  name: string;
  SCRIPT_NAME: string;
  PATH_INFO: string;
}

describe('urlmap', () => {
  let violations: LintError[];
  const onViolation = (e: LintError): void => void violations.push(e);
  beforeEach(() => {
    violations = [];
  });
  afterEach(() => {
    expect(violations.map((e) => e.message)).to.deep.equal([]);
  });

  /** Request through lint on both sides of the map (and of each mounted app). */
  async function get(map: Record<string, App>, req: InjectRequest | string): Promise<Seen | number> {
    const linted: Record<string, App> = {};
    for (const [k, app] of Object.entries(map)) linted[k] = lint(app, { onViolation });
    const res = await inject(lint(urlmap(linted), { onViolation }), req);
    return res.status === 200 ? res.json<Seen>() : res.status;
  }

  const map = { '/': named('root'), '/app': named('app'), '/app/admin': named('admin') };

  it('sends a path to the longest matching prefix and splits SCRIPT_NAME / PATH_INFO there', async () => {
    expect(await get(map, '/app/admin/users')).to.deep.equal({ name: 'admin', SCRIPT_NAME: '/app/admin', PATH_INFO: '/users' });
    expect(await get(map, '/app/x')).to.deep.equal({ name: 'app', SCRIPT_NAME: '/app', PATH_INFO: '/x' });
    expect(await get(map, '/other')).to.deep.equal({ name: 'root', SCRIPT_NAME: '', PATH_INFO: '/other' });
  });

  it('matches the prefix itself with an empty PATH_INFO, and a trailing slash with PATH_INFO "/"', async () => {
    expect(await get(map, '/app')).to.deep.equal({ name: 'app', SCRIPT_NAME: '/app', PATH_INFO: '' });
    expect(await get(map, '/app/')).to.deep.equal({ name: 'app', SCRIPT_NAME: '/app', PATH_INFO: '/' });
    expect(await get(map, '/app/admin?x=1')).to.deep.equal({ name: 'admin', SCRIPT_NAME: '/app/admin', PATH_INFO: '' });
  });

  it('matches on segment boundaries only: /application is not under /app', async () => {
    expect(await get(map, '/application')).to.deep.equal({ name: 'root', SCRIPT_NAME: '', PATH_INFO: '/application' });
    expect(await get(map, '/app/administrator')).to.deep.equal({ name: 'app', SCRIPT_NAME: '/app', PATH_INFO: '/administrator' });
  });

  it('answers 404 when nothing matches (no root entry)', async () => {
    expect(await get({ '/app': named('app') }, '/nope')).to.equal(404);
    expect(await get({ '/app': named('app') }, '/ap')).to.equal(404);
    const res = await inject(urlmap({ '/app': named('app') }), '/nope');
    expect(res.text).to.equal('Not Found\n');
  });

  it('treats "/app/" like "/app" and "/" as the root', async () => {
    expect(await get({ '/app/': named('app') }, '/app/x')).to.deep.equal({ name: 'app', SCRIPT_NAME: '/app', PATH_INFO: '/x' });
    expect(await get({ '/': named('root') }, '/')).to.deep.equal({ name: 'root', SCRIPT_NAME: '', PATH_INFO: '/' });
  });

  it('appends to the SCRIPT_NAME the server already set (mounted map)', async () => {
    expect(await get(map, { url: '/base/app/x', scriptName: '/base' })).to.deep.equal({ name: 'app', SCRIPT_NAME: '/base/app', PATH_INFO: '/x' });
  });

  it('matches on decoded paths', async () => {
    expect(await get({ '/caf\u00e9': named('cafe') }, '/caf%C3%A9/menu')).to.deep.equal({ name: 'cafe', SCRIPT_NAME: '/caf\u00e9', PATH_INFO: '/menu' });
  });

  it('tries host entries first, matching Host (with port) or SERVER_NAME, case-insensitively', async () => {
    const hosts = { '/x': named('any'), 'http://host.example/x': named('host'), 'http://other.example:8080/': named('other-8080') };
    expect(await get(hosts, { url: '/x/1', headers: { Host: 'host.example' } })).to.deep.equal({ name: 'host', SCRIPT_NAME: '/x', PATH_INFO: '/1' });
    expect(await get(hosts, { url: '/x/1', headers: { Host: 'HOST.example:8080' } })).to.deep.equal({ name: 'host', SCRIPT_NAME: '/x', PATH_INFO: '/1' });
    expect(await get(hosts, { url: '/x/1', headers: { Host: 'elsewhere.example' } })).to.deep.equal({ name: 'any', SCRIPT_NAME: '/x', PATH_INFO: '/1' });
    expect(await get(hosts, { url: '/y', headers: { Host: 'other.example:8080' } })).to.deep.equal({ name: 'other-8080', SCRIPT_NAME: '', PATH_INFO: '/y' });
    expect(await get(hosts, { url: '/y', headers: { Host: 'other.example:9090' } })).to.equal(404);
  });

  it('gives the mounted app a copy: the caller never sees the changed SCRIPT_NAME / PATH_INFO or keys the app adds', async () => {
    const seenByCaller: string[] = [];
    const inner = urlmap({
      '/app': (env, sr) => {
        env['app.touched'] = 'yes';
        return named('app')(env, sr);
      },
    });
    const outer: App = (env, sr) => {
      const body = inner(env, sr);
      seenByCaller.push(env.SCRIPT_NAME, env.PATH_INFO, String(env['app.touched']));
      return body;
    };
    const res = await inject(lint(outer, { onViolation }), '/app/x');
    expect(res.json<Seen>()).to.deep.equal({ name: 'app', SCRIPT_NAME: '/app', PATH_INFO: '/x' });
    expect(seenByCaller).to.deep.equal(['', '/app/x', 'undefined']);
  });

  it('passes async apps and streaming bodies through untouched', async () => {
    const streaming: App = async (_env, sr) => {
      sr('200 OK', []);
      return (async function* () {
        yield 'a';
        yield 'b';
      })();
    };
    const res = await inject(lint(urlmap({ '/s': lint(streaming, { onViolation }) }), { onViolation }), '/s');
    expect(res.text).to.equal('ab');
  });

  it('refuses a map it cannot use, naming the key', () => {
    const bads: Array<Record<string, App>> = [{ app: named('x') }, { 'ftp://h/x': named('x') }, { '/a?b': named('x') }, { '/a': 'not an app' as unknown as App }];
    for (const bad of bads) {
      let caught: unknown;
      try {
        urlmap(bad);
      } catch (err) {
        caught = err;
      }
      expect(isTsgiError(caught, 'TSGI_ERR_CONFIG'), JSON.stringify(Object.keys(bad))).to.equal(true);
      expect((caught as Error).message).to.include(JSON.stringify(Object.keys(bad)[0]));
    }
  });
});
