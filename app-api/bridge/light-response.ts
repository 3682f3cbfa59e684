/**
 * A Response that keeps what it was made of (a string, bytes or no body, and the init) until someone needs
 * the runtime's real Response, so that fromFetch can send it without building and reading one: the
 * "cached response" of @hono/node-server's response.ts. fetch-globals.ts makes it the global `Response`,
 * so a framework's `new Response('hi')` (Hono's c.text, c.json) makes one of these.
 *
 * Everything a real Response has works: `status`, `ok`, `statusText` and `headers` are answered here (the
 * Headers are made on first read and are then the ones sent, so a middleware that sets a header on the
 * response is heard); the body, text(), clone(), type, ... go to the real Response, built on first use.
 * A body of any other kind (a stream, a Blob, FormData) builds the real Response at once.
 */
import type { HeaderList } from '../types.js';
import { headerList } from './header-list.js';
import { natives, type BodyInit, type HeadersInit } from './natives.js';

const NativeResponse = natives.Response;

/** What fromFetch sends of a light Response that is still light. */
export interface ResponseParts {
  status: number;
  statusText: string;
  /** The init's headers as given, until someone reads `headers`: then the live Headers made of them. */
  headers: HeadersInit | undefined;
  /** True once `headers` holds the live Headers (default content type included). */
  live: boolean;
  /** Bytes to send as they are, or a string to send as UTF-8. */
  body: string | Uint8Array | null;
}

// The statuses whose response has no body: a real Response refuses a body with them (TypeError).
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
// A reason phrase as RFC 9110 allows it (HTAB, SP, VCHAR, obs-text); a real Response refuses others.
const REASON = /^[\t\x20-\x7e\x80-\xff]*$/;
/** The content type a real Response gives a string body when the init has none. */
export const TEXT_BODY_TYPE = 'text/plain;charset=UTF-8';

const PARTS = Symbol('tsgi.lightResponseParts');
const REAL = Symbol('tsgi.lightResponseReal');
const INIT = Symbol('tsgi.lightResponseInit');
const SOURCE = Symbol('tsgi.lightResponseBody');

type Init = ResponseInit | undefined;

function isPlainBody(body: unknown): body is string | Uint8Array | null | undefined {
  return body === null || body === undefined || typeof body === 'string' || body instanceof Uint8Array;
}

/** The light Response class (the global `Response` once fetch-globals.ts installed it). */
export class LightResponse {
  private [PARTS]: ResponseParts | undefined;
  private [REAL]: Response | undefined;
  private readonly [INIT]: Init;
  private readonly [SOURCE]: unknown;

  /** `instanceof LightResponse` is `instanceof` the runtime's Response, as it is for the global it replaces. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return this === LightResponse ? value instanceof NativeResponse : Function.prototype[Symbol.hasInstance].call(this, value);
  }

  constructor(body?: BodyInit | null, init?: ResponseInit) {
    this[SOURCE] = body;
    this[INIT] = init;
    const status = init?.status ?? 200;
    const statusText = init?.statusText ?? '';
    // The checks a real Response makes in its constructor, so a bad response fails where it is made.
    if (isPlainBody(body) && Number.isInteger(status) && status >= 200 && status <= 599 && !(body != null && NULL_BODY.has(status)) && REASON.test(statusText)) {
      this[PARTS] = { status, statusText, headers: init?.headers, live: false, body: body ?? null };
    } else {
      this[REAL] = new NativeResponse(body, init);
    }
  }

  /** The parts of a Response that never became real, or undefined (a real one, or one made real since). */
  static parts(response: Response): ResponseParts | undefined {
    return response instanceof LightResponse ? response[PARTS] : undefined;
  }

  /** The real Response, built on first call from the body and init (with the live Headers if read). */
  real(): Response {
    let real = this[REAL];
    if (real === undefined) {
      const parts = this[PARTS]!;
      real = this[REAL] = new NativeResponse(this[SOURCE] as BodyInit | null, { status: parts.status, statusText: parts.statusText, headers: parts.headers });
      this[PARTS] = undefined;
    }
    return real;
  }

  /** The response status. */
  get status(): number {
    return this[PARTS]?.status ?? this.real().status;
  }

  /** True for a 2xx status. */
  get ok(): boolean {
    const status = this.status;
    return status >= 200 && status <= 299;
  }

  /** The reason phrase given in the init ('' when none). */
  get statusText(): string {
    return this[PARTS]?.statusText ?? this.real().statusText;
  }

  /** The response headers: made from the init on first read, then the ones sent. */
  get headers(): Headers {
    const parts = this[PARTS];
    if (parts === undefined) return this.real().headers;
    if (parts.live) return parts.headers as Headers;
    const headers = new Headers(parts.headers);
    if (typeof parts.body === 'string' && !headers.has('content-type')) headers.set('content-type', TEXT_BODY_TYPE);
    parts.headers = headers;
    parts.live = true;
    return headers;
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// A value Headers would keep as it is: no CR, LF or NUL, no white space to trim at either end.
const PLAIN_VALUE = /^(?:[^\0\r\n\t ](?:[^\0\r\n]*[^\0\r\n\t ])?)?$/;

/** A plain `{ name: value }` init as Headers would list it, or undefined when only Headers can say. */
function recordList(init: HeadersInit): HeaderList | undefined {
  if (Array.isArray(init) || init instanceof Headers || Object.getPrototypeOf(init) !== Object.prototype) return undefined;
  const record = init as Record<string, unknown>;
  const out: HeaderList = [];
  // for-in and a scan of the few names so far, not Object.entries and a Set: no pair array per entry and no
  // Set per response (a response has a handful of headers; the allocations showed in V8's heap sampling).
  for (const name in record) {
    if (!Object.hasOwn(record, name)) continue;
    const value = record[name];
    const lower = name.toLowerCase();
    if (typeof value !== 'string' || !TOKEN.test(name) || !PLAIN_VALUE.test(value) || lower === 'set-cookie') return undefined;
    for (let i = 0; i < out.length; i++) if (out[i][0] === lower) return undefined;
    out.push([lower, value]);
  }
  return out;
}

/** Headers' iteration order: by name, each Set-Cookie last in the order given (the sort is stable). */
function byHeaderOrder(a: [string, string], b: [string, string]): number {
  const ca = a[0] === 'set-cookie';
  const cb = b[0] === 'set-cookie';
  if (ca || cb) return ca === cb ? 0 : ca ? 1 : -1;
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

/**
 * The header list a real Response made of these parts would send, in the same order (Headers iterate
 * sorted by name, Set-Cookie last): from a plain record without building a Headers when it can.
 */
export function partsHeaderList(parts: ResponseParts): HeaderList {
  if (parts.live) return headerList(parts.headers as Headers);
  const init = parts.headers;
  // No init (`new Response('hi')`, Hono's c.text): the list is known. Written as a literal: pushing into an
  // empty array makes V8 give it room for 17 entries.
  if (init === undefined) return typeof parts.body === 'string' ? [['content-type', TEXT_BODY_TYPE]] : [];
  let list = recordList(init);
  if (list === undefined) list = headerList(new Headers(init));
  if (typeof parts.body === 'string' && !list.some(([name]) => name === 'content-type')) list.push(['content-type', TEXT_BODY_TYPE]);
  if (list.length > 1) list.sort(byHeaderOrder);
  return list;
}

// The rest of a Response (body, bodyUsed, text(), clone(), type, url, redirected...) is the real one's.
for (const key of Reflect.ownKeys(NativeResponse.prototype)) {
  if (key === 'constructor' || key === Symbol.toStringTag || Object.prototype.hasOwnProperty.call(LightResponse.prototype, key)) continue;
  const desc = Object.getOwnPropertyDescriptor(NativeResponse.prototype, key)!;
  if (desc.get !== undefined) {
    Object.defineProperty(LightResponse.prototype, key, { configurable: true, enumerable: desc.enumerable, get(this: LightResponse) { return Reflect.get(this.real(), key); } });
  } else if (typeof desc.value === 'function') {
    const method = desc.value as (...args: unknown[]) => unknown;
    Object.defineProperty(LightResponse.prototype, key, { configurable: true, writable: true, enumerable: desc.enumerable, value(this: LightResponse, ...args: unknown[]) { return method.apply(this.real(), args); } });
  }
}
// Response.json(), Response.redirect(), Response.error() are inherited: they make real Responses.
Object.setPrototypeOf(LightResponse, NativeResponse);
Object.setPrototypeOf(LightResponse.prototype, NativeResponse.prototype);
