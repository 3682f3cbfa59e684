/**
 * Request limits on the CGI front (examples/cgi/app.cgi spawned as a web server does), at each boundary.
 * The web server passes the limits in the environment (TSGI_LIMIT_REQUEST_LINE, TSGI_LIMIT_REQUEST_FIELDS,
 * TSGI_LIMIT_REQUEST_FIELD_SIZE, TSGI_MAX_BODY_SIZE: SetEnv / setenv.add-environment); a refused request
 * is answered with a `Status:` line and the process exits 0. Each request is its own process, so "goes on
 * serving" is the next process's 200. A stalled body is the web server's to time out (Apache Timeout).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { manyFields, targetForLine, TEST_MAX_BODY, valueForLine } from './support/limits.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = ROOT + 'examples/cgi/app.cgi';
const APP = ROOT + 'dist/test/support/limits-cgi-app.js';

function cgiEnv(method: string, uri: string, extra: Record<string, string> = {}): Record<string, string> {
  const q = uri.indexOf('?');
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    GATEWAY_INTERFACE: 'CGI/1.1',
    REQUEST_METHOD: method,
    SCRIPT_NAME: '',
    PATH_INFO: q === -1 ? uri : uri.slice(0, q),
    QUERY_STRING: q === -1 ? '' : uri.slice(q + 1),
    REQUEST_URI: uri,
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REMOTE_ADDR: '127.0.0.1',
    HTTP_HOST: 'localhost',
    TSGI_APP: APP,
    TSGI_MAX_BODY_SIZE: String(TEST_MAX_BODY),
    ...extra,
  };
}

/** Run one CGI request: its Status (200 when the app says nothing else), exit code, stdout body and stderr. */
function run(env: Record<string, string>, stdin = Buffer.alloc(0)): Promise<{ status: number; code: number | null; body: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(SCRIPT, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the CGI process did not exit within 20 s'));
    }, 20_000);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const all = Buffer.concat(out).toString('latin1');
      const end = all.indexOf('\r\n\r\n');
      const status = /^Status: (\d{3})/m.exec(all.slice(0, end))?.[1];
      resolve({ status: Number(status ?? 200), code, body: all.slice(end + 4), stderr: Buffer.concat(err).toString() });
    });
  });
}

function httpVars(fields: [string, string][]): Record<string, string> {
  return Object.fromEntries(fields.map(([n, v]) => ['HTTP_' + n.toUpperCase().replace(/-/g, '_'), v]));
}

describe('limits: CGI front (examples/cgi/app.cgi)', function () {
  this.timeout(60_000);

  it('limitRequestLine: 4094 bytes pass, 4095 are 414; TSGI_LIMIT_REQUEST_LINE raises it', async () => {
    expect((await run(cgiEnv('GET', targetForLine('GET', 4094)))).status).to.equal(200);
    const r = await run(cgiEnv('GET', targetForLine('GET', 4095)));
    expect(r).to.include({ status: 414, code: 0 });
    expect(r.stderr).to.include('TSGI_ERR_URI_TOO_LONG');
    expect((await run(cgiEnv('GET', targetForLine('GET', 4095), { TSGI_LIMIT_REQUEST_LINE: '5000' }))).status).to.equal(200);
  });

  it('limitRequestFields: 100 pass, 101 are 431; TSGI_LIMIT_REQUEST_FIELDS=0 turns it off', async () => {
    expect((await run(cgiEnv('GET', '/', httpVars(manyFields(99))))).status).to.equal(200);
    expect((await run(cgiEnv('GET', '/', httpVars(manyFields(100))))).status).to.equal(431);
    expect((await run(cgiEnv('GET', '/', { ...httpVars(manyFields(100)), TSGI_LIMIT_REQUEST_FIELDS: '0' }))).status).to.equal(200);
  });

  it('limitRequestFieldSize: 8190 passes, 8191 is 431', async () => {
    expect((await run(cgiEnv('GET', '/', { HTTP_X_BIG: valueForLine('X-Big', 8190) }))).status).to.equal(200);
    expect((await run(cgiEnv('GET', '/', { HTTP_X_BIG: valueForLine('X-Big', 8191) }))).status).to.equal(431);
  });

  it('maxBodySize: CONTENT_LENGTH of the limit passes, one more is 413 before the app runs', async () => {
    const ok = await run(cgiEnv('POST', '/', { CONTENT_LENGTH: String(TEST_MAX_BODY) }), Buffer.alloc(TEST_MAX_BODY, 1));
    expect(ok.body).to.equal(`length=${TEST_MAX_BODY}`);
    const r = await run(cgiEnv('POST', '/', { CONTENT_LENGTH: String(TEST_MAX_BODY + 1) }), Buffer.alloc(TEST_MAX_BODY + 1, 1));
    expect(r).to.include({ status: 413, code: 0 });
    expect(r.stderr).to.include('TSGI_ERR_BODY_TOO_LARGE');
  });

  it('maxBodySize: a de-chunked body on stdin (no CONTENT_LENGTH, as Apache passes one) is counted: the limit passes, one byte more is 413', async () => {
    const chunked = { HTTP_TRANSFER_ENCODING: 'chunked' };
    expect((await run(cgiEnv('POST', '/', chunked), Buffer.alloc(TEST_MAX_BODY, 1))).body).to.equal(`length=${TEST_MAX_BODY}`);
    expect((await run(cgiEnv('POST', '/', chunked), Buffer.alloc(TEST_MAX_BODY + 1, 1))).status).to.equal(413);
  });
});
