/**
 * The app the CGI tests run through examples/cgi/app.cgi (TSGI_APP points at the compiled file). One module,
 * dispatching on PATH_INFO, wrapped in lint() (a violation fails the request with a 500 and a log line):
 *
 * - `/throw`: throws before startResponse (must become a Status: 500);
 * - `/status`: answers 201 with an X-Custom header;
 * - `/proxy`: reports HTTP_PROXY as the app's environ, process.env and a child process see it;
 * - `/sync`: a synchronous app that reads its body with readSync and answers its sha256;
 * - `/timer`: leaves an interval running (the CGI process must still exit);
 * - `/big?bytes=N&array=1`: N bytes (a repeating 0..255 pattern), streamed in 64 KiB chunks, or with
 *   `array=1` as one chunk of an array body;
 * - `/endless?marker=FILE`: 64 KiB chunks, at most 4096 (256 MiB); its close() writes FILE with the
 *   number of chunks produced (the client-abort tests look for it);
 * - anything else: examples/echo-environ.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { lint } from '../../app-api/lint.js';
import type { App } from '../../app-api/types.js';
import { app as echoEnviron } from '../../examples/echo-environ/app.js';

const json = (startResponse: Parameters<App>[1], value: unknown): string[] => {
  startResponse('200 OK', [['Content-Type', 'application/json']]);
  return [JSON.stringify(value)];
};

/** `size` bytes of 0, 1, ..., 255, 0, 1, ... (tests rebuild it to compare). */
export function pattern(size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) buf[i] = i & 0xff;
  return buf;
}

const inner: App = (environ, startResponse) => {
  switch (environ.PATH_INFO) {
    case '/throw':
      throw new Error('boom before headers');
    case '/status':
      startResponse('201 Created', [['Content-Type', 'text/plain'], ['X-Custom', 'yes']]);
      return ['made\n'];
    case '/proxy': {
      const child = execFileSync(process.execPath, ['-e', 'process.stdout.write(process.env.HTTP_PROXY ?? "<absent>")'], { encoding: 'utf8' });
      return json(startResponse, { environ: environ.HTTP_PROXY ?? '<absent>', processEnv: process.env.HTTP_PROXY ?? '<absent>', child });
    }
    case '/sync': {
      const input = environ['tsgi.input'];
      const hash = createHash('sha256');
      let length = 0;
      for (;;) {
        const chunk = input.readSync(7000);
        if (chunk.length === 0) break;
        hash.update(chunk);
        length += chunk.length;
      }
      return json(startResponse, { length, sha256: hash.digest('hex') });
    }
    case '/big': {
      const q = new URLSearchParams(environ.QUERY_STRING);
      const size = Number(q.get('bytes'));
      const all = pattern(size);
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      if (q.get('array') === '1') return [all];
      return (async function* () {
        for (let off = 0; off < size; off += 65536) yield all.subarray(off, Math.min(size, off + 65536));
      })();
    }
    case '/endless': {
      const marker = new URLSearchParams(environ.QUERY_STRING).get('marker') ?? '';
      const chunk = Buffer.alloc(65536, 0x61);
      let produced = 0;
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      return {
        [Symbol.asyncIterator]: () => ({
          next: async (): Promise<IteratorResult<Buffer>> => {
            if (produced >= 4096) return { done: true, value: undefined };
            produced++;
            return { done: false, value: chunk };
          },
        }),
        close: () => writeFileSync(marker, String(produced)),
      };
    }
    case '/timer':
      setInterval(() => {}, 1000);
      return json(startResponse, { timer: 'left running' });
    default:
      return echoEnviron(environ, startResponse);
  }
};

export const app: App = lint(inner, { onViolation: (err) => process.stderr.write(`LINT VIOLATION ${err.message}\n`) });
export default app;
