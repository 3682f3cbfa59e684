/** gateway/environ.ts: CGI variables from HTTP and from gateway peers, the mount split, path decoding. */
import { expect } from 'chai';
import { isTsgiError, type TsgiError } from '../app-api/errors.js';
import { buildEnviron, cgiFromGateway, cgiFromHttp, decodePath, splitMount, type HttpRequestHead } from '../gateway/core/environ.js';
import { emptyInput } from '../app-api/input.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';

function head(url: string, rawHeaders: string[] = ['Host', 'example.test:8080'], extra: Partial<HttpRequestHead> = {}): HttpRequestHead {
  return { method: 'GET', url, httpVersion: '1.1', rawHeaders, remoteAddress: '127.0.0.1', remotePort: 40000, localAddress: '127.0.0.1', localPort: 8080, scheme: 'http', ...extra };
}

/** The TsgiError `fn` throws (fails the test when it throws nothing or something else). */
function refusal(fn: () => unknown): TsgiError {
  try {
    fn();
  } catch (err) {
    expect(isTsgiError(err, 'TSGI_ERR_BAD_REQUEST'), String(err)).to.equal(true);
    return err as TsgiError;
  }
  expect.fail('expected a TSGI_ERR_BAD_REQUEST');
}

describe('environ', () => {
  describe('decodePath', () => {
    it('decodes %20 and UTF-8', () => {
      expect(decodePath('/a%20b/caf%C3%A9')).to.equal('/a b/café');
    });
    it('decodes %2F into a slash and %0a into a line feed', () => {
      expect(decodePath('/a%2Fb')).to.equal('/a/b');
      expect(decodePath('/x%0ay')).to.equal('/x\ny');
    });
    it('leaves a path without escapes as is (same string)', () => {
      const p = '/plain/path';
      expect(decodePath(p)).to.equal(p);
    });
    it('refuses NUL with a 400', () => {
      expect(refusal(() => decodePath('/a%00b')).status).to.equal(400);
    });
    it('refuses invalid UTF-8 and bad escapes with a 400', () => {
      for (const raw of ['/a%C3', '/a%FF', '/%C3%28', '/a%zz', '/a%2']) expect(refusal(() => decodePath(raw)).status, raw).to.equal(400);
    });
  });

  describe('splitMount', () => {
    it('at the root everything is PATH_INFO', () => {
      expect(splitMount('/x', '')).to.deep.equal(['', '/x']);
      expect(splitMount('/x', '/')).to.deep.equal(['', '/x']);
    });
    it('under a mount: SCRIPT_NAME is the mount, PATH_INFO the rest', () => {
      expect(splitMount('/app/x/y', '/app')).to.deep.equal(['/app', '/x/y']);
      expect(splitMount('/app/', '/app')).to.deep.equal(['/app', '/']);
      expect(splitMount('/app', '/app')).to.deep.equal(['/app', '']);
    });
    it('a path outside the mount is a 404, including a shared prefix that is not a segment', () => {
      for (const p of ['/other', '/application', '/', '/ap']) expect(refusal(() => splitMount(p, '/app')).status, p).to.equal(404);
    });
  });

  describe('cgiFromHttp', () => {
    it('fills the RFC 3875 variables', () => {
      const cgi = cgiFromHttp(head('/p/q?a=%20b&c'));
      expect(cgi).to.include({
        REQUEST_METHOD: 'GET',
        SCRIPT_NAME: '',
        PATH_INFO: '/p/q',
        QUERY_STRING: 'a=%20b&c',
        REQUEST_URI: '/p/q?a=%20b&c',
        SERVER_NAME: 'example.test',
        SERVER_PORT: '8080',
        SERVER_PROTOCOL: 'HTTP/1.1',
        GATEWAY_INTERFACE: 'CGI/1.1',
        REMOTE_ADDR: '127.0.0.1',
        REMOTE_PORT: '40000',
        HTTP_HOST: 'example.test:8080',
      });
      expect(cgi.HTTPS).to.equal(undefined);
    });

    it('HTTPS=on for https and HTTP/2 as the protocol', () => {
      const cgi = cgiFromHttp(head('/', ['Host', 'h'], { scheme: 'https', httpVersion: '2.0' }));
      expect(cgi.HTTPS).to.equal('on');
      expect(cgi.SERVER_PROTOCOL).to.equal('HTTP/2');
    });

    it('applies the mount: SCRIPT_NAME/PATH_INFO, 404 outside', () => {
      const cgi = cgiFromHttp(head('/app/x%2Fy?q'), { scriptName: '/app' });
      expect([cgi.SCRIPT_NAME, cgi.PATH_INFO, cgi.QUERY_STRING]).to.deep.equal(['/app', '/x/y', 'q']);
      expect(refusal(() => cgiFromHttp(head('/elsewhere'), { scriptName: '/app' })).status).to.equal(404);
    });

    it('refuses NUL and invalid UTF-8 in the path with a 400', () => {
      expect(refusal(() => cgiFromHttp(head('/a%00'))).status).to.equal(400);
      expect(refusal(() => cgiFromHttp(head('/a%E9'))).status).to.equal(400);
    });

    it('does not decode the query: a %00 there is the app\'s business', () => {
      expect(cgiFromHttp(head('/?x=%00')).QUERY_STRING).to.equal('x=%00');
    });

    it('absolute-form targets keep the path; other non-path targets are a 400', () => {
      const cgi = cgiFromHttp(head('http://example.test/a/b?c'));
      expect([cgi.PATH_INFO, cgi.QUERY_STRING]).to.deep.equal(['/a/b', 'c']);
      expect(cgiFromHttp(head('http://example.test')).PATH_INFO).to.equal('/');
      expect(refusal(() => cgiFromHttp(head('example.test:443'))).status).to.equal(400);
    });

    it('CONTENT_TYPE / CONTENT_LENGTH without HTTP_, other headers as HTTP_*', () => {
      const cgi = cgiFromHttp(head('/', ['Host', 'h', 'Content-Type', 'text/plain', 'Content-Length', '3', 'Accept-Language', 'fr', 'x-lower', 'v']));
      expect(cgi).to.include({ CONTENT_TYPE: 'text/plain', CONTENT_LENGTH: '3', HTTP_ACCEPT_LANGUAGE: 'fr', HTTP_X_LOWER: 'v' });
      expect(cgi).to.not.have.any.keys('HTTP_CONTENT_TYPE', 'HTTP_CONTENT_LENGTH');
    });

    it('drops header names with _ (X_Forwarded_For cannot shadow X-Forwarded-For), in either order', () => {
      for (const raw of [['X_Forwarded_For', 'evil', 'X-Forwarded-For', 'good'], ['X-Forwarded-For', 'good', 'X_Forwarded_For', 'evil']]) {
        expect(cgiFromHttp(head('/', ['Host', 'h', ...raw])).HTTP_X_FORWARDED_FOR).to.equal('good');
      }
      expect(cgiFromHttp(head('/', ['Host', 'h', 'X_Forwarded_For', 'evil']))).to.not.have.property('HTTP_X_FORWARDED_FOR');
    });

    it('drops Proxy: (httpoxy), whatever its case', () => {
      for (const name of ['Proxy', 'proxy', 'PROXY']) expect(cgiFromHttp(head('/', ['Host', 'h', name, 'http://evil:3128']))).to.not.have.property('HTTP_PROXY');
    });

    it('joins repeated headers with ", " and cookies with "; "', () => {
      const cgi = cgiFromHttp(head('/', ['Host', 'h', 'X-Multi', 'a', 'x-multi', 'b', 'Cookie', 'a=1', 'Cookie', 'b=2']));
      expect(cgi.HTTP_X_MULTI).to.equal('a, b');
      expect(cgi.HTTP_COOKIE).to.equal('a=1; b=2');
    });

    it('SERVER_NAME from Host without the port, IPv6 literal kept in brackets, local address without Host', () => {
      expect(cgiFromHttp(head('/', ['Host', 'EXAMPLE.test:81'])).SERVER_NAME).to.equal('example.test');
      expect(cgiFromHttp(head('/', ['Host', '[::1]:8080'])).SERVER_NAME).to.equal('[::1]');
      expect(cgiFromHttp(head('/', [], { httpVersion: '1.0' })).SERVER_NAME).to.equal('127.0.0.1');
    });
  });

  describe('cgiFromGateway', () => {
    const base = { REQUEST_METHOD: 'POST', SCRIPT_NAME: '', PATH_INFO: '/x', QUERY_STRING: 'q', SERVER_NAME: 's', SERVER_PORT: '80', SERVER_PROTOCOL: 'HTTP/1.1', REMOTE_ADDR: '10.0.0.1' };

    it('drops HTTP_PROXY and HTTP_CONTENT_TYPE / HTTP_CONTENT_LENGTH', () => {
      const cgi = cgiFromGateway({ ...base, HTTP_PROXY: 'http://evil', HTTP_CONTENT_TYPE: 'x', HTTP_CONTENT_LENGTH: '9', HTTP_ACCEPT: '*/*' });
      expect(cgi).to.not.have.any.keys('HTTP_PROXY', 'HTTP_CONTENT_TYPE', 'HTTP_CONTENT_LENGTH');
      expect(cgi.HTTP_ACCEPT).to.equal('*/*');
    });

    it('removes empty CONTENT_LENGTH / CONTENT_TYPE and fills required keys', () => {
      const cgi = cgiFromGateway({ CONTENT_LENGTH: '', CONTENT_TYPE: '' });
      expect(cgi).to.not.have.any.keys('CONTENT_LENGTH', 'CONTENT_TYPE');
      expect(cgi).to.include({ REQUEST_METHOD: 'GET', QUERY_STRING: '', SERVER_PROTOCOL: 'HTTP/1.0', SCRIPT_NAME: '', PATH_INFO: '' });
    });

    it('SCRIPT_NAME "/" becomes ""', () => {
      expect(cgiFromGateway({ ...base, SCRIPT_NAME: '/', PATH_INFO: 'x' }).SCRIPT_NAME).to.equal('');
    });

    it('re-splits at the app\'s mount (nginx sends the whole path as SCRIPT_NAME)', () => {
      const cgi = cgiFromGateway({ ...base, SCRIPT_NAME: '/app/a/b', PATH_INFO: '' }, { scriptName: '/app' });
      expect([cgi.SCRIPT_NAME, cgi.PATH_INFO]).to.deep.equal(['/app', '/a/b']);
    });

    it('a path outside the mount is a 404', () => {
      expect(refusal(() => cgiFromGateway({ ...base, SCRIPT_NAME: '', PATH_INFO: '/other' }, { scriptName: '/app' })).status).to.equal(404);
    });

    it('NUL in SCRIPT_NAME or PATH_INFO is a 400', () => {
      expect(refusal(() => cgiFromGateway({ ...base, PATH_INFO: '/a\0b' })).status).to.equal(400);
      expect(refusal(() => cgiFromGateway({ ...base, SCRIPT_NAME: '/s\0' })).status).to.equal(400);
    });
  });

  describe('buildEnviron', () => {
    it('adds the tsgi.* keys to the CGI variables', () => {
      const input = emptyInput();
      const errors = new ErrorLog(new MemoryLog());
      const env = buildEnviron(cgiFromHttp(head('/', ['Host', 'h'], { scheme: 'https' })), { input, errors, multithread: true, multiprocess: false, runOnce: false, appConfig: { a: '1' } });
      expect(env['tsgi.version']).to.deep.equal([1, 0]);
      expect(env['tsgi.url_scheme']).to.equal('https');
      expect(env['tsgi.input']).to.equal(input);
      expect(env['tsgi.errors']).to.equal(errors);
      expect(env['tsgi.multithread']).to.equal(true);
      expect(env['tsgi.multiprocess']).to.equal(false);
      expect(env['tsgi.run_once']).to.equal(false);
      expect(env['tsgi.input_terminated']).to.equal(true);
      expect(env['tsgi.app_config']).to.deep.equal({ a: '1' });
    });

    it('url_scheme is http without HTTPS and https with HTTPS=1', () => {
      const ctx = { input: emptyInput(), errors: new ErrorLog(new MemoryLog()), multithread: false, multiprocess: false, runOnce: false, appConfig: {} };
      expect(buildEnviron(cgiFromGateway({}), ctx)['tsgi.url_scheme']).to.equal('http');
      expect(buildEnviron(cgiFromGateway({ HTTPS: '1' }), ctx)['tsgi.url_scheme']).to.equal('https');
    });
  });
});
