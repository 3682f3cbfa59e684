/**
 * The shape shared by tools that change a response on its way out (gzip, encode): run the wrapped app with a
 * startResponse of our own, then hand status, headers and the whole body (as a Body, never read ahead) to a
 * rewrite function, and only then call the server's startResponse. Chunks the app sends through the legacy
 * `write()` callable are kept and sent before the returned body (so a write()-style app's output is buffered
 * until it returns: write() is the legacy path, PEP 3333 says as much). An app that calls startResponse only
 * when its body is first iterated is supported: the first chunk is pulled before the rewrite runs.
 */
import { tsgiError } from '../errors.js';
import type { App, Body, Chunk, Environ, HeaderList, StartResponse } from '../types.js';

/** A response as the rewrite sees it. */
export interface FilteredResponse {
  status: string;
  headers: HeaderList;
  body: Body;
}

/** Decide what goes out; may return its argument unchanged. */
export type ResponseRewrite = (environ: Environ, response: FilteredResponse) => FilteredResponse;

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return x !== null && (typeof x === 'object' || typeof x === 'function') && typeof (x as PromiseLike<unknown>).then === 'function';
}

/** Iterate any body as async chunks. */
export async function* chunksOf(body: Body): AsyncGenerator<Chunk> {
  if (typeof (body as AsyncIterable<Chunk>)[Symbol.asyncIterator] === 'function') yield* body as AsyncIterable<Chunk>;
  else yield* body as Iterable<Chunk>;
}

/** `head` chunks, then the rest of `it`; close() reaches the original body exactly once. */
function joined(head: Chunk[], it: AsyncIterator<Chunk> | null, original: Body): Body {
  let closed = false;
  return {
    async *[Symbol.asyncIterator]() {
      yield* head;
      if (it === null) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    },
    close() {
      if (closed) return;
      closed = true;
      void it?.return?.();
      return original.close?.();
    },
  };
}

/** Wrap `app` so every response passes through `rewrite` before the server sees it. */
export function filterResponse(app: App, rewrite: ResponseRewrite): App {
  return function filteredApp(environ, startResponse) {
    let status: string | null = null;
    let headers: HeaderList = [];
    const written: Chunk[] = [];
    const own: StartResponse = (s, h, excInfo) => {
      if ((excInfo === undefined || excInfo === null) && status !== null) {
        throw tsgiError('TSGI_ERR_START_RESPONSE_TWICE');
      }
      status = s;
      headers = h;
      return (chunk: Chunk) => {
        written.push(chunk);
      };
    };
    const send = (body: Body): Body => {
      if (status === null) throw tsgiError('TSGI_ERR_NO_START_RESPONSE', { what: 'the app returned a body' });
      const out = rewrite(environ, { status, headers, body });
      startResponse(out.status, out.headers);
      return out.body;
    };
    const finish = (body: Body): Body | Promise<Body> => {
      if (body === null || body === undefined || typeof body !== 'object' || body instanceof Uint8Array) {
        throw tsgiError('TSGI_ERR_BAD_BODY', { problem: `the app returned ${body === null ? 'null' : typeof body}, not an iterable of chunks` });
      }
      if (Array.isArray(body)) {
        if (written.length === 0) return send(body);
        const all = [...written, ...body] as Chunk[] & { close?: () => void | Promise<void> };
        const original = body as Body;
        if (typeof original.close === 'function') all.close = () => original.close!();
        return send(all);
      }
      if (status !== null) return send(written.length === 0 ? body : joined(written.splice(0), chunksOf(body)[Symbol.asyncIterator](), body));
      // startResponse comes with the first chunk: pull it, then decide.
      const it = chunksOf(body)[Symbol.asyncIterator]();
      return it.next().then((first) => send(joined(first.done ? [] : [first.value], first.done ? null : it, body)));
    };
    const result = app(environ, own);
    return isThenable(result) ? Promise.resolve(result).then(finish) : finish(result);
  };
}

/** The value of the first header called `name` (case-insensitive), or undefined. */
export function getHeader(headers: HeaderList, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [n, v] of headers) if (n.toLowerCase() === lower) return v;
  return undefined;
}

/** `headers` without any header called `name`. */
export function withoutHeader(headers: HeaderList, name: string): HeaderList {
  const lower = name.toLowerCase();
  return headers.filter(([n]) => n.toLowerCase() !== lower);
}

/** The total byte length of an array body, or -1 when the body is not an array. */
export function arrayLength(body: Body): number {
  if (!Array.isArray(body)) return -1;
  let n = 0;
  for (const c of body as Chunk[]) n += typeof c === 'string' ? Buffer.byteLength(c) : c.byteLength;
  return n;
}
