/**
 * The FastCGI Authorizer role through a real front: lighttpd's mod_fastcgi with `"mode" => "authorizer"`
 * (examples/deploy/lighttpd/fastcgi-authorizer.conf) asks a tsgi FastCGI server whether each request may
 * pass, then hands allowed ones to the app (tsgi over SCGI, echo-environ). Checked as the FastCGI spec
 * (6.3) says: the authorizer gets the request's variables but no body, with tsgi.fcgi_role AUTHORIZER; a
 * 200 lets the request through and each `Variable-NAME` header becomes the variable NAME of the app's
 * request (and only those: other headers of the 200 go nowhere); any other answer is what the client gets
 * (status, headers, body) and the app never sees the request.
 */
import { expect } from 'chai';
import { lint } from '../../app-api/lint.js';
import type { App, Environ } from '../../app-api/types.js';
import { startFastcgiServer, type FastcgiServer } from '../../adapters/fastcgi/index.js';
import { InlineDispatcher } from '../../gateway/core/dispatch.js';
import { digestOf } from '../support/bodies.js';
import { sendRequest } from '../support/http-client.js';
import { startScgiServer, type ScgiServer } from '../../adapters/scgi/index.js';
import { app as echoEnviron } from '../../examples/echo-environ/app.js';
import { TailLog } from './harness/backends.js';
import { findBinary } from './harness/binaries.js';
import { printLogsOnFailure } from './harness/fronts.js';
import { requireInstalled } from './harness/skip.js';
import { startWebServer, type WebServer } from './harness/web-server.js';

/** The header the authorizer checks, and the one value it lets through. */
const TOKEN_HEADER = 'X-Token';
const GOOD_TOKEN = 'let-me-in';

/** What the authorizer saw of each request it was asked about: its plain environ and the body it could read. */
interface Seen {
  environ: Record<string, unknown>;
  bodyBytes: number;
}

function plain(environ: Environ): Record<string, unknown> {
  return Object.fromEntries(Object.entries(environ).filter(([, v]) => typeof v === 'string' || typeof v === 'boolean'));
}

/** Allows a request carrying the token (passing two Variable-* headers and one plain header), denies others with a 403 of its own. */
function authorizer(seen: Seen[]): App {
  return lint(async (environ, startResponse) => {
    let bodyBytes = 0;
    for await (const chunk of environ['tsgi.input']) bodyBytes += chunk.length;
    seen.push({ environ: plain(environ), bodyBytes });
    if (environ.HTTP_X_TOKEN === GOOD_TOKEN) {
      startResponse('200 OK', [
        ['Variable-AUTH_USER', 'alice'],
        ['Variable-X_TSGI_ROLE', String(environ['tsgi.fcgi_role'])],
        ['X-Not-A-Variable', 'must not travel'],
      ]);
      return [];
    }
    startResponse('403 Forbidden', [['Content-Type', 'text/plain'], ['X-Denied-By', 'tsgi-authorizer']]);
    return ['no valid token\n'];
  });
}

describe('integration: lighttpd mod_fastcgi "mode" => "authorizer" -> tsgi FastCGI authorizer', function () {
  this.timeout(60_000);
  const seen: Seen[] = [];
  const tail = new TailLog();
  let auth: FastcgiServer | undefined;
  let app: ScgiServer | undefined;
  /** Requests that reached the app. */
  const reached: string[] = [];
  const appTail = new TailLog();
  const counted: App = (environ, startResponse) => {
    reached.push(String(environ.REQUEST_URI));
    return echoEnviron(environ, startResponse);
  };
  let web: WebServer | undefined;

  before(async function () {
    const lighttpd = requireInstalled(this, 'lighttpd', findBinary('lighttpd'));
    auth = await startFastcgiServer(new InlineDispatcher(authorizer(seen), { log: tail.log }), { host: '127.0.0.1', port: 0, log: tail.log });
    app = await startScgiServer(new InlineDispatcher(lint(counted), { log: appTail.log }), { host: '127.0.0.1', port: 0, scriptName: '/app', log: appTail.log });
    web = await startWebServer('lighttpd', lighttpd, [
      { name: 'authorizer', template: 'fastcgi-authorizer.conf', vars: { AUTH_HOST: '127.0.0.1', AUTH_PORT: auth.port, UPSTREAM_HOST: '127.0.0.1', UPSTREAM_PORT: app.port } },
    ]);
  });
  after(async () => {
    await web?.stop();
    await app?.close(2_000);
    await auth?.close(2_000);
  });
  beforeEach(() => {
    seen.length = 0;
    reached.length = 0;
  });
  printLogsOnFailure(() => [
    { label: 'lighttpd', text: () => web?.diagnostics(6000) ?? '' },
    { label: 'tsgi authorizer', text: () => tail.text() },
    { label: 'tsgi app (SCGI)', text: () => appTail.text() },
  ]);

  const port = (): number => web!.ports.authorizer;
  const echoOf = (body: Buffer): { environ: Record<string, unknown>; body: { length: number; sha256: string } } =>
    JSON.parse(body.toString('utf8').split('\n')[0]) as { environ: Record<string, unknown>; body: { length: number; sha256: string } };

  it('a request without the token: the client gets the authorizer\'s own 403 (status, headers, body) and the app never runs', async () => {
    const res = await sendRequest({ port: port() }, { method: 'GET', path: '/app/secret?x=1' });
    expect(res.status).to.equal(403);
    expect(res.headers['x-denied-by']).to.equal('tsgi-authorizer');
    expect(res.body.toString()).to.equal('no valid token\n');
    expect(seen).to.have.length(1);
    expect(seen[0].environ).to.include({ 'tsgi.fcgi_role': 'AUTHORIZER', REQUEST_METHOD: 'GET', REQUEST_URI: '/app/secret?x=1', QUERY_STRING: 'x=1' });
    expect(reached).to.deep.equal([]);
  });

  it('a wrong token is refused the same way', async () => {
    const res = await sendRequest({ port: port() }, { method: 'GET', path: '/app/secret', headers: [[TOKEN_HEADER, 'guess']] });
    expect(res.status).to.equal(403);
    expect(seen.map((s) => s.environ.HTTP_X_TOKEN)).to.deep.equal(['guess']);
    expect(reached).to.deep.equal([]);
  });

  it('the token lets the request through to the app, with each Variable-NAME as the variable NAME and nothing else of the 200', async () => {
    const res = await sendRequest({ port: port() }, { method: 'GET', path: '/app/secret?x=1', headers: [[TOKEN_HEADER, GOOD_TOKEN]] });
    expect(res.status, res.body.toString()).to.equal(200);
    expect(res.headers['x-not-a-variable']).to.equal(undefined);
    const { environ } = echoOf(res.body);
    expect(environ).to.include({ AUTH_USER: 'alice', X_TSGI_ROLE: 'AUTHORIZER', SCRIPT_NAME: '/app', PATH_INFO: '/secret', QUERY_STRING: 'x=1', HTTP_X_TOKEN: GOOD_TOKEN });
    expect(Object.keys(environ).filter((k) => /NOT_A_VARIABLE|^VARIABLE_|^HTTP_VARIABLE/.test(k))).to.deep.equal([]);
    // The app's own request is a responder request: no authorizer role in its environ.
    expect(environ['tsgi.fcgi_role']).to.equal(undefined);
    expect(seen).to.have.length(1);
    expect(reached).to.deep.equal(['/app/secret?x=1']);
  });

  it('a POST: the authorizer gets no body (spec 6.3), the app gets all of it', async () => {
    const body = Buffer.from('the body is for the app, not the authorizer');
    const res = await sendRequest({ port: port() }, { method: 'POST', path: '/app/upload', headers: [[TOKEN_HEADER, GOOD_TOKEN], ['Content-Type', 'text/plain']], body });
    expect(res.status, res.body.toString()).to.equal(200);
    expect(echoOf(res.body).body).to.deep.equal(digestOf(body));
    expect(seen).to.have.length(1);
    expect(seen[0].bodyBytes).to.equal(0);
    expect(seen[0].environ.REQUEST_METHOD).to.equal('POST');
  });
});
