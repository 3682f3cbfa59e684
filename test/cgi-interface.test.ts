/** TSGI_INTERFACE, the CGI entry's `--interface`: unset is auto, a known name is taken, anything else is a clear TSGI_ERR_APP_LOAD. */
import { expect } from 'chai';
import { cgiInterface } from '../adapters/cgi/main.js';

describe('CGI entry: TSGI_INTERFACE', () => {
  it('unset or empty is auto; tsgi, fetch, node and auto are taken as they are', () => {
    expect(cgiInterface(undefined)).to.equal('auto');
    expect(cgiInterface('')).to.equal('auto');
    for (const name of ['auto', 'tsgi', 'fetch', 'node']) expect(cgiInterface(name)).to.equal(name);
  });

  it('another value names the variable and the choices', () => {
    expect(() => cgiInterface('express')).to.throw(/TSGI_INTERFACE=express is not an interface; set it to one of auto, tsgi, fetch, node/).with.property('code', 'TSGI_ERR_APP_LOAD');
  });
});
