/**
 * The conformance table on every front and concurrency mode (conformance/matrix.ts): HTTP/1.1, HTTP/2
 * (h2c), FastCGI, SCGI and protocol=auto in process; CGI through examples/cgi/app.cgi; and threading,
 * threadPool, forking and processPool through the real CLI, each spoken to in HTTP/1.1, h2c, FastCGI and
 * SCGI on one auto port. Every cell also compares its WHOLE environ with the reference (built-in
 * HTTP/1.1, single mode), failing on any difference not listed in conformance/environ-diff.ts.
 */
import { expect } from 'chai';
import { cgiEntry } from './integration/harness/entries.js';
import { printLogsOnFailure } from './integration/harness/fronts.js';
import { ENVIRON_REQUEST, environDifferences } from './conformance/environ-diff.js';
import { MATRIX, WIRE_ADJUST, WIRE_CAPABILITIES, WIRE_CONCURRENCY, WIRE_SKIPS, type ServerGroup } from './conformance/matrix.js';
import { runConformance, type Front, type FrontResponse } from './conformance/runner.js';
import { MOUNT, startCliServer, startInProcess, type MatrixServer } from './conformance/servers.js';
import { cgiSend, sendFor, wireClient } from './conformance/wires.js';
import { fileURLToPath } from 'node:url';

const APP_MODULE = fileURLToPath(new URL('./conformance/apps.js', import.meta.url));

/** The echo line of an echo-environ answer. */
function echoOf(res: FrontResponse): { environ: Record<string, unknown> } {
  expect(res.status, res.body.toString().slice(0, 300)).to.equal(200);
  const nl = res.body.indexOf(10);
  return JSON.parse(res.body.subarray(0, nl === -1 ? undefined : nl).toString('utf8')) as { environ: Record<string, unknown> };
}

async function startGroup(g: ServerGroup): Promise<MatrixServer | undefined> {
  if ('cgi' in g.start) return undefined;
  return 'inProcess' in g.start ? startInProcess(g.start.inProcess) : startCliServer(g.start.cli);
}

describe('conformance matrix: every front x every concurrency mode', function () {
  this.timeout(120_000);
  let reference: MatrixServer | undefined;
  let referenceEnviron: Promise<{ environ: Record<string, unknown>; port: number }> | undefined;
  const referenceEcho = (): Promise<{ environ: Record<string, unknown>; port: number }> => {
    referenceEnviron ??= (async () => {
      reference ??= await startInProcess('http');
      const res = await sendFor('http1', () => reference!.port)({ ...ENVIRON_REQUEST, path: MOUNT + ENVIRON_REQUEST.path });
      return { environ: echoOf(res).environ, port: reference.port };
    })();
    return referenceEnviron;
  };
  after(() => reference?.close());

  for (const group of MATRIX) {
    describe(group.name, function () {
      let server: MatrixServer | undefined;
      before(async function () {
        this.timeout(60_000);
        server = await startGroup(group);
      });
      after(() => server?.close());
      printLogsOnFailure(() => [{ label: `tsgi (${group.name})`, text: () => server?.log() ?? '' }]);

      const port = (): number => server!.port;
      const cgi = cgiEntry();
      for (const wire of group.wires) {
        // The table rows may share connections (group.reuseConnections); the environ comparison never does,
        // so its HTTP/1.1 request carries the same Connection header as the reference's.
        const rows = wire === 'cgi' ? { send: cgiSend(cgi.script, APP_MODULE, MOUNT), release: () => {} } : wireClient(wire, port, group.reuseConnections === true);
        const send = wire === 'cgi' ? rows.send : sendFor(wire, port);
        after(() => rows.release());
        const front: Front = {
          name: `${wire} / ${group.mode}`,
          mount: MOUNT,
          send: rows.send,
          skips: WIRE_SKIPS[wire],
          capabilities: WIRE_CAPABILITIES[wire],
          concurrency: WIRE_CONCURRENCY[wire],
          adjust: WIRE_ADJUST[wire],
        };
        describe(`spoken in ${wire}`, () => {
          runConformance('conformance table', front);
          it('the whole environ equals the reference but for the differences listed for this front and mode', async () => {
            const ref = await referenceEcho();
            const res = await send({ ...ENVIRON_REQUEST, path: MOUNT + ENVIRON_REQUEST.path });
            const got = { environ: echoOf(res).environ, port: wire === 'cgi' ? 80 : port() };
            const problems = environDifferences(ref, got, { wire, mode: group.mode });
            expect(problems, `${wire} / ${group.mode}:\n  ${problems.join('\n  ')}`).to.deep.equal([]);
          });
        });
      }
    });
  }
});
