/**
 * adapters/proxy: the trusted-proxy rules as one table, in the manner of waitress's test_proxy_headers: a
 * request from a peer with some forwarded headers, the options, and what the app then sees in its environ
 * (through the real core: cgiFromHttp, buildEnviron, the lint validator).
 */
import { expect } from 'chai';
import type { App, Environ } from '../app-api/types.js';
import { lint } from '../app-api/lint.js';
import { TrustedProxyDispatcher, type TrustedProxyOptions } from '../adapters/proxy/dispatcher.js';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { cgiFromGateway, cgiFromHttp } from '../gateway/core/environ.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { FakeSink } from './support/fake-sink.js';

interface Row {
  name: string;
  peer?: string;
  headers: Record<string, string>;
  opts?: Omit<TrustedProxyOptions, 'log'>;
  scriptName?: string;
  url?: string;
  /** Expected environ values; `undefined` means the key must be absent. */
  expect: Record<string, string | undefined>;
  /** A substring the log must contain. */
  logs?: string;
}

const ALL_FORGED = {
  'X-Forwarded-For': '6.6.6.6',
  'X-Forwarded-Proto': 'https',
  'X-Forwarded-Host': 'evil.test',
  'X-Forwarded-Port': '443',
  'X-Forwarded-Prefix': '/evil',
  Forwarded: 'for=6.6.6.6;proto=https;host=evil.test',
};
const NO_FORWARDED = {
  HTTP_X_FORWARDED_FOR: undefined,
  HTTP_X_FORWARDED_PROTO: undefined,
  HTTP_X_FORWARDED_HOST: undefined,
  HTTP_X_FORWARDED_PORT: undefined,
  HTTP_X_FORWARDED_PREFIX: undefined,
  HTTP_FORWARDED: undefined,
};
const EVERY_HEADER = { trustedProxyHeaders: 'x-forwarded-for,x-forwarded-proto,x-forwarded-host,x-forwarded-port,x-forwarded-prefix,forwarded' };

const TABLE: Row[] = [
  { name: 'untrusted peer forging every header: socket peer, every forwarded header removed', peer: '127.0.0.2', headers: ALL_FORGED, opts: EVERY_HEADER,
    expect: { REMOTE_ADDR: '127.0.0.2', REMOTE_PORT: '40000', 'tsgi.url_scheme': 'http', HTTP_HOST: 'app.test', SCRIPT_NAME: '', SERVER_PORT: '8080', 'tsgi.proxy_addr': undefined, ...NO_FORWARDED },
    logs: 'not a trusted proxy, removed: HTTP_X_FORWARDED_FOR, HTTP_X_FORWARDED_PROTO, HTTP_X_FORWARDED_HOST, HTTP_X_FORWARDED_PORT, HTTP_X_FORWARDED_PREFIX, HTTP_FORWARDED' },
  { name: 'trusted peer, one X-Forwarded-For hop', headers: { 'X-Forwarded-For': '192.0.2.7' },
    expect: { REMOTE_ADDR: '192.0.2.7', REMOTE_PORT: undefined, 'tsgi.proxy_addr': '127.0.0.1', HTTP_X_FORWARDED_FOR: '192.0.2.7' } },
  { name: 'walk stops at the first untrusted hop: the forged left part is not read', headers: { 'X-Forwarded-For': 'junk, 6.6.6.6, 192.0.2.7' },
    expect: { REMOTE_ADDR: '192.0.2.7' } },
  { name: 'a chain of trusted proxies (CIDR) is walked through', opts: { trustedProxies: '127.0.0.1, 10.0.0.0/8' }, headers: { 'X-Forwarded-For': '6.6.6.6, 192.0.2.7, 10.1.2.3, 10.0.0.9' },
    expect: { REMOTE_ADDR: '192.0.2.7', 'tsgi.proxy_addr': '127.0.0.1' } },
  { name: 'every hop trusted: the leftmost is the client', opts: { trustedProxies: '127.0.0.1, 10.0.0.0/8' }, headers: { 'X-Forwarded-For': '10.0.0.1, 10.0.0.2' },
    expect: { REMOTE_ADDR: '10.0.0.1' } },
  { name: 'IPv6 hops and an IPv6 trusted peer', peer: '::1', headers: { 'X-Forwarded-For': '2001:db8::7' },
    expect: { REMOTE_ADDR: '2001:db8::7', 'tsgi.proxy_addr': '::1' } },
  { name: 'a hop that is not an address: warning, socket peer, headers removed', headers: { 'X-Forwarded-For': 'unknown', 'X-Forwarded-Proto': 'https' },
    expect: { REMOTE_ADDR: '127.0.0.1', 'tsgi.url_scheme': 'http', 'tsgi.proxy_addr': undefined, ...NO_FORWARDED }, logs: 'is not an IP address; forwarded headers ignored' },
  { name: 'X-Forwarded-Proto https: url_scheme, HTTPS and the default port follow', headers: { 'X-Forwarded-Proto': 'https' },
    expect: { REMOTE_ADDR: '127.0.0.1', 'tsgi.url_scheme': 'https', HTTPS: 'on', SERVER_PORT: '443', HTTP_HOST: 'app.test' } },
  { name: 'X-Forwarded-Proto keeps the port Host names', headers: { Host: 'app.test:8443', 'X-Forwarded-Proto': 'HTTPS' },
    expect: { 'tsgi.url_scheme': 'https', SERVER_PORT: '8443' } },
  { name: 'X-Forwarded-Proto http on a TLS listener turns HTTPS off', headers: { 'X-Forwarded-Proto': 'http' }, url: 'https',
    expect: { 'tsgi.url_scheme': 'http', HTTPS: undefined, SERVER_PORT: '80' } },
  { name: 'conflicting X-Forwarded-Proto values: warning, nothing believed', headers: { 'X-Forwarded-For': '192.0.2.7', 'X-Forwarded-Proto': 'https, http' },
    expect: { REMOTE_ADDR: '127.0.0.1', 'tsgi.url_scheme': 'http', ...NO_FORWARDED }, logs: 'X-Forwarded-Proto has conflicting values' },
  { name: 'X-Forwarded-Proto that is not http(s): warning', headers: { 'X-Forwarded-Proto': 'ftp' },
    expect: { 'tsgi.url_scheme': 'http', HTTPS: undefined }, logs: 'is not http or https' },
  { name: 'headers outside trustedProxyHeaders are removed even from a trusted peer', headers: { 'X-Forwarded-For': '192.0.2.7', 'X-Forwarded-Host': 'evil.test', Forwarded: 'for=6.6.6.6' },
    expect: { REMOTE_ADDR: '192.0.2.7', HTTP_HOST: 'app.test', HTTP_X_FORWARDED_HOST: undefined, HTTP_FORWARDED: undefined, HTTP_X_FORWARDED_FOR: '192.0.2.7' } },
  { name: 'X-Forwarded-Host sets HTTP_HOST, SERVER_NAME and SERVER_PORT', opts: EVERY_HEADER, headers: { 'X-Forwarded-Host': 'Public.Example:8443', 'X-Forwarded-Proto': 'https' },
    expect: { HTTP_HOST: 'Public.Example:8443', SERVER_NAME: 'public.example', SERVER_PORT: '8443', 'tsgi.url_scheme': 'https' } },
  { name: 'X-Forwarded-Host without a port takes X-Forwarded-Port', opts: EVERY_HEADER, headers: { 'X-Forwarded-Host': '[2001:db8::1]', 'X-Forwarded-Port': '8000' },
    expect: { HTTP_HOST: '[2001:db8::1]', SERVER_NAME: '[2001:db8::1]', SERVER_PORT: '8000' } },
  { name: 'malformed X-Forwarded-Host: warning', opts: EVERY_HEADER, headers: { 'X-Forwarded-Host': 'a b/c' },
    expect: { HTTP_HOST: 'app.test', SERVER_NAME: 'app.test' }, logs: 'X-Forwarded-Host' },
  { name: 'X-Forwarded-Port out of range: warning', opts: EVERY_HEADER, headers: { 'X-Forwarded-Port': '70000' },
    expect: { SERVER_PORT: '8080' }, logs: 'is not a port 1-65535' },
  { name: 'X-Forwarded-Prefix becomes SCRIPT_NAME', opts: EVERY_HEADER, headers: { 'X-Forwarded-Prefix': '/app/' }, url: '/x',
    expect: { SCRIPT_NAME: '/app', PATH_INFO: '/x' } },
  { name: 'X-Forwarded-Prefix goes in front of the scriptName mount', opts: EVERY_HEADER, scriptName: '/v1', headers: { 'X-Forwarded-Prefix': '/api' }, url: '/v1/x',
    expect: { SCRIPT_NAME: '/api/v1', PATH_INFO: '/x' } },
  { name: 'X-Forwarded-Prefix with a .. segment: warning', opts: EVERY_HEADER, headers: { 'X-Forwarded-Prefix': '/a/../b' },
    expect: { SCRIPT_NAME: '' }, logs: 'X-Forwarded-Prefix' },
  { name: 'Forwarded (RFC 7239): for, proto and host of the client element', opts: EVERY_HEADER, headers: { Forwarded: 'for=6.6.6.6;proto=http, for=192.0.2.7;proto=https;host=public.example' },
    expect: { REMOTE_ADDR: '192.0.2.7', 'tsgi.url_scheme': 'https', HTTP_HOST: 'public.example', SERVER_PORT: '443' } },
  { name: 'Forwarded with a quoted IPv6 node and port', opts: EVERY_HEADER, headers: { Forwarded: 'for="[2001:db8:cafe::17]:4711"' },
    expect: { REMOTE_ADDR: '2001:db8:cafe::17', REMOTE_PORT: '4711' } },
  { name: 'Forwarded naming an obfuscated client: warning', opts: EVERY_HEADER, headers: { Forwarded: 'for=_hidden' },
    expect: { REMOTE_ADDR: '127.0.0.1' }, logs: 'not an address' },
  { name: 'Forwarded that does not parse: warning', opts: EVERY_HEADER, headers: { Forwarded: 'for=1.2.3.4;;proto' },
    expect: { REMOTE_ADDR: '127.0.0.1', HTTP_FORWARDED: undefined }, logs: 'is malformed' },
  { name: 'X-Forwarded-For and Forwarded naming different clients: warning', opts: EVERY_HEADER, headers: { 'X-Forwarded-For': '192.0.2.7', Forwarded: 'for=192.0.2.8' },
    expect: { REMOTE_ADDR: '127.0.0.1' }, logs: 'X-Forwarded-For names client 192.0.2.7 but Forwarded names 192.0.2.8' },
  { name: 'a unix-socket peer is trusted only with `unix`', peer: '', opts: { trustedProxies: 'unix' }, headers: { 'X-Forwarded-For': '192.0.2.7' },
    expect: { REMOTE_ADDR: '192.0.2.7', 'tsgi.proxy_addr': '' } },
  { name: 'a unix-socket peer without `unix`: headers removed', peer: '', headers: { 'X-Forwarded-For': '192.0.2.7' },
    expect: { REMOTE_ADDR: '', HTTP_X_FORWARDED_FOR: undefined } },
  { name: 'trustedProxyHeaders empty: nothing believed, everything removed', opts: { trustedProxyHeaders: '' }, headers: { 'X-Forwarded-For': '192.0.2.7' },
    expect: { REMOTE_ADDR: '127.0.0.1', HTTP_X_FORWARDED_FOR: undefined } },
];

function requestHead(row: Row): Record<string, string> {
  const raw = Object.entries({ Host: 'app.test', ...row.headers }).flat();
  const tls = row.url === 'https';
  const url = row.url === undefined || tls ? '/' : row.url;
  return cgiFromHttp(
    { method: 'GET', url, httpVersion: '1.1', rawHeaders: raw, remoteAddress: row.peer ?? '127.0.0.1', remotePort: 40000, localAddress: '127.0.0.1', localPort: 8080, scheme: tls ? 'https' : 'http' },
    { scriptName: row.scriptName },
  ) as Record<string, string>;
}

async function run(row: Row, cgi: Record<string, string>): Promise<{ env: Environ; log: string }> {
  const mem = new MemoryLog();
  const log = new ErrorLog(mem);
  log.debugEnabled = true;
  let seen: Environ | undefined;
  const app: App = (environ, start) => {
    seen = { ...environ };
    start('200 OK', [['Content-Type', 'text/plain']]);
    return ['ok'];
  };
  const d = new TrustedProxyDispatcher(new InlineDispatcher(lint(app), { log }), { ...row.opts, log });
  const sink = new FakeSink();
  await d.dispatch({ cgi, body: null }, sink);
  expect(sink.events[0]).to.include({ type: 'start', code: 200 });
  return { env: seen!, log: mem.text };
}

describe('reverse-proxy mode: the trust table', () => {
  for (const row of TABLE) {
    it(row.name, async () => {
      const { env, log } = await run(row, requestHead(row));
      for (const [k, v] of Object.entries(row.expect)) {
        if (v === undefined) expect(env, `${k} must be absent`).to.not.have.property(k);
        else expect(env[k], k).to.equal(v);
      }
      if (row.logs !== undefined) expect(log).to.include(row.logs);
      else expect(log).to.not.include('[warn]');
    });
  }

  it('applies the same rules to gateway peers: REMOTE_ADDR as the web server passed it (FastCGI/SCGI/CGI)', async () => {
    const fromNginx = (addr: string) => cgiFromGateway({ REQUEST_METHOD: 'GET', SCRIPT_NAME: '', PATH_INFO: '/', REMOTE_ADDR: addr, HTTP_HOST: 'app.test', HTTP_X_FORWARDED_FOR: '192.0.2.7', HTTP_X_FORWARDED_PROTO: 'https' }) as Record<string, string>;
    const lb = await run({ name: '', headers: {}, opts: { trustedProxies: '10.0.0.0/8' }, expect: {} }, fromNginx('10.0.0.2'));
    expect(lb.env.REMOTE_ADDR).to.equal('192.0.2.7');
    expect(lb.env['tsgi.url_scheme']).to.equal('https');
    expect(lb.env['tsgi.proxy_addr']).to.equal('10.0.0.2');
    const client = await run({ name: '', headers: {}, opts: { trustedProxies: '10.0.0.0/8' }, expect: {} }, fromNginx('203.0.113.5'));
    expect(client.env.REMOTE_ADDR).to.equal('203.0.113.5');
    expect(client.env['tsgi.url_scheme']).to.equal('http');
    expect(client.env).to.not.have.property('HTTP_X_FORWARDED_FOR');
  });

  it('drops the reverse-DNS name of the proxy with its address', async () => {
    const cgi = requestHead({ name: '', headers: { 'X-Forwarded-For': '192.0.2.7' }, expect: {} });
    cgi.REMOTE_HOST = 'proxy.local';
    const { env } = await run({ name: '', headers: {}, expect: {} }, cgi);
    expect(env).to.not.have.property('REMOTE_HOST');
  });

  it('refuses a bad trustedProxies / trustedProxyHeaders entry at construction, naming it', () => {
    const log = new ErrorLog(new MemoryLog());
    const inner = new InlineDispatcher(() => [], { log });
    expect(() => new TrustedProxyDispatcher(inner, { trustedProxies: '10.0.0.0/33', log })).to.throw(/"10.0.0.0\/33"/);
    expect(() => new TrustedProxyDispatcher(inner, { trustedProxyHeaders: 'x-real-ip', log })).to.throw(/"x-real-ip"/);
  });
});
