/**
 * A built-in server in its own process, for tests that measure the server's memory (RSS) from outside.
 * Prints `{"port": N}` on one stdout line once listening; exits on SIGTERM or when stdin closes.
 *
 * - POST /upload: hashes tsgi.input as it arrives, answers JSON {length, sha256};
 * - GET /download?chunks=N: a generator body of N chunks of 64 KiB (byte i of a chunk = i & 0xff).
 */
import { createHash } from 'node:crypto';
import type { App } from '../../app-api/types.js';
import { startHttpServer } from '../../adapters/http/server.js';
import { InlineDispatcher } from '../../gateway/core/dispatch.js';
import { ErrorLog } from '../../gateway/core/log.js';

/** The download chunk: 64 KiB, byte i = i & 0xff. */
export const DOWNLOAD_CHUNK = Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => i & 0xff));

const app: App = async (environ, startResponse) => {
  if (environ.PATH_INFO === '/upload') {
    const hash = createHash('sha256');
    let length = 0;
    for await (const chunk of environ['tsgi.input']) {
      hash.update(chunk);
      length += chunk.length;
    }
    startResponse('200 OK', [['Content-Type', 'application/json']]);
    return [JSON.stringify({ length, sha256: hash.digest('hex') })];
  }
  const chunks = Number(new URLSearchParams(environ.QUERY_STRING).get('chunks') ?? '1');
  startResponse('200 OK', [['Content-Type', 'application/octet-stream'], ['Content-Length', String(chunks * DOWNLOAD_CHUNK.length)]]);
  return (function* () {
    for (let i = 0; i < chunks; i++) yield DOWNLOAD_CHUNK;
  })();
};

async function main(): Promise<void> {
  const log = new ErrorLog();
  const server = await startHttpServer(new InlineDispatcher(app, { log }), { port: 0, log });
  process.stdout.write(JSON.stringify({ port: server.port }) + '\n');
  const stop = (): void => void server.close(1000).then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) void main();
