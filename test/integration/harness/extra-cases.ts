/**
 * What the integration suites check besides the conformance table: things that need more than one
 * request/response pair or are too big for every unit run.
 *
 * - a 100 MB upload arrives intact (sha256) — once per front type;
 * - the client sees the first chunk before the app has finished (the front streams, it does not buffer);
 * - the client goes away mid-response: the app's body `close()` runs, early.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { expect } from 'chai';
import { digestOf, type GeneratedBody } from '../../support/bodies.js';
import { checkCase, type Front } from '../../conformance/runner.js';
import { absentOr, conformanceTable, type ConformanceCase } from '../../conformance/table.js';
import { APP_PATHS } from '../../conformance/apps.js';
import { closedRecord, openGate, PROBES } from './probes.js';

/** A front of the integration suites: a conformance Front, plus a plain HTTP port when clients reach it over HTTP. */
export interface IntegrationFront extends Front {
  /** The HTTP port clients talk to (undefined for fronts that are not HTTP, e.g. cgi-fcgi). */
  port?: () => number;
  /** Run the 100 MB upload on this front. */
  bigUpload?: boolean;
  /** extra case name -> why this front cannot do it. */
  extraSkips?: Record<string, string>;
}

const HUNDRED_MB: GeneratedBody = { size: 100 * 1024 * 1024, seed: 100 };
let hundredDigest: ReturnType<typeof digestOf> | undefined;

/** Names of the extra cases (keys of `extraSkips`). */
export const EXTRA = {
  big: 'POST with a 100 MB body arrives intact (sha256)',
  streams: 'the client sees the first chunk before the app finishes (streaming, not buffering)',
  abort: 'the client aborting mid-response makes the app body close() run early',
  header6k: 'a 6 KiB response header arrives whole',
  basicsZeroLength: 'GET / reaches the app with the CGI basics (CONTENT_LENGTH absent or "0")',
} as const;

/** The table row that a gateway front sending CONTENT_LENGTH=0 on every request cannot pass as written. */
export const BASICS_ROW = 'GET / reaches the app with the CGI basics';

/** Why an SCGI front skips BASICS_ROW (every SCGI front: the protocol makes CONTENT_LENGTH mandatory). */
export const SCGI_BASICS_SKIP = 'the SCGI protocol requires CONTENT_LENGTH on every request, so it is "0" without a body; the extra case runs the same row accepting "0"';

/** Poll `probe` every 50 ms until it returns a value or `limitMs` passes. */
async function poll<T>(probe: () => T | undefined, limitMs: number): Promise<T | undefined> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = probe();
    if (v !== undefined || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** GET `path` on the front and resolve with the response once it starts (its body not read yet). */
export function get(port: number, path: string): Promise<{ req: http.ClientRequest; res: http.IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent: false, headers: { Host: `127.0.0.1:${port}` } }, (res) => resolve({ req, res }));
    req.setTimeout(30_000, () => req.destroy(new Error('no response within 30 s')));
    req.on('error', reject);
    req.end();
  });
}

/** Define the extra cases for `front`. */
export function runExtraCases(describeName: string, front: IntegrationFront): void {
  describe(describeName, function () {
    this.timeout(120_000);
    const skip = (name: string): string | undefined => front.extraSkips?.[name];
    const define = (name: string, fn: () => Promise<void>): void => {
      const why = skip(name);
      if (why !== undefined) it.skip(`${name} [skipped on ${front.name}: ${why}]`);
      else it(name, fn);
    };

    // Fronts that skip the basics row (they send CONTENT_LENGTH=0 without a body) still run every other
    // check of that row.
    const basics = conformanceTable.find((c) => c.name === BASICS_ROW);
    if (front.skips?.[BASICS_ROW] !== undefined && basics !== undefined) {
      define(EXTRA.basicsZeroLength, async () => {
        const c: ConformanceCase = { ...basics, name: EXTRA.basicsZeroLength, expect: { ...basics.expect, environ: { ...basics.expect.environ, CONTENT_LENGTH: absentOr('0') } } };
        const res = await front.send({ ...c.request, path: front.mount + c.request.path });
        checkCase(c, res, { mount: front.mount });
      });
    }

    define(EXTRA.header6k, async () => {
      const c: ConformanceCase = {
        name: EXTRA.header6k,
        request: { method: 'GET', path: `${APP_PATHS.bigHeader}?bytes=6144` },
        expect: { status: 200, headers: { 'x-large': 'x'.repeat(6144) } },
      };
      const res = await front.send({ ...c.request, path: front.mount + c.request.path });
      checkCase(c, res, { mount: front.mount });
    });

    if (front.bigUpload) {
      define(EXTRA.big, async () => {
        hundredDigest ??= digestOf(HUNDRED_MB);
        const c: ConformanceCase = {
          name: EXTRA.big,
          request: { method: 'POST', path: '/upload', headers: [['Content-Type', 'application/octet-stream']], body: HUNDRED_MB },
          expect: { status: 200, environ: { CONTENT_LENGTH: String(HUNDRED_MB.size) }, body: hundredDigest },
        };
        const res = await front.send({ ...c.request, path: front.mount + c.request.path });
        checkCase(c, res, { mount: front.mount });
      });
    }

    if (front.port !== undefined) {
      const port = front.port;
      define(EXTRA.streams, async () => {
        const id = randomUUID();
        const { res } = await get(port(), `${front.mount}${PROBES.gate}?id=${id}`);
        expect(res.statusCode).to.equal(200);
        let text = '';
        let opened = false;
        for await (const chunk of res) {
          text += (chunk as Buffer).toString('latin1');
          // Open the gate only once `first` is here: a buffering front never gets this far before the app's
          // own 10 s gate timeout, and the body then says `gate-timeout`.
          if (!opened && text.includes('first\n')) {
            opened = true;
            openGate(id);
          }
        }
        expect(text, 'the front held back the first chunk until the app was done (it buffers)').to.equal('first\nsecond\n');
      });

      define(EXTRA.abort, async () => {
        const id = randomUUID();
        const { req, res } = await get(port(), `${front.mount}${PROBES.endless}?id=${id}`);
        expect(res.statusCode).to.equal(200);
        let received = 0;
        await new Promise<void>((resolve) => {
          res.on('data', (c: Buffer) => {
            received += c.length;
            if (received >= 256 * 1024) {
              req.destroy();
              resolve();
            }
          });
          res.on('close', () => resolve());
        });
        expect(received, 'bytes received before hanging up').to.be.at.least(256 * 1024);
        const produced = await poll(() => closedRecord(id), 15_000);
        expect(produced, 'close() was never called after the client went away').to.not.equal(undefined);
        // 1024 chunks is the probe's own bound: reaching it means the front drained the whole body anyway.
        expect(produced!, 'the app produced its whole body: the front did not pass the abort on').to.be.below(1024);
      });
    }
  });
}
