/**
 * Run an inner app and watch its response go by without buffering it: the headers as they are started
 * (a tool may add one, as Set-Cookie or Server-Timing), every chunk counted, and one `onEnd` once the last
 * chunk went out, the body failed, or the gateway closed it early. `onEnd` is awaited before the body
 * reports its end, so what it does (save a session, write a log line) is finished before the gateway ends
 * the response: the client's next request sees it.
 */
import type { Body, Chunk, Environ, HeaderList, StartResponse } from '../types.js';
import type { App } from '../types.js';

/** What a tool learns about the response. */
export interface ResponseInfo {
  /** The status line as the app started it (`200 OK`), '' when the app never started a response. */
  status: string;
  headers: HeaderList;
  /** Body bytes handed to the gateway (write() and iterated chunks). */
  bytes: number;
  /** The app's or the body's error, when it failed. */
  error?: unknown;
}

/** What a tool does around a response. */
export interface ObserveHooks {
  /** Before the headers go out: return new ones to change them. */
  onStart?(status: string, headers: HeaderList): HeaderList | void;
  /** Once, after the response (or its failure). Awaited before the body ends. */
  onEnd?(info: ResponseInfo): void | Promise<void>;
}

/** The byte length of a chunk (strings are sent as UTF-8). */
export function chunkLength(chunk: Chunk): number {
  return typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
}

/** Call `app` and return its body wrapped so that `hooks` see the response. */
export async function observe(app: App, environ: Environ, startResponse: StartResponse, hooks: ObserveHooks): Promise<Body> {
  const info: ResponseInfo = { status: '', headers: [], bytes: 0 };
  let ending: Promise<void> | null = null;
  const end = (error?: unknown): Promise<void> => {
    if (error !== undefined && info.error === undefined) info.error = error;
    ending ??= Promise.resolve().then(() => hooks.onEnd?.(info));
    return ending;
  };
  const start: StartResponse = (status, headers, excInfo) => {
    const changed = hooks.onStart?.(status, headers);
    info.status = status;
    info.headers = changed ?? headers;
    const write = startResponse(status, info.headers, excInfo);
    return (chunk) => {
      info.bytes += chunkLength(chunk);
      return write(chunk);
    };
  };
  let body: Body;
  try {
    body = await app(environ, start);
  } catch (err) {
    await end(err);
    throw err;
  }
  return wrapBody(body, info, end);
}

function wrapBody(body: Body, info: ResponseInfo, end: (error?: unknown) => Promise<void>): Body {
  return {
    [Symbol.asyncIterator](): AsyncIterator<Chunk> {
      const it: Iterator<Chunk> | AsyncIterator<Chunk> =
        typeof (body as AsyncIterable<Chunk>)[Symbol.asyncIterator] === 'function'
          ? (body as AsyncIterable<Chunk>)[Symbol.asyncIterator]()
          : (body as Iterable<Chunk>)[Symbol.iterator]();
      return {
        async next() {
          let r: IteratorResult<Chunk>;
          try {
            r = await it.next();
          } catch (err) {
            await end(err);
            throw err;
          }
          if (r.done === true) {
            await end();
            return r;
          }
          info.bytes += chunkLength(r.value);
          return r;
        },
        async return() {
          await it.return?.();
          return { done: true, value: undefined };
        },
      };
    },
    async close() {
      // The gateway calls close() exactly once (after the end, or early when the client went away).
      try {
        await body.close?.();
      } finally {
        await end();
      }
    },
  };
}
