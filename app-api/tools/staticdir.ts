/**
 * `staticDir(app, { dir, root, index, mount })` / `tools.staticdir.*`: serve the files of a folder under a
 * URL path, CherryPy's staticdir tool. Only GET and HEAD are served. A request whose file does not exist
 * (or is a folder without index, a dot-file, or not a regular file) FALLS THROUGH to the wrapped app, as
 * CherryPy's staticdir hands over to the normal handler when it finds no file: so an app can serve its own
 * 404 page or generated content under the same path. A path that tries to leave the folder (`..`, encoded or
 * not, a backslash, NUL, a symlink whose target is outside) is answered 403 and logged, never passed on.
 * A folder asked for without its trailing slash is redirected (301) to it when it has an index file, so
 * relative links in the index work.
 */
import { realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { App, Body, Environ, StartResponse } from '../types.js';
import { below, encodePath, normaliseMount } from './static/mount.js';
import { refuse } from './static/refuse.js';
import { isInside, mapPath, realpathInside } from './static/safe-path.js';
import { sendFile } from './static/send-file.js';
import type { ToolDef } from './tool-def.js';

/** Options of staticDir. */
export interface StaticDirOptions {
  /** The folder to serve; relative to `root`. */
  dir: string;
  /** What a relative `dir` is resolved against. Default: the current directory (the INI: the config file's folder). */
  root?: string;
  /** The file served for a folder URL (`index.html`); '' (the default, as CherryPy): folders are not served. */
  index?: string;
  /** The URL path (within PATH_INFO) the folder appears at: `/static` serves `dir/a.css` at `/static/a.css`. Default '' (everything). */
  mount?: string;
}

/** Wrap `app` so files of `opts.dir` answer under `opts.mount`; everything else goes to `app`. */
export function staticDir(app: App, opts: StaticDirOptions): App {
  const base = resolve(opts.root ?? process.cwd(), opts.dir);
  const mount = normaliseMount(opts.mount);
  const index = opts.index ?? '';
  // Resolved once; a folder missing at startup is looked up again on the next request.
  let realRoot: Promise<string | null> | null = null;
  const rootOf = (): Promise<string | null> => {
    if (realRoot === null) {
      realRoot = realpath(base).catch(() => null);
      realRoot.then((r) => {
        if (r === null) realRoot = null;
      });
    }
    return realRoot;
  };

  async function serveStatic(environ: Environ, startResponse: StartResponse, rel: string): Promise<Body> {
    const verdict = mapPath(base, rel);
    if (verdict.kind === 'refused') return refuse(environ, startResponse, 'staticdir', verdict.reason);
    if (verdict.kind === 'hidden') return app(environ, startResponse);
    const root = await rootOf();
    if (root === null) return app(environ, startResponse);
    let real = await realpathInside(root, verdict.path);
    if (real === null) {
      // Missing, or there but resolving outside the root: only the second is an attack worth a 403.
      const st = await stat(verdict.path).catch(() => null);
      return st === null ? app(environ, startResponse) : refuse(environ, startResponse, 'staticdir', 'it resolves outside the folder (a symlink)');
    }
    let st = await stat(real).catch(() => null);
    let name = verdict.path;
    if (st !== null && st.isDirectory()) {
      if (index === '') return app(environ, startResponse);
      const inner = await realpathInside(root, join(real, index));
      const ist = inner === null ? null : await stat(inner).catch(() => null);
      if (inner === null || ist === null || !ist.isFile()) return app(environ, startResponse);
      if (!verdict.dirSlash) {
        const query = environ.QUERY_STRING === '' ? '' : '?' + environ.QUERY_STRING;
        startResponse('301 Moved Permanently', [['Location', encodePath(environ.SCRIPT_NAME + environ.PATH_INFO + '/') + query], ['Content-Length', '0']]);
        return [];
      }
      real = inner;
      st = ist;
      name = join(verdict.path, index);
    }
    if (st === null || !st.isFile() || !isInside(root, real)) return app(environ, startResponse);
    return sendFile(environ, startResponse, real, st, name);
  }

  return function staticDirApp(environ, startResponse) {
    const method = environ.REQUEST_METHOD;
    const rel = method === 'GET' || method === 'HEAD' ? below(mount, environ.PATH_INFO) : null;
    if (rel === null) return app(environ, startResponse);
    return serveStatic(environ, startResponse, rel);
  };
}

/** `tools.staticdir.*` options as the INI reads them (defaults applied by the registry). */
export interface StaticDirToolOptions {
  dir: string;
  root: string;
  index: string;
}

/** The INI tool: `[/static] tools.staticdir.on = 1`, `tools.staticdir.dir = public`; mounted at the section's path. */
export const staticDirTool: ToolDef<StaticDirToolOptions> = {
  name: 'staticdir',
  doc: 'Serve the files of a folder under the section\'s URL path (ETag, 304, Range, HEAD); unknown files fall through to the app.',
  options: {
    dir: { type: 'string', doc: 'The folder to serve, relative to root (or absolute).' },
    root: { type: 'path', default: '', doc: 'What a relative dir is resolved against; default: the config file\'s folder.' },
    index: { type: 'string', default: '', doc: 'The file served for a folder URL, e.g. index.html; empty: folders are not served.' },
  },
  create(app, options, ctx) {
    return staticDir(app, { dir: options.dir, root: options.root === '' ? ctx.baseDir : options.root, index: options.index, mount: ctx.mountPath });
  },
};
