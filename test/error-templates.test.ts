/**
 * Per-code message templates (app-api/errors.ts ERROR_TEMPLATES): every code has one (what went wrong and
 * the fix), every throw site builds its error from it with every placeholder filled (so one code always
 * reads the same and ends with the fix), real errors read that way, and the README's error-code table shows
 * every template.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ROOT, sources } from './support/source-files.js';
import ts from 'typescript';
import { ERROR_CODES, ERROR_STATUS, ERROR_TEMPLATES, errorMessage, isTsgiError, TsgiError, tsgiError, type TsgiErrorCode } from '../app-api/errors.js';
import { parseStatus } from '../app-api/headers.js';
import { lint } from '../app-api/lint.js';
import type { App } from '../app-api/types.js';
import { urlmap } from '../app-api/urlmap.js';
import { loadApp } from '../gateway/app-loader.js';
import { loadConfig } from '../gateway/config/load.js';
import { readRegion } from '../gateway/docs.js';
import { inject } from '../gateway/core/inject.js';

const root = ROOT;

/**
 * The places that may still write `new TsgiError(` themselves, each with its reason and its count (a new site
 * in one of these files fails too). Everything else in app-api/, gateway/ and adapters/ goes through
 * tsgiError(code, values), so its message is the code's template: what went wrong, then the fix.
 */
const DIRECT_SITES: Record<string, { count: number; why: string }> = {
  'app-api/errors.ts': { count: 1, why: 'tsgiError itself' },
  'gateway/process/worker-slot.ts': { count: 1, why: 'carries over the message a worker process built (from its template) before it died' },
  'gateway/threads/thread-slot.ts': { count: 1, why: 'carries over the load error message a pool thread built before it failed' },
};

/** Each `tsgiError('CODE', { ... })` (or `errorMessage`, as LintError's super call) in a source file: its code, the keys it fills, and where it is. */
function tsgiErrorCalls(file: string, text: string): { code: string; keys: Set<string> | null; at: string }[] {
  const out: { code: string; keys: Set<string> | null; at: string }[] = [];
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && (node.expression.text === 'tsgiError' || node.expression.text === 'errorMessage') && node.arguments.length > 0 && ts.isStringLiteral(node.arguments[0])) {
      const values = node.arguments[1];
      let keys: Set<string> | null = new Set();
      if (values !== undefined) {
        if (!ts.isObjectLiteralExpression(values)) keys = null;
        else {
          for (const prop of values.properties) {
            if (prop.name !== undefined && (ts.isIdentifier(prop.name) || ts.isStringLiteral(prop.name))) keys.add(prop.name.text);
            else keys = null;
            if (keys === null) break;
          }
        }
      }
      const { line } = sf.getLineAndCharacterOfPosition(node.getStart());
      out.push({ code: node.arguments[0].text, keys, at: `${path.relative(root, file)}:${line + 1}` });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The `{name}` placeholders of a code's template (message and fix). */
function placeholders(code: TsgiErrorCode): string[] {
  const t = ERROR_TEMPLATES[code];
  return [...`${t.message} ${t.fix}`.matchAll(/\{([a-z]+)\}/g)].map((m) => m[1]);
}

/** The error `fn` throws (or the promise rejects with). */
async function caught(fn: () => unknown): Promise<TsgiError> {
  try {
    await fn();
  } catch (err) {
    expect(err).to.be.instanceOf(TsgiError);
    return err as TsgiError;
  }
  throw new Error('expected a TsgiError');
}

/** The README table escapes `|` in cells, as gateway/docs.ts does. */
const cell = (s: string): string => s.replace(/\|/g, '\\|');

describe('error message templates', () => {
  const codes = Object.keys(ERROR_CODES) as TsgiErrorCode[];

  it('every code has a template with a message and a fix, and only codes of the table have one', () => {
    expect(Object.keys(ERROR_TEMPLATES).sort()).to.deep.equal([...codes].sort());
    for (const code of codes) {
      const t = ERROR_TEMPLATES[code];
      expect(t.message.trim(), `${code} message`).to.not.equal('');
      expect(t.fix.trim(), `${code} fix`).to.not.equal('');
      // Placeholders are {lowercase}; a stray brace would be printed as is.
      for (const text of [t.message, t.fix]) expect(text.replace(/\{[a-z]+\}/g, ''), code).to.not.match(/[{}]/);
    }
  });

  it('errorMessage fills the placeholders and ends with the fix; a missing value stays visible', () => {
    expect(errorMessage('TSGI_ERR_BAD_STATUS', { status: '"OK"' })).to.equal(`status "OK" is not "NNN Reason" with NNN in 200-599 and no CR/LF/NUL; ${ERROR_TEMPLATES.TSGI_ERR_BAD_STATUS.fix}`);
    expect(errorMessage('TSGI_ERR_NOT_YET', { feature: 'protocol = quic' })).to.equal('protocol = quic is not available in this version; {instead}');
    const err = tsgiError('TSGI_ERR_OVERLOAD', { problem: 'the queue is full' });
    expect(isTsgiError(err, 'TSGI_ERR_OVERLOAD')).to.equal(true);
    expect(err.status).to.equal(503);
    expect(err.message).to.equal(`the queue is full; ${ERROR_TEMPLATES.TSGI_ERR_OVERLOAD.fix}`);
  });

  it('no throw site writes its own message: every `new TsgiError(` left is listed with its reason', () => {
    const found: Record<string, number> = {};
    for (const f of ['app-api', 'gateway', 'adapters'].flatMap((d) => sources(path.join(root, d)))) {
      const n = readFileSync(f, 'utf8').split('new TsgiError(').length - 1;
      if (n > 0) found[path.relative(root, f).split(path.sep).join('/')] = n;
    }
    const expected = Object.fromEntries(Object.entries(DIRECT_SITES).map(([f, s]) => [f, s.count]));
    expect(found).to.deep.equal(expected);
  });

  it('every tsgiError call fills all of its template\'s placeholders, and every code is raised through its template', () => {
    const calls = ['app-api', 'gateway', 'adapters'].flatMap((d) => sources(path.join(root, d))).flatMap((f) => tsgiErrorCalls(f, readFileSync(f, 'utf8')));
    const unfilled: string[] = [];
    for (const c of calls) {
      expect(codes, `${c.at}: unknown code ${c.code}`).to.include(c.code);
      expect(c.keys, `${c.at}: give the values as an object literal, so they can be checked`).to.not.equal(null);
      for (const name of placeholders(c.code as TsgiErrorCode)) if (!c.keys!.has(name)) unfilled.push(`${c.at}: ${c.code} without {${name}}`);
    }
    expect(unfilled).to.deep.equal([]);
    const raised = new Set(calls.map((c) => c.code));
    expect(codes.filter((code) => !raised.has(code))).to.deep.equal([]);
  });

  it('real sites read "what went wrong; the fix" with nothing left unfilled: a bad config value, an app that fails to load, a bad mount', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-errtpl-'));
    try {
      const cfgFile = path.join(dir, 'bad.cfg');
      writeFileSync(cfgFile, '[server]\nsocketPort = 8080\nthreadPool = many\n');
      const bad = await caught(() => loadConfig(cfgFile));
      expect(bad.code).to.equal('TSGI_ERR_CONFIG');
      expect(bad.status).to.equal(ERROR_STATUS.TSGI_ERR_CONFIG);
      // File, line and option first, then the fix after "; ".
      expect(bad.message).to.match(/bad\.cfg line 3: threadPool must be an integer .*got "many"; write threadPool that way, or remove it to use the default$/);
      writeFileSync(cfgFile, '[server]\nsocketPort = 8080\nsocketPort = 8081\n');
      expect((await caught(() => loadConfig(cfgFile))).message).to.match(/bad\.cfg line 3: socketPort is set again \(first on line 2\); keep one$/);

      const none = path.join(dir, 'none.mjs');
      writeFileSync(none, 'export const helper = () => 1;\n');
      const noApp = await caught(() => loadApp(none, dir));
      expect(noApp.code).to.equal('TSGI_ERR_APP_LOAD');
      expect(noApp.message).to.equal(`${none}: exports neither app nor default; add \`export const app = (environ, startResponse) => ...\` or name the export as MODULE:EXPORT`);
      const notFn = path.join(dir, 'number.mjs');
      writeFileSync(notFn, 'export const app = 42;\n');
      expect((await caught(() => loadApp(notFn, dir))).message).to.equal(`${notFn}: app is a number, not an app; export a function (environ, startResponse) => body, a fetch handler or a Node listener`);
      const wrongExport = await caught(() => loadApp(`${none}:missing`, dir));
      expect(wrongExport.message).to.equal(`${none}:missing: has no export missing; name one of its function exports: helper`);

      const mount = await caught(() => urlmap({ 'app?x': lint(() => ['']) }));
      expect(mount.message).to.equal('urlmap: mount point "app?x" is neither a path nor an http(s):// URL; start it with \'/\' (e.g. /app) or write http://host/path');
      for (const err of [bad, noApp, wrongExport, mount]) expect(err.message, err.code).to.not.match(/\{[a-z]+\}/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a thrown error reads as its template: a bad status, and startResponse twice in a real request', async () => {
    expect(() => parseStatus('OK')).to.throw(errorMessage('TSGI_ERR_BAD_STATUS', { status: '"OK"' }));
    expect(() => parseStatus(200)).to.throw(errorMessage('TSGI_ERR_BAD_STATUS', { status: 'of type number' }));
    const twice: App = (_env, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return ['never'];
    };
    // Not under lint: lint stops this very mistake first with its own TSGI_ERR_LINT (checked below), and the
    // point here is the core's message.
    const res = await inject(twice);
    expect(res.status).to.equal(500);
    expect(res.errors).to.include('(TSGI_ERR_START_RESPONSE_TWICE)').and.include(errorMessage('TSGI_ERR_START_RESPONSE_TWICE'));
    expect((await inject(lint(twice))).errors).to.include('(TSGI_ERR_LINT)');
  });

  it("the README's error-code table shows each code's status, message template and fix", () => {
    const README = readFileSync(path.join(root, 'README.md'), 'utf8');
    const region = readRegion(README, 'error-codes') ?? '';
    for (const code of codes) {
      const row = region.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
      expect(row, code).to.be.a('string');
      expect(row!, code).to.include(cell(ERROR_TEMPLATES[code].message)).and.include(cell(ERROR_TEMPLATES[code].fix));
    }
  });
});
