/**
 * The `middleware` option: connect/express middleware named by package (`helmet, compression`), resolved from
 * the working directory as the app module is, and run by @fastify/middie in front of the app. A package
 * whose export takes three arguments is the middleware itself; otherwise it is a factory called with no
 * arguments (helmet(), compression(), morgan()), the defaults each package documents.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tsgiError, TsgiError } from '../../app-api/errors.js';

/** server.ts's ConnectMiddleware, restated so the two files do not import each other. */
type ConnectMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

function configError(name: string, problem: string, fix: string, cause?: unknown): TsgiError {
  return tsgiError('TSGI_ERR_CONFIG', { where: 'middleware', problem: `${name} ${problem}`, fix }, cause === undefined ? undefined : { cause });
}

/** Import each named package from `cwd` and return its middleware, in order. */
export async function loadMiddleware(names: readonly string[], cwd = process.cwd()): Promise<ConnectMiddleware[]> {
  const require = createRequire(path.join(cwd, 'noop.js'));
  const out: ConnectMiddleware[] = [];
  for (const name of names) {
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(require.resolve(name)).href)) as { default?: unknown };
    } catch (err) {
      throw configError(name, `cannot be loaded from ${cwd} (${String((err as Error).message).split('\n')[0]})`, `install it (npm install ${name}) or remove it from the list`, err);
    }
    const exported = typeof mod.default === 'function' ? mod.default : mod;
    if (typeof exported !== 'function') throw configError(name, 'exports no function', 'give a package whose default export is connect middleware or a factory of one');
    const mw = exported.length >= 3 ? exported : (exported as () => unknown)();
    if (typeof mw !== 'function') throw configError(name, `(called with no arguments) returned ${typeof mw}, not a (req, res, next) middleware`, 'give a package whose default export is connect middleware or a factory called with no arguments');
    out.push(mw as ConnectMiddleware);
  }
  return out;
}
