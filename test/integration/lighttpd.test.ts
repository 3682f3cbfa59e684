/**
 * lighttpd in front of tsgi, with the site files of examples/deploy/lighttpd/: mod_fastcgi to a tsgi we
 * started (host/port) and to one lighttpd spawns itself (bin-path, socket on fd 0), mod_scgi, mod_proxy
 * to the built-in HTTP server. One lighttpd serves every site on its own port.
 */
import { findBinary } from './harness/binaries.js';
import { startBackend, type Backend } from './harness/backends.js';
import { cgiEntry, writeEntry } from './harness/entries.js';
import { runExtraCases } from './harness/extra-cases.js';
import { httpFront, printLogsOnFailure } from './harness/fronts.js';
import { requireInstalled } from './harness/skip.js';
import { tempDir, removeDir } from './harness/daemon.js';
import { startWebServer, type WebServer } from './harness/web-server.js';
import { runConformance } from '../conformance/runner.js';

/** What lighttpd does before any backend sees a request: the same for every lighttpd site. */
const LIGHTTPD_SKIPS: Record<string, string> = {
  '%0A in the path is decoded, not a line break in anything else':
    'lighttpd answers 400 itself for control characters in the decoded path (server.http-parseopts "url-ctrls-reject", on by default); the app never sees it',
  'invalid UTF-8 (%C3 alone) in the path is a 400':
    'the site\'s $HTTP["url"] =~ "^/app(/|$)" regex does not match a path that is not UTF-8, so lighttpd answers 404 itself; the app never sees it',
};

/** lighttpd as a CGI-style gateway (mod_fastcgi, mod_scgi, mod_cgi): what it does to the CGI variables. */
const LIGHTTPD_GATEWAY_SKIPS: Record<string, string> = {
  ...LIGHTTPD_SKIPS,
  'GET / reaches the app with the CGI basics':
    'lighttpd sends CONTENT_LENGTH=0 on every request without a body; the extra case runs the same row accepting "0"',
  'a header name with _ is dropped: X_Custom_Id cannot shadow X-Custom-Id':
    'lighttpd 1.4.69 maps both X-Custom-Id and X_Custom_Id to HTTP_X_CUSTOM_ID (two params of one name); once merged no backend can tell them apart. Do not trust HTTP_X_FORWARDED_FOR & co behind lighttpd gateways (see README)',
  'X_Forwarded_For alone never becomes HTTP_X_FORWARDED_FOR':
    'lighttpd 1.4.69 passes X_Forwarded_For as HTTP_X_FORWARDED_FOR (it converts _ like -); no backend can tell (see README)',
};

describe('integration: lighttpd', function () {
  this.timeout(60_000);
  let web: WebServer | undefined;
  let scripts: string | undefined;
  const backends: Record<string, Backend> = {};

  before(async function () {
    const lighttpd = requireInstalled(this, 'lighttpd', findBinary('lighttpd'));
    backends.http = await startBackend('http', '/app');
    backends.fastcgi = await startBackend('fastcgi');
    backends.scgi = await startBackend('scgi');
    scripts = tempDir('lighttpd-bin');
    const fcgiScript = writeEntry(scripts, 'tsgi-fcgi', 'fcgi-fd0');
    const cgi = cgiEntry();
    const up = (b: Backend) => ({ UPSTREAM_HOST: '127.0.0.1', UPSTREAM_PORT: b.port });
    web = await startWebServer('lighttpd', lighttpd, [
      { name: 'proxy-http', template: 'proxy-http.conf', vars: up(backends.http) },
      { name: 'fastcgi', template: 'fastcgi.conf', vars: up(backends.fastcgi) },
      { name: 'fastcgi-spawn', template: 'fastcgi-spawn.conf', vars: { FCGI_SCRIPT: fcgiScript } },
      { name: 'scgi', template: 'scgi.conf', vars: up(backends.scgi) },
      { name: 'cgi', template: 'cgi.conf', vars: { CGI_SCRIPT: cgi.script, APP: cgi.app } },
    ]);
  });

  after(async () => {
    await web?.stop();
    for (const b of Object.values(backends)) await b.close();
    removeDir(scripts);
  });

  printLogsOnFailure(() => [
    { label: 'lighttpd', text: () => web?.diagnostics(6000) ?? '' },
    ...Object.entries(backends).map(([k, b]) => ({ label: `tsgi ${k}`, text: () => b.log() })),
  ]);

  const port = (site: string) => () => web!.ports[site];

  const proxy = httpFront({ name: 'lighttpd mod_proxy', port: port('proxy-http'), skips: LIGHTTPD_SKIPS, capabilities: { chunkedUpload: true }, bigUpload: true });
  runConformance('lighttpd mod_proxy -> built-in HTTP: conformance', proxy);
  runExtraCases('lighttpd mod_proxy -> built-in HTTP: extra', proxy);

  const fcgi = httpFront({ name: 'lighttpd mod_fastcgi', port: port('fastcgi'), skips: LIGHTTPD_GATEWAY_SKIPS, capabilities: { chunkedUpload: true }, bigUpload: true });
  runConformance('lighttpd mod_fastcgi host/port -> FastCGI: conformance', fcgi);
  runExtraCases('lighttpd mod_fastcgi host/port -> FastCGI: extra', fcgi);

  const spawn = httpFront({ name: 'lighttpd mod_fastcgi bin-path', port: port('fastcgi-spawn'), skips: LIGHTTPD_GATEWAY_SKIPS, capabilities: { chunkedUpload: true }, bigUpload: true });
  runConformance('lighttpd mod_fastcgi bin-path (fd 0) -> FastCGI: conformance', spawn);
  runExtraCases('lighttpd mod_fastcgi bin-path (fd 0) -> FastCGI: extra', spawn);

  const scgi = httpFront({
    name: 'lighttpd mod_scgi',
    port: port('scgi'),
    skips: LIGHTTPD_GATEWAY_SKIPS, capabilities: { chunkedUpload: true }, bigUpload: true });
  runConformance('lighttpd mod_scgi -> SCGI: conformance', scgi);
  runExtraCases('lighttpd mod_scgi -> SCGI: extra', scgi);

  const cgi = httpFront({ name: 'lighttpd mod_cgi', port: port('cgi'), skips: LIGHTTPD_GATEWAY_SKIPS, capabilities: { chunkedUpload: true }, bigUpload: true });
  runConformance('lighttpd mod_cgi -> CGI (examples/cgi/app.cgi): conformance', cgi);
  runExtraCases('lighttpd mod_cgi -> CGI (examples/cgi/app.cgi): extra', cgi);
});
