/**
 * Sessions, as CherryPy's `tools.sessions`: the app reads and writes a plain object at
 * `environ['tsgi.session']`. It is loaded before the app runs and saved after the response, only when it
 * changed (or when half its lifetime has passed, to slide the expiry), so a synchronous app in a pool
 * thread uses it like an async one.
 *
 * Locking: as CherryPy's default (`locking = 'implicit'`), a request holds its session's lock from before
 * the app runs until the session is saved after the last byte of the response; a second request of the
 * same session waits for it. So two concurrent requests of one session run one after the other and no write
 * is lost; requests of different sessions never wait for each other. A holder that died (a killed process)
 * leaves a lock that ends after 30 seconds.
 *
 * Ids: only ids this tool generated (ids.ts) are accepted; an id that is malformed, unknown or expired gets
 * a new one (so a client cannot choose its id: no session fixation). At login, call
 * `regenerateSessionId(environ)` before startResponse: the data moves to a new id and the old one is removed.
 * The cookie is a browser-session cookie (no Max-Age) set when the id is new; the server side expires
 * after `timeout` minutes without a save.
 */
import { parseCookie, stringifySetCookie } from 'cookie';
import { tsgiError } from '../errors.js';
import type { App, Environ } from '../types.js';
import { isValidSessionId, newSessionId } from './sessions/ids.js';
import { storeFor, type StorageType } from './sessions/stores.js';
import { observe } from './observe.js';
import type { ToolContext, ToolDef } from './tool-def.js';

/** environ key of the session object. */
export const SESSION_KEY = 'tsgi.session';
/** environ key of the session id. */
export const SESSION_ID_KEY = 'tsgi.session_id';
const REGENERATE_KEY = 'tsgi.session_regenerate';

/** How long a lock of a request that died blocks its session. */
const LOCK_STALE_MS = 30_000;

/** Options of sessions(); the INI names are the same (`tools.sessions.storage_type`). */
export interface SessionOptions {
  storage_type: StorageType;
  /** Folder of the file store. */
  storage_path: string;
  /** Server of the redis store. */
  redis_url: string;
  /** Minutes a session lives without being saved. */
  timeout: number;
  /** Cookie name. */
  name: string;
  secure: boolean;
  httponly: boolean;
  samesite: 'lax' | 'strict' | 'none';
}

const DEFAULTS: SessionOptions = {
  storage_type: 'memory',
  storage_path: '',
  redis_url: 'redis://127.0.0.1:6379',
  timeout: 60,
  name: 'session_id',
  secure: false,
  httponly: true,
  samesite: 'lax',
};

/**
 * Give the request's session a new id (call it at login, before startResponse): the data stays, the old id
 * is removed from the store when the request ends, and the cookie carries the new id. Returns the new id.
 */
export function regenerateSessionId(environ: Environ): string {
  const regenerate = environ[REGENERATE_KEY];
  if (typeof regenerate !== 'function') {
    throw tsgiError('TSGI_ERR_CONFIG', { where: 'regenerateSessionId', problem: 'no session in this request', fix: 'switch tools.sessions.on = 1 for this path or wrap the app with sessions()' });
  }
  return (regenerate as () => string)();
}

function plainObject(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Wrap `app` with sessions. */
export function sessions(app: App, options: Partial<SessionOptions> = {}): App {
  const o: SessionOptions = { ...DEFAULTS, ...options };
  if (o.storage_type === 'file' && o.storage_path === '') {
    throw tsgiError('TSGI_ERR_CONFIG', { where: 'tools.sessions', problem: 'storage_type = file needs storage_path', fix: 'set tools.sessions.storage_path to a writable directory' });
  }
  const store = storeFor(o.storage_type, o.storage_type === 'file' ? o.storage_path : o.redis_url);
  const ttlMs = o.timeout * 60_000;
  const setCookie = (id: string, environ: Environ): string =>
    stringifySetCookie({ name: o.name, value: id, path: environ.SCRIPT_NAME || '/', httpOnly: o.httponly, secure: o.secure, sameSite: o.samesite });

  return async (environ, startResponse) => {
    const sent = parseCookie(String(environ.HTTP_COOKIE ?? ''))[o.name];
    let id = isValidSessionId(sent) ? sent : newSessionId();
    let unlock = await store.lock(id, LOCK_STALE_MS);
    let stored;
    try {
      stored = await store.load(id);
    } catch (err) {
      await unlock();
      throw err;
    }
    if (stored === undefined && id === sent) {
      // Unknown or expired: a fresh id, never the one the client offered.
      await unlock();
      id = newSessionId();
      unlock = await store.lock(id, LOCK_STALE_MS);
    }
    const before = JSON.stringify(stored?.data ?? {});
    let oldId: string | undefined;
    environ[SESSION_KEY] = stored?.data ?? {};
    environ[SESSION_ID_KEY] = id;
    environ[REGENERATE_KEY] = () => {
      oldId ??= id;
      id = newSessionId();
      environ[SESSION_ID_KEY] = id;
      return id;
    };
    return observe(app, environ, startResponse, {
      onStart(_status, headers) {
        return id !== sent ? [...headers, ['Set-Cookie', setCookie(id, environ)]] : undefined;
      },
      async onEnd() {
        try {
          const data = plainObject(environ[SESSION_KEY]);
          const after = JSON.stringify(data);
          if (oldId !== undefined && stored !== undefined) await store.remove(oldId);
          const changed = after !== before || (oldId !== undefined && after !== '{}');
          const halfGone = stored !== undefined && stored.expires - Date.now() < ttlMs / 2;
          if (changed || halfGone) await store.save(id, data, ttlMs);
        } finally {
          await unlock();
        }
      },
    });
  };
}

/** `tools.sessions.*`. */
export const sessionsTool: ToolDef<SessionOptions> = {
  name: 'sessions',
  doc: "A session object at environ['tsgi.session'], loaded before the app and saved after the response when it changed; one request of a session at a time.",
  options: {
    storage_type: { type: 'string', default: 'memory', choices: ['memory', 'file', 'redis'], doc: 'Where sessions are kept: memory (this process only), file (storage_path; survives restarts, shared on one machine) or redis (redis_url; shared everywhere).' },
    storage_path: { type: 'path', default: '', doc: 'The folder of the file store (relative to the config file).' },
    redis_url: { type: 'string', default: DEFAULTS.redis_url, doc: 'The redis server of the redis store.' },
    timeout: { type: 'number', default: DEFAULTS.timeout, doc: 'Minutes a session lives without being saved.' },
    name: { type: 'string', default: DEFAULTS.name, doc: 'The cookie name.' },
    secure: { type: 'boolean', default: false, doc: 'Send the cookie over HTTPS only.' },
    httponly: { type: 'boolean', default: true, doc: 'Hide the cookie from scripts in the page.' },
    samesite: { type: 'string', default: 'lax', choices: ['lax', 'strict', 'none'], doc: 'The cookie SameSite attribute.' },
  },
  create: (app, options) => sessions(app, options),
  startup(options: SessionOptions, ctx: ToolContext) {
    if (options.storage_type !== 'memory') return;
    if (ctx.mode === 'processPool' || ctx.mode === 'forking') {
      ctx.warn(`tools.sessions.storage_type = memory under ${ctx.mode}: each process has its own sessions, so a client's next request may land where its session is unknown; use storage_type = file or redis`);
    } else if (ctx.mode === 'threadPool' || ctx.mode === 'threading') {
      ctx.warn(`tools.sessions.storage_type = memory under ${ctx.mode}: each thread has its own heap and so its own sessions; use storage_type = file or redis`);
    }
  },
};
