/**
 * Per-code message templates (app-api/errors.ts ERROR_TEMPLATES): every code has one (what went wrong and
 * the fix), the throw sites of the templated codes build their errors from it (so one code always reads the
 * same), a real request shows the template's text, and the README's error-code table shows every template.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { ERROR_CODES, ERROR_TEMPLATES, errorMessage, isTsgiError, tsgiError, type TsgiErrorCode } from '../app-api/errors.js';
import { parseStatus } from '../app-api/headers.js';
import { lint } from '../app-api/lint.js';
import type { App } from '../app-api/types.js';
import { readRegion } from '../gateway/docs.js';
import { inject } from '../gateway/core/inject.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Codes whose every throw site uses its template (tsgiError); the others' sites still word their own detail. */
const TEMPLATED_EVERYWHERE: TsgiErrorCode[] = [
  'TSGI_ERR_BAD_STATUS',
  'TSGI_ERR_START_RESPONSE_TWICE',
  'TSGI_ERR_NO_START_RESPONSE',
  'TSGI_ERR_BAD_CHUNK',
  'TSGI_ERR_CONTENT_LENGTH_MISMATCH',
  'TSGI_ERR_WRITE_AFTER_END',
  'TSGI_ERR_INPUT_BUSY',
  'TSGI_ERR_BRIDGE_UNSUPPORTED',
  'TSGI_ERR_PROTOCOL',
];

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

  it('the templated codes are raised only through their template (no hand-written message left)', () => {
    const files = ['app-api', 'gateway', 'adapters'].flatMap((d) => sources(path.join(root, d)));
    const handWritten: string[] = [];
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      for (const code of TEMPLATED_EVERYWHERE) if (new RegExp(`new TsgiError\\(\\s*'${code}'`).test(text)) handWritten.push(`${path.relative(root, f)}: ${code}`);
    }
    expect(handWritten).to.deep.equal([]);
    const all = files.map((f) => readFileSync(f, 'utf8')).join('\n');
    for (const code of TEMPLATED_EVERYWHERE) expect(all, code).to.match(new RegExp(`tsgiError\\(\\s*'${code}'`));
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
