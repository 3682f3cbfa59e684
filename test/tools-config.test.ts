/**
 * The CherryPy-style tool config: `[/path]` sections with `tools.NAME.*`, `[global]` with `log.*`. Names,
 * options and values are checked against the registry with errors naming the file, line, key and fix;
 * longer paths inherit and override shorter ones; `tsgi --help` and the README list every key of the
 * registry.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { inject } from '../gateway/core/inject.js';
import { lint } from '../app-api/lint.js';
import type { App } from '../app-api/types.js';
import { TOOLS } from '../app-api/tools/index.js';
import { loadConfig } from '../gateway/config/load.js';
import { helpText } from '../gateway/config/help.js';
import { readRegion } from '../gateway/docs.js';
import { applyTools } from '../gateway/tools/apply.js';
import { renderToolReference, toolKeys } from '../gateway/config/tools-docs.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('tools config: [/path] sections and log.* keys', () => {
  let dir: string;
  let n = 0;
  before(() => (dir = mkdtempSync(path.join(tmpdir(), 'tsgi-tools-config-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  function write(text: string): string {
    const file = path.join(dir, `t${++n}.cfg`);
    writeFileSync(file, text);
    return file;
  }
  const load = (text: string) => loadConfig(write(text));
  const fails = (text: string): string => {
    try {
      load(text);
    } catch (err) {
      expect((err as { code?: string }).code).to.equal('TSGI_ERR_CONFIG');
      return (err as Error).message;
    }
    throw new Error('expected a TSGI_ERR_CONFIG');
  };

  it('reads path sections, applies defaults, and lets a longer path inherit and override the shorter one', () => {
    const c = load('[server]\nsocketPort = 0\n[/]\ntools.sessions.on = 1\ntools.sessions.timeout = 5\ntools.timing.on = 1\n[/static]\ntools.sessions.on = 0\n[/admin]\ntools.sessions.timeout = 1\n[/admin/deep]\n');
    const byPath = Object.fromEntries(c.tools!.paths.map((p) => [p.path, p.tools.map((t) => `${t.name}${t.name === 'sessions' ? `:${String(t.options.timeout)}` : ''}`)]));
    expect(byPath).to.deep.equal({
      '/': ['timing', 'sessions:5'],
      '/static': ['timing'],
      '/admin': ['timing', 'sessions:1'],
      '/admin/deep': ['timing', 'sessions:1'],
    });
    expect(c.tools!.paths.map((p) => p.path)).to.deep.equal(['/admin/deep', '/static', '/admin', '/']);
  });

  it('log.* under [global] (or [server]); log.error_file becomes the error log; relative paths are relative to the config file', () => {
    const c = load('[server]\nsocketPort = 0\nlog.screen = 1\n[global]\nlog.access_file = logs/access.log\nlog.error_file = err.log\n');
    expect(c.tools!.log).to.deep.equal({ screen: true, accessFile: path.join(dir, 'logs/access.log'), errorFile: path.join(dir, 'err.log') });
    expect(c.server.errorLog).to.equal(path.join(dir, 'err.log'));
  });

  const errors: [string, string, RegExp][] = [
    ['an unknown tool, with the nearest name', '[/]\ntools.sesions.on = 1\n', /t\d+\.cfg line 2: unknown tool sesions in tools\.sesions\.on; did you mean tools\.sessions\.on\?/],
    ['an unknown option, with the nearest name', '[/]\ntools.sessions.on = 1\ntools.sessions.storage_typ = file\n', /line 3: unknown option storage_typ of tool sessions .*did you mean tools\.sessions\.storage_type\?/],
    ['a wrong type', '[/]\ntools.caching.on = 1\ntools.caching.maxobjects = many\n', /line 3: tools\.caching\.maxobjects must be an integer, got "many"/],
    ['a value outside the choices', '[/]\ntools.sessions.storage_type = disk\n', /line 2: tools\.sessions\.storage_type must be one of memory, file, redis, got "disk"/],
    ['a boolean that is not one', '[/]\ntools.timing.on = maybe\n', /line 2: tools\.timing\.on must be a boolean/],
    ['an unknown log key', '[global]\nlog.acces_file = a.log\n', /line 2: unknown key log\.acces_file in \[global\]; did you mean log\.access_file\?/],
    ['a non-tool key in a path section', '[/]\nfoo = 1\n', /line 2: foo in \[\/\]: a path section holds tool keys only/],
    ['a log key in a path section', '[/]\nlog.screen = 1\n', /log\.\* keys go under \[global\]/],
    ['a key given twice', '[/]\ntools.timing.on = 1\ntools.timing.on = 0\n', /line 3: tools\.timing\.on is set again \(first on line 2\)/],
    ['log.error_file and errorLog both', '[server]\nerrorLog = a.log\n[global]\nlog.error_file = b.log\n', /line 4: log\.error_file and errorLog \(line 2\) both set the error log; keep one/],
    ['a server option under [global] (CherryPy habit)', '[global]\nserver.socket_port = 8080\n', /unknown section \[global\].*socketPort/],
  ];
  for (const [what, text, re] of errors) {
    it(`refuses ${what}`, () => expect(fails(text)).to.match(re));
  }

  it('a tool that cannot start names the section: file storage without storage_path', () => {
    const c = load('[/]\ntools.sessions.on = 1\ntools.sessions.storage_type = file\n');
    expect(() => applyTools(((_e, s) => (s('200 OK', []), [])) as App, c.tools, { mode: 'single', warn: () => {} }))
      .to.throw(/t\d+\.cfg line 1 \[\/\]: tools\.sessions: .*storage_path/);
  });

  it('routes each request to the tools of the longest covering path', async () => {
    const c = load('[/]\ntools.timing.on = 1\n[/plain]\ntools.timing.on = 0\n');
    const app = lint(applyTools(lint(((_e, s) => (s('200 OK', [['Content-Type', 'text/plain']]), ['ok'])) as App), c.tools, { mode: 'single', warn: () => {} }));
    expect((await inject(app, '/x')).headers['server-timing']).to.match(/^app;dur=\d/);
    expect((await inject(app, '/plain')).headers['server-timing']).to.equal(undefined);
    expect((await inject(app, '/plain/a')).headers['server-timing']).to.equal(undefined);
    expect((await inject(app, '/plainer')).headers['server-timing'], 'whole segments only').to.match(/^app;dur=/);
  });

  it('examples/tools/server.cfg loads: every tool of the registry it names is on under [/]', () => {
    const c = loadConfig(path.join(ROOT, 'examples/tools/server.cfg'));
    const root = c.tools!.paths.find((p) => p.path === '/')!;
    expect(root.tools.map((t) => t.name)).to.deep.equal(['timing', 'sessions', 'caching', 'gzip']);
    expect(c.tools!.log.accessFile).to.equal(path.join(ROOT, 'examples/tools/access.log'));
  });

  it('tsgi --help and the README list every key of the registry', () => {
    const help = helpText();
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readRegion(readme, 'tool-reference'), 'README.md is out of date: run npm run docs:config').to.equal(renderToolReference());
    const keys = toolKeys().map(([k]) => k);
    for (const t of TOOLS) {
      expect(keys).to.include(`tools.${t.name}.on`);
      for (const o of Object.keys(t.options)) expect(keys).to.include(`tools.${t.name}.${o}`);
    }
    for (const k of [...keys, 'log.screen', 'log.access_file', 'log.error_file']) {
      expect(help, k).to.include(`  ${k} (`);
      expect(readme, k).to.include(`| \`${k}\` |`);
    }
  });
});
