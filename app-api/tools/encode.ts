/**
 * `encode(app, { encoding })` / `tools.encode.*`: CherryPy's encode tool, kept small. For responses whose
 * Content-Type is text/* (or listed in `mime_types`) and names no charset, it adds `; charset=ENCODING` and
 * encodes the body's string chunks in that encoding (bytes pass untouched: the app already chose). Without
 * the tool, strings go out as UTF-8 (the gateway's rule) but text/* may lack a charset. A Content-Type that
 * already names a charset is left alone (the app knows better). A character the encoding cannot represent
 * (e.g. `€` in ISO-8859-1) is an error, so the response becomes a 500 instead of silently wrong text.
 */
import { tsgiError } from '../errors.js';
import type { App, Body, Chunk, HeaderList } from '../types.js';
import { chunksOf, filterResponse, getHeader, type FilteredResponse } from './response-filter.js';
import type { ToolDef } from './tool-def.js';

/** The encodings the tool can produce, by the names a charset parameter uses. */
export const ENCODINGS = { 'utf-8': 'utf8', 'iso-8859-1': 'latin1', 'us-ascii': 'ascii', 'utf-16le': 'utf16le' } as const;

/** A charset name the tool supports. */
export type EncodingName = keyof typeof ENCODINGS;

/** Options of encode(). */
export interface EncodeOptions {
  /** Default utf-8. */
  encoding?: EncodingName;
  /** Types besides text/* that get a charset (e.g. application/json is UTF-8 by definition, so not by default). */
  mimeTypes?: readonly string[];
}

const LIMIT: Record<EncodingName, RegExp | null> = { 'utf-8': null, 'iso-8859-1': /[^\x00-\xff]/, 'us-ascii': /[^\x00-\x7f]/, 'utf-16le': null };

/** Wrap `app` so text responses declare and use `encoding`. */
export function encode(app: App, opts: EncodeOptions = {}): App {
  const name: EncodingName = opts.encoding ?? 'utf-8';
  const nodeName = ENCODINGS[name];
  if (nodeName === undefined) throw tsgiError('TSGI_ERR_CONFIG', { where: 'encode', problem: `encoding ${JSON.stringify(name)} is not supported`, fix: `give one of ${Object.keys(ENCODINGS).join(', ')}` });
  const limit = LIMIT[name];
  const extra = (opts.mimeTypes ?? []).map((t) => t.toLowerCase());

  const toBytes = (c: Chunk): Chunk => {
    if (typeof c !== 'string') return c;
    if (limit !== null && limit.test(c)) throw tsgiError('TSGI_ERR_BAD_CHUNK', { where: 'encode: ', got: `a string with a character that ${name} cannot represent` });
    return Buffer.from(c, nodeName);
  };

  function rewrite(_environ: unknown, res: FilteredResponse): FilteredResponse {
    const type = getHeader(res.headers, 'Content-Type');
    if (type === undefined) return res;
    const base = type.split(';')[0].trim().toLowerCase();
    if (!base.startsWith('text/') && !extra.includes(base)) return res;
    if (/;\s*charset=/i.test(type)) return res;
    const headers: HeaderList = res.headers.map(([n, v]) => (n.toLowerCase() === 'content-type' ? [n, `${v}; charset=${name}`] : [n, v]));
    if (name === 'utf-8') return { ...res, headers }; // the gateway encodes strings as UTF-8 already
    if (Array.isArray(res.body)) {
      const body = (res.body as Chunk[]).map(toBytes);
      const orig = res.body as Body;
      if (typeof orig.close === 'function') Object.defineProperty(body, 'close', { value: () => orig.close!(), enumerable: false });
      return { status: res.status, headers, body };
    }
    const src = res.body;
    const body: Body = {
      async *[Symbol.asyncIterator]() {
        for await (const c of chunksOf(src)) yield toBytes(c);
      },
      close: () => src.close?.(),
    };
    return { status: res.status, headers, body };
  }

  return filterResponse(app, rewrite);
}

/** `tools.encode.*` options as the INI reads them. */
export interface EncodeToolOptions {
  encoding: string;
  mime_types: readonly string[];
}

/** The INI tool `tools.encode.*`. */
export const encodeTool: ToolDef<EncodeToolOptions> = {
  name: 'encode',
  doc: 'Add a charset to text responses that lack one and encode their string chunks in it.',
  options: {
    encoding: { type: 'string', default: 'utf-8', choices: Object.keys(ENCODINGS), doc: 'The charset text responses are encoded in.' },
    mime_types: { type: 'list', default: [], doc: 'Types besides text/* that get the charset.' },
  },
  create(app, o) {
    return encode(app, { encoding: o.encoding as EncodingName, mimeTypes: o.mime_types });
  },
};
