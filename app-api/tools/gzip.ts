/**
 * `gzip(app, options)` / `tools.gzip.*`: compress responses with brotli or gzip, whichever the client's
 * Accept-Encoding prefers (negotiated by the `negotiator` package; on equal q-values brotli first, as it is
 * smaller). Skipped, body untouched: a Content-Type outside `mime_types` (images, zip and gzip files are
 * already compressed), a response that already has a Content-Encoding, `Cache-Control: no-transform`,
 * 1xx/204/206/304 (a 206 is a byte range of the identity body; compressing it would break the range), and a
 * body known to be smaller than `min_size` (a Content-Length under it, or an array body under it; a
 * streamed body of unknown size is compressed). Every response of a compressible type gets
 * `Vary: Accept-Encoding`, compressed or not, so caches keep the variants apart. Compressed: Content-Length
 * is dropped (array bodies get a new one from the gateway), a strong ETag becomes weak (the bytes differ,
 * the meaning does not, as nginx does). HEAD is compressed like GET (the gateway drops the bytes), so it
 * gets exactly the headers a GET would, Content-Length included: HEAD is rare enough to pay for that.
 */
import Negotiator from 'negotiator';
import type { App, Body, Chunk, Environ, HeaderList } from '../types.js';
import { compressArray, compressStream, type Coding } from './encoding/compress.js';
import { arrayLength, filterResponse, getHeader, withoutHeader, type FilteredResponse } from './response-filter.js';
import type { ToolDef } from './tool-def.js';

/** The default compressible types: text and the text-based formats. `type/*` matches a whole family. */
export const DEFAULT_GZIP_TYPES: readonly string[] = [
  'text/*',
  'application/json',
  'application/javascript',
  'application/xml',
  'application/xhtml+xml',
  'application/rss+xml',
  'application/atom+xml',
  'application/ld+json',
  'application/manifest+json',
  'image/svg+xml',
];

/** Options of gzip(). */
export interface GzipOptions {
  /** gzip level 1 (fast) .. 9 (small). Default 5, CherryPy's. */
  compressLevel?: number;
  /** Brotli quality 0..11; default 4 (above ~6 brotli costs far more CPU than it saves bytes on the fly). */
  brotliLevel?: number;
  /** Offer brotli at all. Default true. */
  brotli?: boolean;
  /** Bodies known to be smaller are sent as they are. Default 256 bytes. */
  minSize?: number;
  /** Content types to compress (`text/*` style wildcards allowed). Default DEFAULT_GZIP_TYPES. */
  mimeTypes?: readonly string[];
}

function typeMatches(contentType: string, patterns: readonly string[]): boolean {
  const base = contentType.split(';')[0].trim().toLowerCase();
  for (const p of patterns) {
    const lp = p.toLowerCase();
    if (lp === base) return true;
    if (lp.endsWith('/*') && base.startsWith(lp.slice(0, -1))) return true;
  }
  return false;
}

function addVary(headers: HeaderList): HeaderList {
  const vary = getHeader(headers, 'Vary');
  if (vary === undefined) return [...headers, ['Vary', 'Accept-Encoding']];
  const names = vary.split(',').map((v) => v.trim().toLowerCase());
  if (names.includes('*') || names.includes('accept-encoding')) return headers;
  return [...withoutHeader(headers, 'Vary'), ['Vary', `${vary}, Accept-Encoding`]];
}

function weakenEtag(headers: HeaderList): HeaderList {
  return headers.map(([n, v]) => (n.toLowerCase() === 'etag' && !v.startsWith('W/') ? [n, 'W/' + v] : [n, v]));
}

/** negotiator 1.x takes a preference order for equal q-values (its @types predate that argument). */
type EncodingWithPreference = (available: string[], options: { preferred: string[] }) => string | undefined;

function negotiate(accept: string, available: string[]): Coding | 'identity' | undefined {
  const n = new Negotiator({ headers: { 'accept-encoding': accept } });
  return (n.encoding as unknown as EncodingWithPreference).call(n, available, { preferred: available }) as Coding | 'identity' | undefined;
}

/** Wrap `app` so compressible responses are sent gzip- or brotli-encoded when the client accepts it. */
export function gzip(app: App, opts: GzipOptions = {}): App {
  const levels = { gzip: opts.compressLevel ?? 5, br: opts.brotliLevel ?? 4 };
  const minSize = opts.minSize ?? 256;
  const types = opts.mimeTypes ?? DEFAULT_GZIP_TYPES;
  const offered: Coding[] = opts.brotli === false ? ['gzip'] : ['br', 'gzip'];
  const available = [...offered, 'identity'];

  function rewrite(environ: Environ, res: FilteredResponse): FilteredResponse {
    const code = Number(res.status.slice(0, 3));
    const h = res.headers;
    if (code < 200 || code === 204 || code === 206 || code === 304) return res;
    if (getHeader(h, 'Content-Encoding') !== undefined) return res;
    const type = getHeader(h, 'Content-Type');
    if (type === undefined || !typeMatches(type, types)) return res;
    if (/(^|,)\s*no-transform\s*(,|$)/i.test(getHeader(h, 'Cache-Control') ?? '')) return res;
    const headers = addVary(h);
    const declared = getHeader(h, 'Content-Length');
    const size = declared !== undefined ? Number(declared) : arrayLength(res.body);
    const accept = typeof environ.HTTP_ACCEPT_ENCODING === 'string' ? environ.HTTP_ACCEPT_ENCODING : '';
    const coding = negotiate(accept, available);
    if (coding === undefined || coding === 'identity' || (size >= 0 && size < minSize)) return { ...res, headers };
    const out: HeaderList = [...weakenEtag(withoutHeader(headers, 'Content-Length')), ['Content-Encoding', coding]];
    if (Array.isArray(res.body)) {
      const body = compressArray(res.body as Chunk[], coding, levels);
      const close = res.body as Body;
      // Keep the original's close() reachable: the gateway calls it on what we return.
      if (typeof close.close === 'function') Object.defineProperty(body, 'close', { value: () => close.close!(), enumerable: false });
      return { status: res.status, headers: out, body };
    }
    return { status: res.status, headers: out, body: compressStream(res.body, coding, levels) };
  }

  return filterResponse(app, rewrite);
}

/** `tools.gzip.*` options as the INI reads them. */
export interface GzipToolOptions {
  compress_level: number;
  brotli_level: number;
  brotli: boolean;
  min_size: number;
  mime_types: readonly string[];
}

/** The INI tool `tools.gzip.*`. */
export const gzipTool: ToolDef<GzipToolOptions> = {
  name: 'gzip',
  doc: 'Compress text responses with brotli or gzip as Accept-Encoding allows (streaming; Vary: Accept-Encoding).',
  options: {
    compress_level: { type: 'integer', default: 5, doc: 'gzip level, 1 (fastest) to 9 (smallest).' },
    brotli_level: { type: 'integer', default: 4, doc: 'brotli quality, 0 to 11; above about 6 costs much CPU for few bytes.' },
    brotli: { type: 'boolean', default: true, doc: 'Offer brotli (br) besides gzip.' },
    min_size: { type: 'integer', default: 256, doc: 'Bodies known to be smaller than this many bytes are sent uncompressed.' },
    mime_types: { type: 'list', default: DEFAULT_GZIP_TYPES, doc: 'Content types to compress; text/* style wildcards allowed.' },
  },
  create(app, o) {
    return gzip(app, { compressLevel: o.compress_level, brotliLevel: o.brotli_level, brotli: o.brotli, minSize: o.min_size, mimeTypes: o.mime_types });
  },
};
