/**
 * The error catalogue (app-api/errors.ts): every code carries its HTTP status, a TsgiError takes it unless
 * the throw site overrides it, and every documented code is raised somewhere (a code nobody raises is a
 * promise the docs make and the code does not keep).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ROOT, sources } from './support/source-files.js';
import { ERROR_CODES, ERROR_STATUS, TsgiError, type TsgiErrorCode } from '../app-api/errors.js';

const root = ROOT;

describe('error catalogue', () => {
  const codes = Object.keys(ERROR_CODES) as TsgiErrorCode[];

  it('gives every code an HTTP status, and only codes of the table', () => {
    expect(Object.keys(ERROR_STATUS).sort()).to.deep.equal([...codes].sort());
    for (const code of codes) expect(ERROR_STATUS[code], code).to.be.within(400, 599);
  });

  it('a TsgiError answers with its code\'s status unless the throw site says otherwise', () => {
    expect(new TsgiError('TSGI_ERR_OVERLOAD', 'full').status).to.equal(503);
    expect(new TsgiError('TSGI_ERR_BAD_REQUEST', 'bad').status).to.equal(400);
    expect(new TsgiError('TSGI_ERR_TIMEOUT', 'slow app').status).to.equal(504);
    expect(new TsgiError('TSGI_ERR_TIMEOUT', 'idle body', { status: 408 }).status).to.equal(408);
  });

  it('every documented code is raised somewhere in the shipped code', () => {
    const text = ['app-api', 'gateway', 'adapters'].flatMap((d) => sources(path.join(root, d))).map((f) => readFileSync(f, 'utf8')).join('\n');
    // `new TsgiError('CODE', ...)`, `tsgiError('CODE', ...)` (the code's template), or `super('CODE', ...)` in a
    // TsgiError subclass (LintError).
    const neverRaised = codes.filter((code) => !new RegExp(`([Tt]sgiError|super)\\(\\s*'${code}'`).test(text));
    expect(neverRaised).to.deep.equal([]);
  });
});
