/**
 * `tsgi check` without any web server: the snippets in examples/deploy/check are what it prints now, the
 * command line and the config findings it reports before any request.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { isTsgiError } from '../app-api/errors.js';
import { parseFrontListen } from '../gateway/check/target.js';
import { app as probeApp, expectProbe, type ProbeSeen } from '../gateway/check/probe-app.js';
import { inject } from '../gateway/core/inject.js';
import { lint, type LintError } from '../app-api/lint.js';
import { EXAMPLES_DIR, renderExamples } from '../examples/deploy/check/generate.js';
import { check, checkCli, writeIni } from './support/check-run.js';

describe('tsgi check: snippets and config findings', () => {
  it('every file in examples/deploy/check is what tsgi check generates from the INI files there (npm run deploy:snippets)', () => {
    const generated = renderExamples();
    expect(generated.length).to.be.at.least(10);
    for (const { file, text } of generated) {
      const where = path.join(EXAMPLES_DIR, file);
      expect(existsSync(where), `${file} is missing: run npm run deploy:snippets`).to.equal(true);
      expect(readFileSync(where, 'utf8'), `${file} differs from tsgi check's output: run npm run deploy:snippets`).to.equal(text);
    }
    const stale = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.conf') && !generated.some((g) => g.file === f));
    expect(stale, 'snippets no INI generates any more').to.deep.equal([]);
  });

  it('renders each protocol the way its front serves it', () => {
    const byFile = new Map(renderExamples().map((g) => [g.file, g.text]));
    expect(byFile.get('fastcgi.nginx.conf')).to.match(/fastcgi_pass tsgi_server;/).and.match(/server 127\.0\.0\.1:9000;/).and.match(/fastcgi_param SCRIPT_NAME\s+\/app;/);
    expect(byFile.get('fastcgi-unix.nginx.conf')).to.match(/server unix:\/run\/tsgi\/fcgi\.sock;/);
    expect(byFile.get('scgi.nginx.conf')).to.match(/scgi_pass tsgi_server;/).and.match(/scgi_param SCGI\s+1;/);
    expect(byFile.get('http.nginx.conf')).to.match(/proxy_pass http:\/\/tsgi_server;/).and.match(/X-Forwarded-Proto \$scheme/).and.match(/proxy_buffering off;/);
    expect(byFile.get('fastcgi.apache.conf')).to.match(/<IfModule !proxy_fcgi_module>\n\s+LoadModule proxy_fcgi_module \/usr\/lib\/apache2\/modules\/mod_proxy_fcgi\.so/).and.match(/ProxyPass "fcgi:\/\/127\.0\.0\.1:9000\/app"/);
    expect(byFile.get('fastcgi-unix.apache.conf')).to.match(/ProxyPass "unix:\/run\/tsgi\/fcgi\.sock\|fcgi:\/\/localhost\/app"/);
    expect(byFile.get('scgi.lighttpd.conf')).to.match(/server\.modules \+= \( "mod_scgi" \)/).and.match(/scgi\.server = \(/);
    expect(byFile.get('http.lighttpd.conf')).to.match(/proxy\.server = \( "" => \(\( "host" => "127\.0\.0\.1", "port" => 8080 \)\) \)/);
    expect(byFile.get('proxy-protocol.haproxy.conf')).to.match(/mode tcp/).and.match(/server tsgi 127\.0\.0\.1:8081 send-proxy-v2/);
    expect(byFile.get('http.haproxy.conf')).to.match(/mode http/).and.match(/option forwardfor/);
    expect(byFile.has('fastcgi.haproxy.conf'), 'HAProxy cannot speak FastCGI to tsgi').to.equal(false);
  });

  it('--front-listen takes HOST:PORT, [IPv6]:PORT, :PORT and PORT, and refuses the rest with TSGI_ERR_CONFIG', () => {
    expect(parseFrontListen('127.0.0.1:8080')).to.deep.equal({ host: '127.0.0.1', port: 8080 });
    expect(parseFrontListen('[::1]:8080')).to.deep.equal({ host: '::1', port: 8080 });
    expect(parseFrontListen(':80')).to.deep.equal({ host: undefined, port: 80 });
    expect(parseFrontListen('443')).to.deep.equal({ host: undefined, port: 443 });
    for (const bad of ['host', '1.2.3.4:0', '::1:80', '1.2.3.4:70000']) {
      expect(() => parseFrontListen(bad), bad).to.throw().that.satisfies((e: unknown) => isTsgiError(e, 'TSGI_ERR_CONFIG'));
    }
  });

  it('a listener a front cannot serve prints no snippet, an error line naming the option and the fix, and exits 1', async () => {
    const ini = writeIni('[server]\nsocketPort = 9300\nproxyProtocol = 1\n');
    const r = await check(['-C', ini, '--front', 'nginx', '--no-syntax']);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.match(/error: \[server\] has proxyProtocol = 1, but nginx's http proxy sends no PROXY header.*use --front haproxy, or set proxyProtocol = 0/);
    const fcgi = writeIni('[server]\nprotocol = fastcgi\nsocketPort = 9301\n');
    const h = await check(['-C', fcgi, '--front', 'haproxy', '--no-syntax']);
    expect(h.code).to.equal(1);
    expect(h.stderr).to.match(/error: \[server\] speaks fastcgi, and HAProxy/);
  });

  it('says when the front is not a trusted proxy, or when no forwarded header names the client', async () => {
    const untrusted = writeIni('[server]\nsocketPort = 9302\ntrustedProxies = 10.0.0.1\n');
    const r = await check(['-C', untrusted, '--front', 'nginx', '--no-syntax']);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/proxy_pass http:\/\/tsgi_server;/);
    expect(r.stderr).to.match(/error: proxy not trusted: the front connects from 127\.0\.0\.1, which is not in trustedProxies \(10\.0\.0\.1\) of \[server\].*add 127\.0\.0\.1 to trustedProxies/);
    const noHeaders = writeIni('[server]\nsocketPort = 9303\ntrustedProxyHeaders = x-forwarded-proto\n');
    const n = await check(['-C', noHeaders, '--front', 'apache', '--no-syntax']);
    expect(n.code).to.equal(0);
    expect(n.stderr).to.match(/warn: forwarded headers: trustedProxyHeaders of \[server\] names neither x-forwarded-for nor forwarded/);
    const fine = writeIni('[server]\nsocketPort = 9304\n');
    expect((await check(['-C', fine, '--front', 'lighttpd', '--no-syntax'])).stderr).to.match(/ok: proxy trust: the front connects from 127\.0\.0\.1/);
  });

  it('a trusted header the front does not set is cleared in the snippet, never passed on from the client', async () => {
    const ini = writeIni('[server]\nsocketPort = 9305\ntrustedProxyHeaders = x-forwarded-for, x-forwarded-prefix, forwarded\n');
    expect((await check(['-C', ini, '--front', 'nginx', '--no-syntax'])).stdout).to.match(/proxy_set_header X-Forwarded-Prefix "";/).and.match(/proxy_set_header Forwarded "";/);
    expect((await check(['-C', ini, '--front', 'apache', '--no-syntax'])).stdout).to.match(/RequestHeader unset Forwarded/).and.match(/RequestHeader unset X-Forwarded-Prefix/);
    expect((await check(['-C', ini, '--front', 'haproxy', '--no-syntax'])).stdout).to.match(/http-request del-header Forwarded/);
  });

  it('the CLI: tsgi check --help prints the usage; a bad command line or config is exit 2 with one line', async () => {
    const help = await checkCli(['--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.match(/^usage: tsgi check -C FILE\.cfg --front nginx\|apache\|lighttpd\|haproxy/);
    const noFront = await checkCli(['-C', writeIni('[server]\nsocketPort = 9306\n')]);
    expect(noFront.code).to.equal(2);
    expect(noFront.stderr).to.match(/^tsgi: TSGI_ERR_CONFIG: tsgi check: --front is required/);
    const typo = await checkCli(['-C', writeIni('[server]\nsocketPort = 9307\n'), '--front', 'ngnix']);
    expect(typo.code).to.equal(2);
    expect(typo.stderr).to.match(/did you mean nginx/);
    const port0 = await checkCli(['-C', writeIni('[server]\nsocketPort = 0\n'), '--front', 'nginx']);
    expect(port0.code).to.equal(2);
    expect(port0.stderr).to.match(/socketPort = 0 picks a new port at every start.*set a fixed socketPort/);
  });

  it('the probe app (under lint) answers 404 without its nonce, and with it records the environ and streams two parts', async () => {
    const violations: LintError[] = [];
    const linted = lint(probeApp, { onViolation: (e) => violations.push(e) });
    const stranger = await inject(linted, { url: '/app/tsgi-check-probe', headers: { 'X-Tsgi-Probe': 'guessed' } });
    expect(stranger.status).to.equal(404);
    let seen: ProbeSeen | undefined;
    let asked = 0;
    const stop = expectProbe('n0nce', { saw: (s) => (seen = s), firstPartArrived: async () => (asked++, true) });
    const r = await inject(linted, { url: '/app/tsgi-check-probe?x=1', headers: { 'X-Tsgi-Probe': 'n0nce', Host: 'front.example' } });
    stop();
    expect(r.status).to.equal(200);
    expect(r.text).to.equal('tsgi check probe: first part\nstreamed\n');
    expect(asked).to.equal(1);
    expect(seen).to.deep.include({ SCRIPT_NAME: '', PATH_INFO: '/app/tsgi-check-probe', REMOTE_ADDR: '127.0.0.1', HTTP_HOST: 'front.example', urlScheme: 'http', protocol: 'http' });
    // One use per nonce: the same nonce again is a stranger.
    expect((await inject(linted, { url: '/', headers: { 'X-Tsgi-Probe': 'n0nce' } })).status).to.equal(404);
    expect(violations).to.deep.equal([]);
  });
});
