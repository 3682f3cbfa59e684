/**
 * adapters/proxy/accept.ts on real sockets: the PROXY header read before each front (HTTP, HTTPS, SCGI,
 * FastCGI, protocol=auto), the client it names as REMOTE_ADDR, the socket peer trusted or not, malformed
 * headers closing the connection with a log line while the server keeps serving.
 */
import net from 'node:net';
import tls from 'node:tls';
import { expect } from 'chai';
import type { App } from '../app-api/types.js';
import { lint } from '../app-api/lint.js';
import { startAutoServer } from '../adapters/auto/server.js';
import { startFastcgiServer } from '../adapters/fastcgi/server.js';
import { startHttpServer } from '../adapters/http/server.js';
import { startScgiServer } from '../adapters/scgi/server.js';
import { TrustedProxyDispatcher } from '../adapters/proxy/dispatcher.js';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { makeTempCert, type TempCert } from './support/certs.js';
import { tcp4, v2 } from './support/proxy-headers.js';

/** Answers REMOTE_ADDR REMOTE_PORT. */
const echoPeer: App = (environ, start) => {
  start('200 OK', [['Content-Type', 'text/plain']]);
  return [`${environ.REMOTE_ADDR} ${environ.REMOTE_PORT ?? '-'}`];
};

/** Send `bytes` (from `localAddress`), read until the peer closes; '' + closed when it was refused. */
function exchange(port: number, bytes: Buffer | string, localAddress = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    const chunks: Buffer[] = [];
    s.on('data', (c) => chunks.push(c));
    s.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve(Buffer.concat(chunks).toString('latin1')) : reject(e)));
    s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    s.write(bytes);
  });
}

const GET = 'GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n';
const V1 = 'PROXY TCP4 192.0.2.7 127.0.0.1 56324 8080\r\n';

function setup() {
  const mem = new MemoryLog();
  const log = new ErrorLog(mem);
  const dispatcher = new TrustedProxyDispatcher(new InlineDispatcher(lint(echoPeer), { log }), { log });
  return { mem, log, dispatcher, proxyProtocol: { log, timeout: 2_000 } };
}

describe('PROXY protocol on every front', function () {
  this.timeout(20_000);

  describe('HTTP', () => {
    const s = setup();
    let srv: Awaited<ReturnType<typeof startHttpServer>>;
    before(async () => {
      srv = await startHttpServer(s.dispatcher, { port: 0, log: s.log, proxyProtocol: s.proxyProtocol });
    });
    after(() => srv.close(1000));

    it('v1: the app sees the client and port of the header', async () => {
      expect(await exchange(srv.port, V1 + GET)).to.match(/\r\n\r\n192\.0\.2\.7 56324$/);
    });
    it('v2 with TLVs, the request in the same packet', async () => {
      const hdr = v2(1, 0x11, tcp4([198, 51, 100, 9], [127, 0, 0, 1], 4000, 80), Buffer.from([0x01, 0x00, 0x02, 0x68, 0x32]));
      expect(await exchange(srv.port, Buffer.concat([hdr, Buffer.from(GET)]))).to.match(/\r\n\r\n198\.51\.100\.9 4000$/);
    });
    it('v2 LOCAL and v1 UNKNOWN: the socket peer stands', async () => {
      expect(await exchange(srv.port, Buffer.concat([v2(0, 0x00, Buffer.alloc(0)), Buffer.from(GET)]))).to.match(/\r\n\r\n127\.0\.0\.1 \d+$/);
      expect(await exchange(srv.port, 'PROXY UNKNOWN\r\n' + GET)).to.match(/\r\n\r\n127\.0\.0\.1 \d+$/);
    });
    it('a header split over many writes', async () => {
      const s2 = net.connect(srv.port, '127.0.0.1');
      const got = new Promise<string>((resolve) => {
        let t = '';
        s2.on('data', (c) => (t += c));
        s2.on('close', () => resolve(t));
      });
      for (const ch of V1) {
        s2.write(ch);
        await new Promise((r) => setImmediate(r));
      }
      s2.write(GET);
      expect(await got).to.match(/192\.0\.2\.7 56324$/);
    });
    it('malformed headers and plain HTTP close the connection with a log line; the server keeps serving', async () => {
      for (const bad of ['PROXY TCP4 1.2.3.4 nope 1 2\r\n' + GET, GET, 'PROXY ' + 'x'.repeat(300)]) {
        expect(await exchange(srv.port, bad), bad.slice(0, 30)).to.equal('');
      }
      expect(s.mem.text).to.include('PROXY protocol: v1 TCP4 addresses');
      expect(s.mem.text).to.include('not a PROXY protocol header');
      expect(s.mem.text).to.include('longer than 107 bytes');
      expect(await exchange(srv.port, V1 + GET)).to.match(/192\.0\.2\.7 56324$/);
    });
    it('from a peer that is not a trusted proxy (127.0.0.2): closed, nothing read', async () => {
      expect(await exchange(srv.port, V1 + GET, '127.0.0.2')).to.equal('');
      expect(s.mem.text).to.include('PROXY protocol: connection from 127.0.0.2');
      expect(s.mem.text).to.include('not a trusted proxy');
    });
    it('the client named by PROXY is then judged for forwarded headers (not a trusted proxy: removed)', async () => {
      const r = await exchange(srv.port, V1 + GET.replace('Host: t', 'Host: t\r\nX-Forwarded-For: 6.6.6.6'));
      expect(r).to.match(/192\.0\.2\.7 56324$/);
    });
  });

  describe('HTTPS: the header before the TLS handshake', () => {
    const s = setup();
    let cert: TempCert;
    let srv: Awaited<ReturnType<typeof startHttpServer>>;
    before(async () => {
      cert = makeTempCert();
      srv = await startHttpServer(s.dispatcher, { port: 0, log: s.log, proxyProtocol: s.proxyProtocol, sslKeyFile: cert.keyFile, sslCertificateFile: cert.certFile });
    });
    after(async () => {
      await srv.close(1000);
      cert.remove();
    });
    it('v2 then TLS: the app sees the client', async () => {
      const raw = net.connect(srv.port, '127.0.0.1');
      await new Promise((r) => raw.once('connect', r));
      raw.write(v2(1, 0x11, tcp4([203, 0, 113, 4], [127, 0, 0, 1], 5555, 443)));
      const t = tls.connect({ socket: raw, ca: cert.cert, servername: 'localhost' });
      const text = await new Promise<string>((resolve, reject) => {
        let buf = '';
        t.on('data', (c) => (buf += c));
        t.on('end', () => resolve(buf));
        t.on('error', reject);
        t.write(GET);
      });
      expect(text).to.match(/\r\n\r\n203\.0\.113\.4 5555$/);
    });
  });

  describe('SCGI, FastCGI and protocol=auto', () => {
    const s = setup();
    const closers: (() => Promise<void>)[] = [];
    const ports: Record<string, number> = {};
    before(async () => {
      const scgi = await startScgiServer(s.dispatcher, { port: 0, log: s.log, proxyProtocol: s.proxyProtocol });
      const fcgi = await startFastcgiServer(s.dispatcher, { port: 0, log: s.log, proxyProtocol: s.proxyProtocol });
      const auto = await startAutoServer(s.dispatcher, { port: 0, log: s.log, proxyProtocol: s.proxyProtocol });
      Object.assign(ports, { scgi: scgi.port, fcgi: fcgi.port, auto: auto.port });
      closers.push(() => scgi.close(500), () => fcgi.close(500), () => auto.close(500));
    });
    after(async () => {
      for (const c of closers) await c();
    });

    const scgiRequest = (): string => {
      const h = 'CONTENT_LENGTH\x000\x00SCGI\x001\x00REQUEST_METHOD\x00GET\x00REMOTE_ADDR\x00192.0.2.99\x00';
      return `${h.length}:${h},`;
    };
    it('SCGI: the header is read off, the request after it served (REMOTE_ADDR is the web server\'s)', async () => {
      const r = await exchange(ports.scgi, V1 + scgiRequest());
      expect(r).to.match(/^Status: 200 OK/);
      expect(r).to.match(/192\.0\.2\.99 -$/);
    });
    it('FastCGI: a bad header closes the connection, logged', async () => {
      expect(await exchange(ports.fcgi, 'PROXY TCP9 1.2.3.4 1.2.3.4 1 2\r\n')).to.equal('');
      expect(s.mem.text).to.include('not TCP4, TCP6 or UNKNOWN');
    });
    it('protocol=auto: the PROXY header first, then HTTP sniffed; and SCGI', async () => {
      expect(await exchange(ports.auto, V1 + GET)).to.match(/\r\n\r\n192\.0\.2\.7 56324$/);
      expect(await exchange(ports.auto, Buffer.concat([v2(1, 0x11, tcp4([192, 0, 2, 8], [127, 0, 0, 1], 1, 2)), Buffer.from(scgiRequest())]))).to.match(/^Status: 200 OK/);
    });
    it('protocol=auto: no PROXY header is a closed connection, not a sniffed request', async () => {
      expect(await exchange(ports.auto, GET)).to.equal('');
    });
  });
});
