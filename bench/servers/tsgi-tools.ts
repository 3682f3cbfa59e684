/**
 * Bench server for `npm run bench:static`: the built-in server, inline (single mode), with one of the tools.
 *     node tsgi-tools.js static DIR     staticDir over DIR (the file goes out through the sink's sendFile)
 *     node tsgi-tools.js text           a 20 KiB text/plain response from an array body
 *     node tsgi-tools.js text-gzip      the same under gzip (the client sends Accept-Encoding: gzip)
 * Prints {"url"} when ready.
 */
import { startHttpServer } from '../../adapters/http/server.js';
import type { App } from '../../app-api/types.js';
import { gzip } from '../../app-api/tools/gzip.js';
import { staticDir } from '../../app-api/tools/staticdir.js';
import { InlineDispatcher } from '../../gateway/core/dispatch.js';
import { ErrorLog } from '../../gateway/core/log.js';
import { ready, untilSignal } from '../measure.js';

/** 20 KiB of text that compresses like a typical HTML page (not one repeated byte). */
export const TEXT_20K = Array.from({ length: 320 }, (_, i) => `<li id="item-${i}">item ${i}: ${(i * 2654435761 % 1e9).toString(36)} lorem ipsum</li>\n`)
  .join('')
  .padEnd(20 * 1024, '.')
  .slice(0, 20 * 1024);

const [what, dir] = process.argv.slice(2);
const notFound: App = (_env, startResponse) => {
  startResponse('404 Not Found', [['Content-Type', 'text/plain']]);
  return ['not found\n'];
};
const text: App = (_env, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
  return [TEXT_20K];
};
const app = what === 'static' ? staticDir(notFound, { dir }) : what === 'text-gzip' ? gzip(text) : text;

const log = new ErrorLog();
const server = await startHttpServer(new InlineDispatcher(app, { log }), { host: '127.0.0.1', port: 0, log });
ready(server.url);
await untilSignal();
await server.close(1000);
process.exit(0);
