/**
 * Reverse-proxy mode through real proxies, with the shipped configs of examples/deploy/: nginx terminating
 * TLS and removing the prefix (X-Forwarded-Prefix), Apache mod_proxy_http terminating TLS
 * (`RequestHeader set X-Forwarded-Proto https`, `ProxyPreserveHost On`), HAProxy `send-proxy` and
 * `send-proxy-v2` in front of tsgi HTTP and protocol=auto; and a client on a loopback address that is not a
 * trusted proxy (127.0.0.2) forging every forwarded header. tsgi runs through the CLI with
 * examples/deploy/tsgi/behind-proxies.cfg. Clients connect from 127.0.0.3/.4 so that the client address the
 * app sees cannot be the proxy's (127.0.0.1) by accident.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { makeTempCert, type TempCert } from '../support/certs.js';
import { apacheModuleDir, findBinary } from './harness/binaries.js';
import { Daemon, removeDir, tempDir } from './harness/daemon.js';
import { printLogsOnFailure } from './harness/fronts.js';
import { freePort } from './harness/ports.js';
import { requireInstalled } from './harness/skip.js';
import { renderDeploy } from './harness/template.js';
import { startWebServer, type WebServer } from './harness/web-server.js';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'gateway', 'cli.js');
const APP_MODULE = resolve(dirname(fileURLToPath(import.meta.url)), 'bin', 'app.js');
const MOUNT = '/app';

interface Answer {
  status: number;
  env: Record<string, string>;
  localPort: number;
}

/** GET `path` over HTTP(S) from `localAddress`; the echo app's environ. */
function get(opts: { port: number; path: string; localAddress: string; tls?: TempCert; host?: string; headers?: Record<string, string> }): Promise<Answer> {
  return new Promise((resolvePromise, reject) => {
    const mod = opts.tls !== undefined ? https : http;
    const req = mod.request(
      {
        host: '127.0.0.1',
        port: opts.port,
        path: opts.path,
        localAddress: opts.localAddress,
        headers: { Host: opts.host ?? `localhost:${opts.port}`, ...opts.headers },
        agent: false,
        ...(opts.tls !== undefined ? { ca: opts.tls.cert, servername: 'localhost' } : {}),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          let env: Record<string, string> = {};
          try {
            env = JSON.parse(text).environ;
          } catch {
            env = { body: text };
          }
          resolvePromise({ status: res.statusCode ?? 0, env, localPort: (req.socket as net.Socket | null)?.localPort ?? 0 });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Send raw bytes from `localAddress`; what came back before the close ('' when closed at once). */
function raw(port: number, bytes: string, localAddress: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    let text = '';
    s.on('data', (c) => (text += c));
    s.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolvePromise(text) : reject(e)));
    s.on('close', () => resolvePromise(text));
    s.write(bytes);
  });
}

const FORGED = {
  'X-Forwarded-For': '6.6.6.6',
  'X-Forwarded-Proto': 'https',
  'X-Forwarded-Host': 'evil.test',
  'X-Forwarded-Port': '443',
  'X-Forwarded-Prefix': '/evil',
  Forwarded: 'for=6.6.6.6;proto=https;host=evil.test',
};
const FORWARDED_VARS = ['HTTP_X_FORWARDED_FOR', 'HTTP_X_FORWARDED_PROTO', 'HTTP_X_FORWARDED_HOST', 'HTTP_X_FORWARDED_PORT', 'HTTP_X_FORWARDED_PREFIX', 'HTTP_FORWARDED'];

describe('integration: behind reverse proxies (nginx TLS, Apache TLS, HAProxy PROXY v1/v2)', function () {
  this.timeout(60_000);
  const ports: Record<string, number> = {};
  let cert: TempCert | undefined;
  let tsgiDir: string | undefined;
  let tsgi: Daemon | undefined;
  let nginx: WebServer | undefined;
  let apache: WebServer | undefined;
  let haproxy: Daemon | undefined;
  let haproxyDir: string | undefined;

  before(async function () {
    const nginxBin = requireInstalled(this, 'nginx', findBinary('nginx'));
    const apacheBin = requireInstalled(this, 'apache2', findBinary('apache2') ?? findBinary('httpd'));
    const modules = requireInstalled(this, 'apache2', apacheModuleDir());
    const haproxyBin = requireInstalled(this, 'haproxy', findBinary('haproxy'));
    cert = makeTempCert();
    for (const k of ['main', 'prefixed', 'haproxy', 'auto']) ports[k] = await freePort();

    tsgiDir = tempDir('proxy-tsgi');
    const cfg = join(tsgiDir, 'tsgi.cfg');
    writeFileSync(cfg, renderDeploy('tsgi/behind-proxies.cfg', { MOUNT, PORT_MAIN: ports.main, PORT_PREFIXED: ports.prefixed, PORT_HAPROXY: ports.haproxy, PORT_AUTO: ports.auto }));
    tsgi = await Daemon.start({ name: 'tsgi (CLI)', command: process.execPath, args: [CLI, APP_MODULE, '-C', cfg], ports: [ports.main, ports.prefixed, ports.haproxy, ports.auto] });

    const tlsVars = { CERT: cert.certFile, KEY: cert.keyFile };
    nginx = await startWebServer('nginx', nginxBin, [{ name: 'proxy-https', template: 'proxy-https.conf', vars: { UPSTREAM: `127.0.0.1:${ports.prefixed}`, ...tlsVars } }]);
    apache = await startWebServer('apache', apacheBin, [{ name: 'proxy-https', template: 'proxy-https.conf', vars: { UPSTREAM: `127.0.0.1:${ports.main}`, ...tlsVars } }], { MODULES: modules });

    haproxyDir = tempDir('haproxy');
    const hp: Record<string, number> = {};
    for (const k of ['http_v1', 'http_v2', 'auto_v1', 'auto_v2']) hp[k] = await freePort();
    Object.assign(ports, Object.fromEntries(Object.entries(hp).map(([k, v]) => [`hp_${k}`, v])));
    const hcfg = join(haproxyDir, 'haproxy.cfg');
    writeFileSync(
      hcfg,
      renderDeploy('haproxy/proxy-protocol.cfg', {
        RUN_DIR: haproxyDir,
        LISTEN_HTTP_V1: `127.0.0.1:${hp.http_v1}`,
        LISTEN_HTTP_V2: `127.0.0.1:${hp.http_v2}`,
        LISTEN_AUTO_V1: `127.0.0.1:${hp.auto_v1}`,
        LISTEN_AUTO_V2: `127.0.0.1:${hp.auto_v2}`,
        UPSTREAM_HTTP: `127.0.0.1:${ports.haproxy}`,
        UPSTREAM_AUTO: `127.0.0.1:${ports.auto}`,
      }),
    );
    haproxy = await Daemon.start({ name: 'haproxy', command: haproxyBin, args: ['-db', '-f', hcfg], cwd: haproxyDir, ports: Object.values(hp) });
  });

  after(async () => {
    await haproxy?.stop();
    await nginx?.stop();
    await apache?.stop();
    await tsgi?.stop();
    removeDir(haproxyDir);
    removeDir(tsgiDir);
    cert?.remove();
  });

  printLogsOnFailure(() => [
    { label: 'nginx', text: () => nginx?.diagnostics(6000) ?? '' },
    { label: 'apache', text: () => apache?.diagnostics(6000) ?? '' },
    { label: 'haproxy', text: () => haproxy?.diagnostics(6000) ?? '' },
    { label: 'tsgi', text: () => tsgi?.diagnostics(6000) ?? '' },
  ]);

  it('nginx terminating TLS, prefix removed: client address, https, Host, SCRIPT_NAME from X-Forwarded-Prefix', async () => {
    const port = nginx!.ports['proxy-https'];
    const a = await get({ port, path: `${MOUNT}/x/y?q=1`, localAddress: '127.0.0.3', tls: cert });
    expect(a.status).to.equal(200);
    expect(a.env).to.include({ REMOTE_ADDR: '127.0.0.3', 'tsgi.url_scheme': 'https', HTTPS: 'on', HTTP_HOST: `localhost:${port}`, SERVER_NAME: 'localhost', SERVER_PORT: String(port) });
    expect(a.env).to.include({ SCRIPT_NAME: MOUNT, PATH_INFO: '/x/y', QUERY_STRING: 'q=1', 'tsgi.proxy_addr': '127.0.0.1' });
  });

  it('Apache mod_proxy_http terminating TLS: client address, https, preserved Host, SCRIPT_NAME from scriptName', async () => {
    const port = apache!.ports['proxy-https'];
    const a = await get({ port, path: `${MOUNT}/x`, localAddress: '127.0.0.3', tls: cert });
    expect(a.status).to.equal(200);
    expect(a.env).to.include({ REMOTE_ADDR: '127.0.0.3', 'tsgi.url_scheme': 'https', HTTPS: 'on', HTTP_HOST: `localhost:${port}`, SERVER_NAME: 'localhost', SERVER_PORT: String(port) });
    expect(a.env).to.include({ SCRIPT_NAME: MOUNT, PATH_INFO: '/x', 'tsgi.proxy_addr': '127.0.0.1' });
    // Apache also sends X-Forwarded-Host: not in trustedProxyHeaders, so removed rather than passed on.
    expect(a.env).to.not.have.property('HTTP_X_FORWARDED_HOST');
  });

  it('a client forging its scheme through Apache is overruled: Apache sets X-Forwarded-Proto', async () => {
    const port = apache!.ports['proxy-https'];
    const a = await get({ port, path: `${MOUNT}/x`, localAddress: '127.0.0.3', tls: cert, headers: { 'X-Forwarded-For': '6.6.6.6', 'X-Forwarded-Proto': 'http' } });
    expect(a.env).to.include({ REMOTE_ADDR: '127.0.0.3', 'tsgi.url_scheme': 'https' });
  });

  for (const [label, key] of [
    ['HAProxy send-proxy (v1) -> tsgi HTTP', 'hp_http_v1'],
    ['HAProxy send-proxy-v2 -> tsgi HTTP', 'hp_http_v2'],
    ['HAProxy send-proxy (v1) -> tsgi protocol=auto', 'hp_auto_v1'],
    ['HAProxy send-proxy-v2 -> tsgi protocol=auto', 'hp_auto_v2'],
  ] as const) {
    it(`${label}: REMOTE_ADDR and REMOTE_PORT are the client's`, async () => {
      const a = await get({ port: ports[key], path: `${MOUNT}/x`, localAddress: '127.0.0.4' });
      expect(a.status).to.equal(200);
      expect(a.env).to.include({ REMOTE_ADDR: '127.0.0.4', REMOTE_PORT: String(a.localPort), SCRIPT_NAME: MOUNT, PATH_INFO: '/x' });
    });
  }

  it('an untrusted client (127.0.0.2) forging every forwarded header: socket peer, none of the headers', async () => {
    for (const port of [ports.main, ports.prefixed]) {
      const a = await get({ port, path: `${MOUNT}/x`, localAddress: '127.0.0.2', headers: FORGED });
      expect(a.status, String(port)).to.equal(200);
      expect(a.env).to.include({ REMOTE_ADDR: '127.0.0.2', 'tsgi.url_scheme': 'http', HTTP_HOST: `localhost:${port}` });
      expect(a.env).to.not.have.property('HTTPS');
      expect(a.env).to.not.have.property('tsgi.proxy_addr');
      for (const v of FORWARDED_VARS) expect(a.env, v).to.not.have.property(v);
    }
  });

  it('a PROXY header from an untrusted client (127.0.0.2) closes the connection; so does none from HAProxy\'s address', async () => {
    const req = `PROXY TCP4 6.6.6.6 127.0.0.1 1 2\r\nGET ${MOUNT}/x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`;
    expect(await raw(ports.haproxy, req, '127.0.0.2')).to.equal('');
    expect(await raw(ports.auto, req, '127.0.0.2')).to.equal('');
    expect(await raw(ports.haproxy, `GET ${MOUNT}/x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`, '127.0.0.1')).to.equal('');
    expect(tsgi!.diagnostics()).to.include('PROXY protocol: connection from 127.0.0.2');
  });

  it('a path outside the configured prefix is a 404 from tsgi, not a wrong PATH_INFO', async () => {
    const a = await get({ port: ports.main, path: '/application/x', localAddress: '127.0.0.1' });
    expect(a.status).to.equal(404);
    expect(a.env.body).to.equal('Not Found\n');
    const b = await get({ port: ports.hp_http_v2, path: '/other', localAddress: '127.0.0.4' });
    expect(b.status).to.equal(404);
  });
});
