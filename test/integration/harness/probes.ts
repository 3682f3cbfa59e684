/**
 * Probe routes the integration suites add in front of the conformance app, for what the table cannot see
 * from one response: that `close()` runs when the client goes away mid-response, and that a front streams
 * (passes bytes on before the app is done) instead of buffering the whole response.
 *
 * State goes through files in a shared directory, because under CGI, mod_fcgid or lighttpd's bin-path the
 * app runs in a process the test did not start. Ids are random, so parallel runs do not mix.
 *
 * - `/-/it/endless?id=ID`: streams 64 KiB chunks (bounded: 1024 chunks = 64 MiB or 60 s); its body's `close()`
 *   writes `ID.closed` holding the number of chunks produced.
 * - `/-/it/gate?id=ID`: sends `first\n`, then waits (at most 10 s) until the test creates `ID.go`, then sends
 *   `second\n`. A front that buffers never shows `first` before the gate opens.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App, Body, Chunk } from '../../../app-api/types.js';

/** Where probe state lives: $TSGI_IT_STATE_DIR, else <tmp>/tsgi-it-state (world-writable: www-data writes it too). */
export function stateDir(): string {
  const dir = process.env.TSGI_IT_STATE_DIR ?? join(tmpdir(), 'tsgi-it-state');
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o1777);
  }
  return dir;
}

/** Probe path prefixes (PATH_INFO). */
export const PROBES = { endless: '/-/it/endless', gate: '/-/it/gate' } as const;

const ID = /^[a-z0-9-]{8,64}$/;
const CHUNK = Buffer.alloc(64 * 1024, 0x62);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function endless(id: string): Body {
  let produced = 0;
  let closed = false;
  const started = Date.now();
  return {
    [Symbol.asyncIterator]() {
      return {
        async next(): Promise<IteratorResult<Chunk>> {
          if (closed || produced >= 1024 || Date.now() - started > 60_000) return { done: true, value: undefined };
          produced++;
          // A short pause per chunk keeps this from flooding a front that buffers to disk.
          if (produced % 16 === 0) await sleep(5);
          return { done: false, value: CHUNK };
        },
      };
    },
    close() {
      closed = true;
      const file = join(stateDir(), `${id}.closed`);
      writeFileSync(file, String(produced));
      try {
        chmodSync(file, 0o666);
      } catch {
        /* owned by another user: fine */
      }
    },
  };
}

async function* gate(id: string): AsyncGenerator<Chunk> {
  yield 'first\n';
  const go = join(stateDir(), `${id}.go`);
  const deadline = Date.now() + 10_000;
  while (!existsSync(go) && Date.now() < deadline) await sleep(20);
  yield existsSync(go) ? 'second\n' : 'gate-timeout\n';
}

/** Wrap `app` with the probe routes. */
export function withProbes(app: App): App {
  return (environ, startResponse) => {
    const path = environ.PATH_INFO;
    if (path === PROBES.endless || path === PROBES.gate) {
      const id = new URLSearchParams(environ.QUERY_STRING).get('id') ?? '';
      if (!ID.test(id)) {
        startResponse('400 Bad Request', [['Content-Type', 'text/plain']]);
        return ['bad id\n'];
      }
      // X-Accel-Buffering: no asks nginx not to buffer this response even where buffering is on.
      startResponse('200 OK', [['Content-Type', 'application/octet-stream'], ['X-Accel-Buffering', 'no'], ['Cache-Control', 'no-cache']]);
      return path === PROBES.endless ? endless(id) : gate(id);
    }
    return app(environ, startResponse);
  };
}

/** Was close() recorded for `id`? Returns the chunk count or undefined. */
export function closedRecord(id: string): number | undefined {
  const file = join(stateDir(), `${id}.closed`);
  return existsSync(file) ? Number(readFileSync(file, 'utf8')) : undefined;
}

/** Open the gate of `/-/it/gate?id=ID`. */
export function openGate(id: string): void {
  const file = join(stateDir(), `${id}.go`);
  writeFileSync(file, '');
}
