/**
 * `tools.caching`: an in-memory response cache, as CherryPy's. GET responses that HTTP allows a shared cache
 * to keep (cache-policy.ts) are stored by URL, Host and the request headers their Vary names, and served
 * with an `Age` header until they go stale; HEAD is answered from a GET's entry. Concurrent misses of one
 * key run the app once and share its response (single-flight), so 50 clients arriving together on a cold
 * page cost one computation. A response larger than `maxsize` is streamed through, not kept.
 *
 * In threadPool and threading modes the entries live in the pool's shared cache (ToolContext.sharedCache):
 * one copy for all threads, single-flight across threads. Elsewhere each process has its own.
 */
import { tsgiError } from '../errors.js';
import type { App, Body, Chunk, Environ, HeaderList, StartResponse } from '../types.js';
import { freshnessMs, requestMayUseCache, varyNames } from './cache-policy.js';
import { LocalEntries, SharedEntries, type CachedResponse, type EntryStore } from './response-cache.js';
import type { ToolContext, ToolDef } from './tool-def.js';

/** Options of caching(); the INI names are the same. */
export interface CachingOptions {
  /** Most responses kept. */
  maxobjects: number;
  /** Most body bytes kept in all (a larger response is not kept). */
  maxsize: number;
  /** Seconds a response without its own lifetime (max-age, Expires) is kept. */
  delay: number;
}

const DEFAULTS: CachingOptions = { maxobjects: 1000, maxsize: 10_000_000, delay: 600 };

/** A response read whole, or (when it outgrew the limit) its start and the rest still to stream. */
type Captured = { status: string; headers: HeaderList; body: Buffer; rest?: undefined } | { status: string; headers: HeaderList; body: Buffer; rest: Body };

function toBuffer(c: Chunk): Buffer {
  return typeof c === 'string' ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
}

/** Run the app and read its response, up to `limit` body bytes. */
async function capture(app: App, environ: Environ, limit: number): Promise<Captured> {
  let status = '';
  let headers: HeaderList = [];
  const chunks: Buffer[] = [];
  let size = 0;
  const start: StartResponse = (s, h) => {
    status = s;
    headers = h;
    return (chunk) => {
      const b = toBuffer(chunk);
      chunks.push(b);
      size += b.length;
    };
  };
  const body = await app(environ, start);
  const it = typeof (body as AsyncIterable<Chunk>)[Symbol.asyncIterator] === 'function' ? (body as AsyncIterable<Chunk>)[Symbol.asyncIterator]() : (body as Iterable<Chunk>)[Symbol.iterator]();
  let done = false;
  try {
    for (;;) {
      const r = await it.next();
      if (r.done === true) break;
      const b = toBuffer(r.value);
      chunks.push(b);
      size += b.length;
      if (size > limit) {
        // Too big to keep: hand the rest on as a stream instead of reading it all into memory.
        done = true;
        const rest: Body = { [Symbol.asyncIterator]: () => it as AsyncIterator<Chunk>, close: () => body.close?.() };
        return { status: requireStatus(status), headers, body: Buffer.concat(chunks), rest };
      }
    }
  } finally {
    if (!done) await body.close?.();
  }
  return { status: requireStatus(status), headers, body: Buffer.concat(chunks) };
}

function requireStatus(status: string): string {
  if (status === '') throw tsgiError('TSGI_ERR_NO_START_RESPONSE', { what: 'the app returned a body' });
  return status;
}

function baseKey(environ: Environ): string {
  return `${(environ.HTTP_HOST as string | undefined) ?? environ.SERVER_NAME}\n${environ.SCRIPT_NAME}${environ.PATH_INFO}?${environ.QUERY_STRING}`;
}

function varyValues(environ: Environ, names: readonly string[]): string[] {
  return names.map((n) => String(environ[`HTTP_${n.toUpperCase().replace(/-/g, '_')}`] ?? ''));
}

function respond(entry: Pick<CachedResponse, 'status' | 'headers' | 'body'>, startResponse: StartResponse, extra: HeaderList = []): Body {
  startResponse(entry.status, [...entry.headers, ...extra]);
  return entry.body.length > 0 ? [entry.body] : [];
}

/** Wrap `app` with a response cache. */
export function caching(app: App, options: Partial<CachingOptions> = {}, ctx?: Pick<ToolContext, 'sharedCache'>): App {
  const o: CachingOptions = { ...DEFAULTS, ...options };
  const store: EntryStore = ctx?.sharedCache !== undefined ? new SharedEntries(ctx.sharedCache, o.maxobjects, o.maxsize) : new LocalEntries(o.maxobjects, o.maxsize);
  // The Vary names last seen for a URL: they complete the key of the next request for it.
  const varyOf = new Map<string, string[]>();

  const keyOf = (environ: Environ, base: string): string => {
    const names = varyOf.get(base) ?? [];
    return names.length === 0 ? base : `${base}\n${names.map((n, i) => `${n}=${varyValues(environ, names)[i]}`).join('\n')}`;
  };

  const serve = async (environ: Environ, startResponse: StartResponse, attempt: number): Promise<Body> => {
    const base = baseKey(environ);
    const key = keyOf(environ, base);
    let own: Captured | undefined;
    const { entry, computed } = await store.getOrCompute(key, async () => {
      const now = Date.now();
      own = await capture(app, { ...environ, REQUEST_METHOD: 'GET' }, o.maxsize);
      const vary = varyNames(own.headers) ?? [];
      const ttl = own.rest !== undefined ? 0 : freshnessMs(own.status, own.headers, o.delay, now);
      return { status: own.status, headers: own.headers, body: ttl > 0 ? own.body : Buffer.alloc(0), stored: now, expires: now + ttl, vary, varyValues: varyValues(environ, vary), pass: ttl <= 0 };
    });
    if (computed && own !== undefined) {
      if (entry.pass !== true) {
        varyOf.set(base, entry.vary);
        // Computed before the URL's Vary names were known: file it under its variant's key instead.
        const variantKey = keyOf(environ, base);
        if (variantKey !== key) {
          store.delete(key);
          store.put(variantKey, entry);
        }
      }
      if (own.rest === undefined) return respond(own, startResponse);
      startResponse(own.status, own.headers);
      const first = own.body;
      const rest = own.rest;
      return {
        async *[Symbol.asyncIterator]() {
          yield first;
          yield* rest as AsyncIterable<Chunk>;
        },
        close: () => rest.close?.(),
      };
    }
    if (entry.pass === true) return app(environ, startResponse);
    if (entry.expires <= Date.now()) {
      store.delete(key);
      return attempt === 0 ? serve(environ, startResponse, 1) : app(environ, startResponse);
    }
    if (entry.vary.length > 0 && varyValues(environ, entry.vary).join('\0') !== entry.varyValues.join('\0')) {
      // Another variant: learn the Vary names so the key tells variants apart, then look again.
      const known = varyOf.get(base);
      varyOf.set(base, entry.vary);
      return attempt === 0 && known?.join() !== entry.vary.join() ? serve(environ, startResponse, 1) : app(environ, startResponse);
    }
    varyOf.set(base, entry.vary);
    return respond(entry, startResponse, [['Age', String(Math.floor((Date.now() - entry.stored) / 1000))]]);
  };

  return (environ, startResponse) => {
    const method = environ.REQUEST_METHOD;
    if ((method !== 'GET' && method !== 'HEAD') || !requestMayUseCache(environ)) return app(environ, startResponse);
    return serve(environ, startResponse, 0);
  };
}

/** `tools.caching.*`. */
export const cachingTool: ToolDef<CachingOptions> = {
  name: 'caching',
  doc: 'An in-memory cache of GET responses honouring Cache-Control, Expires and Vary; concurrent misses of one URL run the app once.',
  options: {
    maxobjects: { type: 'integer', default: DEFAULTS.maxobjects, doc: 'The most responses kept.' },
    maxsize: { type: 'integer', default: DEFAULTS.maxsize, doc: 'The most body bytes kept in all; a larger response is passed through, not kept.' },
    delay: { type: 'number', default: DEFAULTS.delay, doc: 'Seconds a response without max-age, s-maxage or Expires is kept.' },
  },
  create: (app, options, ctx) => caching(app, options, ctx),
};
