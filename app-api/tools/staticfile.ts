/**
 * `staticFile(app, { filename, mount })` / `tools.staticfile.*`: answer one URL path with one file (CherryPy's
 * staticfile tool, e.g. `[/favicon.ico] tools.staticfile.on = 1`, `tools.staticfile.filename = img/fav.ico`).
 * Only GET and HEAD at exactly that path are served; anything else, and a missing file, falls through to the
 * wrapped app. The same validators, 304, Range and HEAD handling as staticdir.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { App, Body, Environ, StartResponse } from '../types.js';
import { normaliseMount } from './static/mount.js';
import { sendFile } from './static/send-file.js';
import type { ToolDef } from './tool-def.js';

/** Options of staticFile. */
export interface StaticFileOptions {
  /** The file to serve (relative to the current directory, or absolute). */
  filename: string;
  /** The URL path (within PATH_INFO) that answers with the file, e.g. `/favicon.ico`. '' or '/': the root path. */
  mount: string;
}

/** Wrap `app` so `opts.mount` answers with `opts.filename`. */
export function staticFile(app: App, opts: StaticFileOptions): App {
  const file = resolve(opts.filename);
  const mount = normaliseMount(opts.mount);

  async function serveFile(environ: Environ, startResponse: StartResponse): Promise<Body> {
    const st = await stat(file).catch(() => null);
    if (st === null || !st.isFile()) return app(environ, startResponse);
    return sendFile(environ, startResponse, file, st);
  }

  return function staticFileApp(environ, startResponse) {
    const method = environ.REQUEST_METHOD;
    const path = environ.PATH_INFO === '/' ? '' : environ.PATH_INFO;
    if ((method !== 'GET' && method !== 'HEAD') || path !== mount) return app(environ, startResponse);
    return serveFile(environ, startResponse);
  };
}

/** `tools.staticfile.*` options as the INI reads them. */
export interface StaticFileToolOptions {
  filename: string;
}

/** The INI tool: the section's path answers with `filename`. */
export const staticFileTool: ToolDef<StaticFileToolOptions> = {
  name: 'staticfile',
  doc: 'Answer the section\'s URL path with one file (ETag, 304, Range, HEAD); a missing file falls through to the app.',
  options: {
    filename: { type: 'path', doc: 'The file to serve (relative paths: against the config file\'s folder).' },
  },
  create(app, options, ctx) {
    return staticFile(app, { filename: options.filename, mount: ctx.mountPath });
  },
};
