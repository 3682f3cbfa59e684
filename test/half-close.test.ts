/**
 * A client that half-closes (shutdown(SHUT_WR), as `nc -N` does) right after its request still gets its
 * response, in every concurrency mode of the tsgi command: HTTP/1.1 and SCGI, single, threading,
 * threadPool=2, forking and processPool=2. Before the fix, threadPool and threading answered nothing: Node
 * took the FIN as the request aborted and ended the socket before the thread's response came back
 * (RELIABILITY.md, "Found on the way"). The app is slow on purpose (it answers after 300 ms), so the
 * response can never be written in the same tick as the FIN, which is how single mode used to get away.
 * FastCGI ends requests with records, never with a half-close, so it is not in this table.
 */
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { encodeScgiHead } from '../adapters/scgi/parse.js';
import { CliServer, MODE_LINES } from './support/cli-server.js';
import { nginxVars, sendRaw } from './support/scgi-client.js';

const APP = fileURLToPath(new URL('./fixtures/overload/app.js', import.meta.url));
const BODY = 'hello, half-closed world';

function httpPost(keepAlive: boolean): Buffer {
  const conn = keepAlive ? '' : 'Connection: close\r\n';
  return Buffer.from(`POST /echo?delay=300 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: ${BODY.length}\r\n${conn}\r\n${BODY}`, 'latin1');
}

for (const [mode, lines] of Object.entries(MODE_LINES)) {
  describe(`half-closing clients get their response (${mode})`, function () {
    this.timeout(120_000);
    let server: CliServer;

    before(async () => {
      server = await CliServer.start(APP, [...lines, 'workerTimeout = 60', '', '[server:scgi]', 'socketPort = 0', 'socketHost = 127.0.0.1', 'protocol = scgi']);
    });
    after(async () => {
      await server?.stop();
    });

    for (const keepAlive of [false, true]) {
      it(`HTTP/1.1: POST${keepAlive ? ' (keep-alive)' : ' with Connection: close'}, then FIN: 200 with the echoed length, then the server closes`, async () => {
        const raw = await sendRaw({ port: server.port, host: '127.0.0.1' }, httpPost(keepAlive), { halfClose: true, timeoutMs: 60_000 });
        const text = raw.data.toString('latin1');
        expect(text, `no response (reset: ${raw.reset}); server log:\n${server.stderr}`).to.match(/^HTTP\/1\.1 200 /);
        expect(text.slice(text.indexOf('\r\n\r\n') + 4)).to.match(new RegExp(`^${BODY.length} \\d+:\\d+$`));
      });
    }

    it('SCGI: request, then FIN: 200 with the echoed length', async () => {
      const bytes = Buffer.concat([encodeScgiHead(BODY.length, nginxVars('POST', '/echo?delay=300', { CONTENT_TYPE: 'text/plain' })), Buffer.from(BODY)]);
      const raw = await sendRaw({ port: server.ports.scgi, host: '127.0.0.1' }, bytes, { halfClose: true, timeoutMs: 60_000 });
      const text = raw.data.toString('latin1');
      expect(text, `no response (reset: ${raw.reset}); server log:\n${server.stderr}`).to.match(/^Status: 200 /);
      expect(text.slice(text.indexOf('\r\n\r\n') + 4)).to.match(new RegExp(`^${BODY.length} \\d+:\\d+$`));
    });
  });
}
