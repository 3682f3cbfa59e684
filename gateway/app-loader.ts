/**
 * Loading the app named on the command line: `MODULE[:EXPORT]`, as gunicorn's `module:variable`.
 * MODULE is a path to a JS file (resolved from the working directory) or a package name. EXPORT defaults
 * to `app`, then `default`; `EXPORT()` calls a factory (sync or async) that returns the app.
 */
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsgiError, TsgiError } from '../app-api/errors.js';
import type { App } from '../app-api/types.js';
import { adaptApp } from './app-shape.js';
import type { AppInterface } from './config/options.js';

/** A parsed `MODULE[:EXPORT]`. */
export interface AppSpec {
  /** As typed, for messages and the start line. */
  spec: string;
  module: string;
  /** The export to use; undefined = `app`, then `default`. */
  exportName: string | undefined;
  /** `EXPORT()`: call the export to get the app. */
  factory: boolean;
  /** The interface the export speaks (`interface` option); default `auto`: by shape (app-shape.ts). */
  interface?: AppInterface;
}

/** Split `MODULE[:EXPORT]`. A colon followed by anything but an identifier (`C:\x`) stays in MODULE. */
export function parseAppSpec(spec: string): AppSpec {
  const m = /^(.+):([A-Za-z_$][\w$]*)(\(\))?$/.exec(spec);
  if (m === null) return { spec, module: spec, exportName: undefined, factory: false };
  return { spec, module: m[1], exportName: m[2], factory: m[3] !== undefined };
}

function loadError(spec: AppSpec, problem: string, fix: string, cause?: unknown): TsgiError {
  return tsgiError('TSGI_ERR_APP_LOAD', { problem: `${spec.spec}: ${problem}`, fix }, cause === undefined ? undefined : { cause });
}

function isPathLike(module: string): boolean {
  return module.startsWith('.') || path.isAbsolute(module) || /\.(c|m)?[jt]s$/.test(module);
}

/** The URL to import: a file under `cwd`, else a package resolved from `cwd`'s node_modules. */
export function resolveAppModule(spec: AppSpec, cwd = process.cwd()): string {
  const file = path.resolve(cwd, spec.module);
  if (existsSync(file) && statSync(file).isFile()) {
    if (/\.(c|m)?ts$/.test(file)) {
      throw loadError(spec, 'is TypeScript, which Node cannot import', 'build it (npx tsc) and give the .js file, e.g. dist/examples/hello/app.js');
    }
    return pathToFileURL(file).href;
  }
  if (isPathLike(spec.module)) throw loadError(spec, `no such file ${file}`, `give a path relative to ${cwd} or an absolute one`);
  try {
    return pathToFileURL(createRequire(path.join(cwd, 'noop.js')).resolve(spec.module)).href;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // An ESM-only package may refuse require.resolve; a plain import can still find it.
    if (code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') return spec.module;
    throw loadError(spec, `is neither a file under ${cwd} nor an installed package`, "give the path of the app's .js file", err);
  }
}

/** Import the module and return its app function. Throws TSGI_ERR_APP_LOAD naming what to fix. */
export async function loadApp(specOrText: AppSpec | string, cwd = process.cwd()): Promise<App> {
  const spec = typeof specOrText === 'string' ? parseAppSpec(specOrText) : specOrText;
  const url = resolveAppModule(spec, cwd);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    throw loadError(spec, `importing it failed: ${(err as Error)?.message ?? String(err)}`, 'fix what the module does when imported (node MODULE shows the stack)', err);
  }
  let value: unknown;
  let name: string;
  if (spec.exportName !== undefined) {
    name = spec.exportName;
    value = mod[name] ?? (mod.default as Record<string, unknown> | undefined)?.[name];
    if (value === undefined) {
      const names = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
      throw loadError(spec, `has no export ${name}`, names.length > 0 ? `name one of its function exports: ${names.join(', ')}` : 'export the app under that name, or give another MODULE:EXPORT');
    }
  } else {
    name = mod.app !== undefined ? 'app' : 'default';
    value = mod.app ?? mod.default;
    if (value !== null && typeof value === 'object' && typeof (value as { app?: unknown }).app === 'function' && typeof (value as { fetch?: unknown }).fetch !== 'function') {
      name = 'default.app'; // CommonJS `module.exports = { app }`
      value = (value as { app: unknown }).app;
    }
    if (value === undefined) throw loadError(spec, 'exports neither app nor default', 'add `export const app = (environ, startResponse) => ...` or name the export as MODULE:EXPORT');
  }
  if (spec.factory) {
    if (typeof value !== 'function') throw loadError(spec, `${name} is not a function, so ${name}() cannot build the app`, `export a function that returns the app, or drop the () after ${name}`);
    try {
      value = await (value as () => unknown)();
    } catch (err) {
      throw loadError(spec, `${name}() threw: ${(err as Error)?.message ?? String(err)}`, `fix ${name}() so it returns the app`, err);
    }
    name = `${name}()`;
  }
  if (typeof value !== 'function' && !(value !== null && typeof value === 'object' && typeof (value as { fetch?: unknown }).fetch === 'function')) {
    throw loadError(spec, `${name} is ${value === null ? 'null' : `a ${typeof value}`}, not an app`, 'export a function (environ, startResponse) => body, a fetch handler or a Node listener');
  }
  // adaptApp's own TSGI_ERR_APP_LOAD names the module through `what`.
  return adaptApp(value, spec.interface ?? 'auto', `${spec.spec}: ${name}`);
}
