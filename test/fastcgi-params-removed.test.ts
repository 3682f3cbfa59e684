/**
 * The variables cgiFromGateway removes (empty CONTENT_LENGTH / CONTENT_TYPE, HTTP_PROXY, HTTP_CONTENT_*)
 * are left out by the FastCGI params parser already (so the environ object keeps fast properties): the
 * environ an app sees must be the same either way.
 */
import { expect } from 'chai';
import { parseParams } from '../adapters/fastcgi/params.js';
import { cgiFromGateway, removedFromGateway } from '../gateway/core/environ.js';
import { nameValues } from './support/fcgi-client.js';

describe('removedFromGateway', () => {
  it('names the variables cgiFromGateway removes, and only those', () => {
    const cases: [string, string, boolean][] = [
      ['CONTENT_LENGTH', '', true],
      ['CONTENT_TYPE', '', true],
      ['CONTENT_LENGTH', '0', false],
      ['CONTENT_TYPE', 'text/plain', false],
      ['HTTP_PROXY', 'http://evil:3128', true],
      ['HTTP_PROXY', '', true],
      ['HTTP_CONTENT_TYPE', 'x', true],
      ['HTTP_CONTENT_LENGTH', '5', true],
      ['HTTP_HOST', '', false],
      ['QUERY_STRING', '', false],
    ];
    for (const [name, value, removed] of cases) {
      expect(removedFromGateway(name, value), `${name}=${JSON.stringify(value)}`).to.equal(removed);
      // The same verdict as cgiFromGateway itself on an object that has the variable.
      const cleaned = cgiFromGateway({ [name]: value });
      expect(name in cleaned, `cgiFromGateway keeps ${name}=${JSON.stringify(value)}`).to.equal(!removed);
    }
  });
});

describe('FastCGI parseParams: variables cgiFromGateway would remove', () => {
  const nginxGet: [string, string][] = [
    ['QUERY_STRING', ''],
    ['REQUEST_METHOD', 'GET'],
    ['CONTENT_TYPE', ''],
    ['CONTENT_LENGTH', ''],
    ['SCRIPT_NAME', ''],
    ['PATH_INFO', '/'],
    ['HTTP_PROXY', 'http://evil.example:3128'],
    ['HTTP_HOST', 'example.org'],
  ];

  it('leaves out the empty CONTENT_LENGTH / CONTENT_TYPE nginx sends with a GET, and HTTP_PROXY', () => {
    const p = parseParams(nameValues(nginxGet));
    expect(p).to.deep.equal({ QUERY_STRING: '', REQUEST_METHOD: 'GET', SCRIPT_NAME: '', PATH_INFO: '/', HTTP_HOST: 'example.org' });
  });

  it('gives the same cleaned CGI variables as parsing everything and letting cgiFromGateway remove them', () => {
    const all: Record<string, string> = {};
    for (const [n, v] of nginxGet) all[n] = v;
    expect(cgiFromGateway(parseParams(nameValues(nginxGet)))).to.deep.equal(cgiFromGateway(all));
  });

  it('a later empty CONTENT_LENGTH removes an earlier value (the later one wins, then it is removed); a later value replaces an earlier empty one', () => {
    expect(parseParams(nameValues([['CONTENT_LENGTH', '5'], ['CONTENT_LENGTH', '']]))).to.not.have.property('CONTENT_LENGTH');
    expect(parseParams(nameValues([['CONTENT_LENGTH', ''], ['CONTENT_LENGTH', '5']]))).to.deep.equal({ CONTENT_LENGTH: '5' });
    expect(parseParams(nameValues([['CONTENT_TYPE', 'text/plain'], ['CONTENT_TYPE', '']]))).to.deep.equal({});
  });
});
