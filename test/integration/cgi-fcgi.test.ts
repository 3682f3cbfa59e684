/**
 * `cgi-fcgi` (libfcgi-bin) as a direct FastCGI client of tsgi: the reference C implementation of the
 * protocol's client side talks to our server, no web server in between. The test plays the web server
 * (harness/cgi-client.ts builds the CGI environment), so cases about what a web server does to a request
 * are skipped here: they are the test's own choices, not tsgi's.
 */
import { findBinary } from './harness/binaries.js';
import { startFastcgiBackend, type Backend } from './harness/backends.js';
import { cgiEnvironment, runCgi } from './harness/cgi-client.js';
import { runExtraCases, type IntegrationFront } from './harness/extra-cases.js';
import { printLogsOnFailure } from './harness/fronts.js';
import { requireInstalled } from './harness/skip.js';
import { runConformance } from '../conformance/runner.js';

const OURS = 'decided by the test\'s own CGI environment builder (it plays the web server), not by tsgi';

describe('integration: cgi-fcgi (libfcgi client) -> FastCGI', function () {
  this.timeout(60_000);
  let backend: Backend | undefined;
  let cgiFcgi = '';

  before(async function () {
    cgiFcgi = requireInstalled(this, 'cgi-fcgi', findBinary('cgi-fcgi'));
    backend = await startFastcgiBackend();
  });
  after(async () => {
    await backend?.close();
  });
  printLogsOnFailure(() => [{ label: 'tsgi fastcgi', text: () => backend?.log() ?? '' }]);

  const front: IntegrationFront = {
    name: 'cgi-fcgi',
    mount: '/app',
    send: (req) => runCgi(cgiFcgi, ['-bind', '-connect', `127.0.0.1:${backend!.port}`], cgiEnvironment(req, '/app', { port: 80 }), req),
    bigUpload: true,
    skips: {
      'NUL (%00) in the path is a 400': 'a CGI environment (C strings) cannot carry NUL',
      'invalid UTF-8 (%C3 alone) in the path is a 400': 'Node passes environment values as UTF-8 strings, so the test cannot give cgi-fcgi a lone 0xC3 byte',
      'a path sharing the mount prefix but not its segment is outside (404)': `routing to the app is ${OURS}`,
      'a header name with _ is dropped: X_Custom_Id cannot shadow X-Custom-Id': OURS,
      'X_Forwarded_For alone never becomes HTTP_X_FORWARDED_FOR': OURS,
      'repeated request headers are joined with ", "': OURS,
    },
    capabilities: { chunkedUpload: false },
  };
  runConformance('cgi-fcgi -> FastCGI: conformance', front);
  runExtraCases('cgi-fcgi -> FastCGI: extra', front);
});
