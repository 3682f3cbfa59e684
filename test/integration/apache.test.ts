/**
 * Apache httpd in front of tsgi, with the site files of examples/deploy/apache/: mod_proxy_http to the
 * built-in HTTP server, mod_proxy_fcgi, mod_proxy_scgi. One Apache (event MPM, workers as www-data) serves
 * every site on its own port; the conformance table and the extra cases run through each.
 */
import { dirname } from 'node:path';
import { apacheModuleDir, findBinary, hasApacheModule } from './harness/binaries.js';
import { removeDir, tempDir } from './harness/daemon.js';
import { cgiEntry, writeEntry } from './harness/entries.js';
import { ON_CI } from './harness/skip.js';
import { startBackend, type Backend } from './harness/backends.js';
import { BASICS_ROW, runExtraCases, SCGI_BASICS_SKIP } from './harness/extra-cases.js';
import { httpFront, printLogsOnFailure } from './harness/fronts.js';
import { requireInstalled } from './harness/skip.js';
import { startWebServer, type SiteSpec, type WebServer } from './harness/web-server.js';
import { runConformance } from '../conformance/runner.js';

/** What Apache does before any backend sees a request: the same for every Apache site. */
const APACHE_SKIPS: Record<string, string> = {
  'NUL (%00) in the path is a 400': 'Apache answers 404 itself for %00 in a path (ap_unescape_url refuses it); the app never sees it',
};

/** Apache parses the headers of CGI-style responses (mod_cgid, mod_proxy_fcgi/scgi, mod_fcgid) with a fixed line buffer. */
const APACHE_SCRIPT_HEADER_SKIPS: Record<string, string> = {
  ...APACHE_SKIPS,
  'a large (8 KiB) response header arrives whole':
    'Apache reads script response headers (ap_scan_script_header_err_*) into a MAX_STRING_LEN = 8192 byte line buffer: "X-Large: " + 8 KiB does not fit (error log AH01070 "Error parsing script headers"); 6 KiB passes (extra case)',
};

/** SCGI makes CONTENT_LENGTH mandatory, so it is "0" on requests without a body. */

describe('integration: Apache', function () {
  this.timeout(60_000);
  let web: WebServer | undefined;
  let scripts: string | undefined;
  const backends: Record<string, Backend> = {};
  // mod_fcgid is a separate Debian package (libapache2-mod-fcgid): its suite runs when the module is there.
  const fcgid = hasApacheModule('fcgid');

  before(async function () {
    const apache = requireInstalled(this, 'apache2', findBinary('apache2') ?? findBinary('httpd'));
    const modules = requireInstalled(this, 'apache2', apacheModuleDir());
    backends.http = await startBackend('http', '/app');
    backends.fastcgi = await startBackend('fastcgi');
    backends.scgi = await startBackend('scgi', '/app'); // mod_proxy_scgi sends no PATH_INFO: tsgi splits at the mount
    const at = (b: Backend): string => `127.0.0.1:${b.port}`;
    scripts = tempDir('apache-bin');
    const cgi = cgiEntry();
    const sites: SiteSpec[] = [
      { name: 'proxy-http', template: 'proxy-http.conf', vars: { UPSTREAM: at(backends.http) } },
      { name: 'proxy-fcgi', template: 'proxy-fcgi.conf', vars: { UPSTREAM: at(backends.fastcgi) } },
      { name: 'proxy-scgi', template: 'proxy-scgi.conf', vars: { UPSTREAM: at(backends.scgi) } },
      { name: 'cgi', template: 'cgi.conf', vars: { CGI_SCRIPT: cgi.script, CGI_DIR: cgi.dir, APP: cgi.app } },
    ];
    if (fcgid) {
      const script = writeEntry(scripts, 'tsgi.fcgi', 'fcgi-fd0');
      sites.push({ name: 'fcgid', template: 'fcgid.conf', vars: { FCGI_SCRIPT: script, FCGI_DIR: dirname(script) } });
    }
    web = await startWebServer('apache', apache, sites, { MODULES: modules });
  });

  after(async () => {
    await web?.stop();
    for (const b of Object.values(backends)) await b.close();
    removeDir(scripts);
  });

  printLogsOnFailure(() => [
    { label: 'apache', text: () => web?.diagnostics(6000) ?? '' },
    ...Object.entries(backends).map(([k, b]) => ({ label: `tsgi ${k}`, text: () => b.log() })),
  ]);

  const port = (site: string) => () => web!.ports[site];

  const http = httpFront({ name: 'Apache mod_proxy_http', port: port('proxy-http'), skips: APACHE_SKIPS, capabilities: { chunkedUpload: true }, bigUpload: true });
  runConformance('Apache mod_proxy_http -> built-in HTTP: conformance', http);
  runExtraCases('Apache mod_proxy_http -> built-in HTTP: extra', http);

  const fcgi = httpFront({ name: 'Apache mod_proxy_fcgi', port: port('proxy-fcgi'), skips: APACHE_SCRIPT_HEADER_SKIPS, capabilities: { chunkedUpload: true }, bigUpload: true });
  runConformance('Apache mod_proxy_fcgi -> FastCGI: conformance', fcgi);
  runExtraCases('Apache mod_proxy_fcgi -> FastCGI: extra', fcgi);

  const scgi = httpFront({ name: 'Apache mod_proxy_scgi', port: port('proxy-scgi'), skips: { ...APACHE_SCRIPT_HEADER_SKIPS, [BASICS_ROW]: SCGI_BASICS_SKIP }, capabilities: { chunkedUpload: false }, bigUpload: true });
  runConformance('Apache mod_proxy_scgi -> SCGI: conformance', scgi);
  runExtraCases('Apache mod_proxy_scgi -> SCGI: extra', scgi);

  const cgi = httpFront({
    name: 'Apache mod_cgid',
    port: port('cgi'),
    skips: APACHE_SCRIPT_HEADER_SKIPS,
    capabilities: { chunkedUpload: true },
    bigUpload: true,
  });
  runConformance('Apache mod_cgid -> CGI (examples/cgi/app.cgi): conformance', cgi);
  runExtraCases('Apache mod_cgid -> CGI (examples/cgi/app.cgi): extra', cgi);

  describe('Apache mod_fcgid (tsgi on fd 0, started by Apache)', function () {
    before(function () {
      if (fcgid) return;
      if (ON_CI) throw new Error('mod_fcgid is not installed (Debian package: libapache2-mod-fcgid); CI=true requires every front: add it to .ci/run');
      console.log('      skipped: mod_fcgid is not installed (Debian package: libapache2-mod-fcgid)');
      this.skip();
    });
    const fd0 = httpFront({ name: 'Apache mod_fcgid', port: port('fcgid'), skips: { ...APACHE_SCRIPT_HEADER_SKIPS, [BASICS_ROW]: 'mod_fcgid sends CONTENT_LENGTH=0 on every request without a body; the extra case runs the same row accepting "0"' }, capabilities: { chunkedUpload: true }, bigUpload: true });
    runConformance('Apache mod_fcgid -> FastCGI on fd 0: conformance', fd0);
    runExtraCases('Apache mod_fcgid -> FastCGI on fd 0: extra', fd0);
  });
});
