/**
 * `xmlrpc(app)`: serve XML-RPC from an ordinary app, as CherryPy's xmlrpc tool does. A POST whose
 * Content-Type is text/xml or application/xml and whose body is a `<methodCall>` is decoded; the method name
 * `a.b.c` is appended to PATH_INFO as `/a/b/c` (a leading `/RPC2` is dropped, as CherryPy's
 * XMLRPCDispatcher does); the call is in `environ['tsgi.xmlrpc']` as `{ method, params }` (and the raw body
 * is still readable from tsgi.input). The app answers a normal response, which becomes the
 * `<methodResponse>`:
 *
 * | the app answers                         | XML-RPC response                                           |
 * |-----------------------------------------|------------------------------------------------------------|
 * | 2xx `application/json` (or `+json`)     | the JSON value as the param; `{"$base64": "..."}`, `{"$dateTime": "ISO"}`, `{"$double": n}` give the types JSON lacks |
 * | 2xx `text/*`                            | the text as a `<string>`                                   |
 * | 2xx `text/xml`, `application/xml`       | passed on as it is: the app speaks XML-RPC itself (xmlrpcMethods does) |
 * | 2xx with an empty body and no type      | `<nil/>`                                                   |
 * | 2xx anything else                       | the bytes as `<base64>`                                    |
 * | a non-2xx status                        | a fault: faultCode = the status, faultString = the text body or the reason phrase |
 * | throws `XmlRpcFault(code, text)`        | that fault                                                 |
 * | throws anything else                    | fault 1 with the error's message (logged with its stack to tsgi.errors) |
 *
 * JSON has no bytes: a Buffer put through JSON.stringify arrives as a struct `{type: 'Buffer', data: [...]}`;
 * answer `{"$base64": buf.toString('base64')}` to send it as base64 (and a Date arrives as an ISO string
 * unless sent as `{"$dateTime": ...}`). To return such values natively, answer text/xml with
 * serializeMethodResponse(value), as xmlrpcMethods() does.
 *
 * Every XML-RPC response is `200 OK` with Content-Type text/xml: the spec says to answer 200 unless there is
 * a lower-level error, and clients (Python's xmlrpc.client among them) turn any other status into a
 * ProtocolError that hides the fault. That includes a malformed, oversized or too deeply nested
 * methodCall: it gets a fault with the interop codes of FAULT (-32700 parse error, -32600 invalid request,
 * ...), never a crash. Headers of the app's response other than the body's own (Content-*, ETag, ...)
 * are kept, so cookies still work.
 *
 * Everything else passes through untouched: other methods and content types without a look at the body,
 * and XML POSTs whose root element is not methodCall (SOAP, say) with the bytes read to find that out given
 * back in front of the rest of the body.
 */
import { isTsgiError, tsgiError } from '../errors.js';
import { parseStatus } from '../headers.js';
import { BodyInput } from '../input.js';
import type { App, Body, Chunk, Environ, HeaderList, InputStream, StartResponse } from '../types.js';
import { replayInput } from '../middleware/replay-input.js';
import {
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_DEPTH,
  FAULT,
  parseMethodCall,
  serializeFault,
  serializeMethodResponse,
  XmlRpcFault,
  type XmlRpcCall,
} from './xmlrpc-codec.js';

/** Options of xmlrpc(). */
export interface XmlRpcOptions {
  /** Largest methodCall body read, in bytes; a larger one gets fault -32600 unread. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Deepest XML element nesting of a methodCall (see DecodeOptions.maxDepth). Default 64. */
  maxDepth?: number;
  /** Largest app response converted, in bytes; a larger one becomes fault -32603. Default 16 MiB. */
  maxResponseBytes?: number;
  /** Drop a leading `/RPC2` from PATH_INFO before appending the method path (CherryPy does). Default true. */
  stripRpc2?: boolean;
  /**
   * Put an app error's message in the faultString (CherryPy does). Default true; false answers
   * "internal error" instead, and the message only goes to tsgi.errors.
   */
  exposeErrors?: boolean;
}

/** The environ key holding the decoded call. */
export const XMLRPC_ENVIRON_KEY = 'tsgi.xmlrpc';

const SNIFF_WINDOW = 64 * 1024;
const READ_SIZE = 16 * 1024;
// Small reads while sniffing: the root element is in the first bytes, and a body that is over the limit
// (or not for us) should not be pulled in further than needed to tell.
const SNIFF_READ_SIZE = 1024;
const XML_TYPES = new Set(['text/xml', 'application/xml']);
const BODY_HEADER = /^(?:content-|transfer-encoding$|trailer$|etag$|last-modified$|location$)/i;

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0].trim().toLowerCase();
}

function charsetOf(contentType: string | undefined): string | undefined {
  return /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '')?.[1];
}

/**
 * Is this body a methodCall? Looks past a BOM, the XML declaration, comments and whitespace at the first
 * element (or a DOCTYPE naming methodCall, which the parser then refuses). 'more' = cannot tell yet.
 */
export function sniffMethodCall(head: Buffer, complete: boolean): 'yes' | 'no' | 'more' {
  const s = head.toString('latin1');
  let i = s.startsWith('\xEF\xBB\xBF') ? 3 : 0;
  for (;;) {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\r' || s[i] === '\n')) i++;
    if (i >= s.length) return complete ? 'no' : 'more';
    if (s[i] !== '<') return 'no';
    if (/^<(?:!DOCTYPE\s+)?methodCall[\s>/]/.test(s.slice(i, i + 32))) return 'yes';
    const close = s.startsWith('<?', i) ? '?>' : s.startsWith('<!--', i) ? '-->' : null;
    if (close !== null) {
      const j = s.indexOf(close, i + 2);
      if (j === -1) return complete ? 'no' : 'more';
      i = j + close.length;
      continue;
    }
    // Fewer characters than '<!DOCTYPE methodCall>' could still become one of the forms above.
    return s.length - i < 21 && !complete ? 'more' : 'no';
  }
}

/** What the app below answered, buffered. */
interface Collected {
  code: number;
  reason: string;
  headers: HeaderList;
  body: Buffer;
}

function toBuffer(chunk: Chunk): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk); // a copy: the app may reuse its buffer
  throw tsgiError('TSGI_ERR_BAD_CHUNK', { where: 'xmlrpc: ', got: chunk === null ? 'null' : typeof chunk });
}

/** Run the app and buffer its whole response (converting it is the point of this middleware). */
async function collect(app: App, env: Environ, maxBytes: number): Promise<Collected> {
  let status: string | undefined;
  let headers: HeaderList = [];
  let parts: Buffer[] = [];
  let size = 0;
  const add = (chunk: Chunk): void => {
    const b = toBuffer(chunk);
    size += b.length;
    if (size > maxBytes) throw new XmlRpcFault(FAULT.INTERNAL_ERROR, `the response is over the ${maxBytes}-byte limit of the XML-RPC middleware`);
    parts.push(b);
  };
  const startResponse: StartResponse = (s, h, excInfo) => {
    if (status !== undefined && excInfo === undefined) {
      throw tsgiError('TSGI_ERR_START_RESPONSE_TWICE');
    }
    // Nothing has gone to the client yet, so an error response (excInfo) can always replace what was written.
    status = s;
    headers = Array.isArray(h) ? h : [];
    parts = [];
    size = 0;
    return add;
  };
  const body: Body = await app(env, startResponse);
  if (body === null || typeof body !== 'object' || (!(Symbol.asyncIterator in body) && !(Symbol.iterator in body))) {
    throw tsgiError('TSGI_ERR_BAD_BODY', { problem: `xmlrpc: the app returned ${body === null ? 'null' : typeof body}, not an iterable of chunks` });
  }
  try {
    if (Symbol.asyncIterator in body) for await (const chunk of body as AsyncIterable<Chunk>) add(chunk);
    else for (const chunk of body as Iterable<Chunk>) add(chunk);
  } finally {
    await body.close?.();
  }
  if (status === undefined) throw tsgiError('TSGI_ERR_NO_START_RESPONSE', { what: 'xmlrpc: the app returned a body' });
  const { code, reason } = parseStatus(status);
  return { code, reason, headers, body: Buffer.concat(parts) };
}

function header(headers: HeaderList, name: string): string | undefined {
  let value: string | undefined;
  for (const [n, v] of headers) if (n.toLowerCase() === name) value = v;
  return value;
}

function decodeText(body: Buffer, contentType: string | undefined): string {
  const cs = (charsetOf(contentType) ?? 'utf-8').toLowerCase();
  return body.toString(cs === 'iso-8859-1' || cs === 'latin1' || cs === 'us-ascii' ? 'latin1' : 'utf8');
}

/** The app's response as an XML-RPC document (and its Content-Type). */
function convert(r: Collected): { xml: string | Buffer; contentType: string } {
  const contentType = header(r.headers, 'content-type');
  const type = mediaType(contentType);
  const textual = type.startsWith('text/') || type === 'application/json' || type.endsWith('+json') || XML_TYPES.has(type);
  if (r.code < 200 || r.code > 299) {
    const text = textual ? decodeText(r.body, contentType).trim() : '';
    const faultString = text !== '' ? (text.length > 1000 ? text.slice(0, 1000) + '...' : text) : `${r.code} ${r.reason}`;
    return { xml: serializeFault(r.code, faultString), contentType: 'text/xml; charset=utf-8' };
  }
  if (XML_TYPES.has(type)) return { xml: r.body, contentType: contentType! };
  let value: unknown;
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      value = JSON.parse(decodeText(r.body, contentType));
    } catch (err) {
      throw new XmlRpcFault(FAULT.INTERNAL_ERROR, `the app answered Content-Type ${type} with a body that is not JSON (${(err as Error).message})`);
    }
    return { xml: serializeMethodResponse(value, { jsonConventions: true }), contentType: 'text/xml; charset=utf-8' };
  }
  if (type.startsWith('text/')) value = decodeText(r.body, contentType);
  else if (r.body.length === 0 && type === '') value = null;
  else value = r.body;
  return { xml: serializeMethodResponse(value), contentType: 'text/xml; charset=utf-8' };
}

/** PATH_INFO for a call: the method's parts appended to the request's path (CherryPy's patched_path). */
export function rpcPathInfo(pathInfo: string, method: string, stripRpc2 = true): string {
  let base = pathInfo.replace(/\/+$/, '');
  if (stripRpc2 && (base === '/RPC2' || base.startsWith('/RPC2/'))) base = base.slice('/RPC2'.length);
  // The codec allows only [A-Za-z0-9_:] in non-empty parts, so no '.', '..' or empty segment can appear here.
  return `${base}/${method.split(/[./]/).join('/')}`;
}

function reply(startResponse: StartResponse, xml: string | Buffer, contentType: string, keep: HeaderList = []): Body {
  const buf = typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml;
  startResponse('200 OK', [['Content-Type', contentType], ['Content-Length', String(buf.length)], ...keep]);
  return [buf];
}

function describeError(err: unknown): string {
  return err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
}

/** Read the start of the body until it is clear whether it is a methodCall. */
async function sniffBody(input: InputStream, limit: number): Promise<{ chunks: Buffer[]; size: number; eof: boolean; verdict: 'yes' | 'no' }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const chunk = await input.read(SNIFF_READ_SIZE);
    const eof = chunk.length === 0;
    if (!eof) {
      chunks.push(chunk);
      size += chunk.length;
    }
    const complete = eof || size >= SNIFF_WINDOW || size > limit;
    const head = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    const verdict = sniffMethodCall(head.subarray(0, SNIFF_WINDOW), complete);
    if (verdict !== 'more') return { chunks, size, eof, verdict };
  }
}

/**
 * Wrap `app` so that XML-RPC calls reach it as ordinary requests (see the module doc). Options are
 * documented on XmlRpcOptions; the config option `[server] xmlRpc = 1` applies it with the defaults.
 *
 *     export const app = xmlrpc(urlmap({ '/math': mathApp }));   // math.add -> PATH_INFO /math/add
 */
export function xmlrpc(app: App, opts: XmlRpcOptions = {}): App {
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BYTES;
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxResponseBytes = opts.maxResponseBytes ?? 16 * 1024 * 1024;
  const stripRpc2 = opts.stripRpc2 ?? true;
  const exposeErrors = opts.exposeErrors ?? true;

  async function handle(environ: Environ, startResponse: StartResponse): Promise<Body> {
    const input = environ['tsgi.input'];
    const sniffed = await sniffBody(input, maxBodyBytes);
    const { chunks, eof } = sniffed;
    let size = sniffed.size;
    if (sniffed.verdict === 'no') {
      return app({ ...environ, 'tsgi.input': replayInput(Buffer.concat(chunks), eof ? null : input) }, startResponse);
    }

    const fault = (code: number, text: string): Body => reply(startResponse, serializeFault(code, text), 'text/xml; charset=utf-8');
    const declared = environ.CONTENT_LENGTH === undefined ? NaN : Number(environ.CONTENT_LENGTH);
    // Read to the end, or just past the limit: never more than maxBodyBytes + READ_SIZE bytes.
    for (let done = eof || declared > maxBodyBytes; !done && size <= maxBodyBytes; ) {
      const chunk = await input.read(READ_SIZE);
      if (chunk.length === 0) done = true;
      chunks.push(chunk);
      size += chunk.length;
    }
    if (size > maxBodyBytes || declared > maxBodyBytes) {
      return fault(FAULT.INVALID_XMLRPC, `the methodCall is over the ${maxBodyBytes}-byte limit`);
    }
    const raw = Buffer.concat(chunks);
    let call: XmlRpcCall;
    try {
      call = parseMethodCall(raw, { maxBytes: maxBodyBytes, maxDepth, charset: charsetOf(environ.CONTENT_TYPE) });
    } catch (err) {
      if (!(err instanceof XmlRpcFault)) throw err;
      return fault(err.faultCode, err.faultString);
    }

    const env: Environ = {
      ...environ,
      PATH_INFO: rpcPathInfo(environ.PATH_INFO, call.method, stripRpc2),
      'tsgi.input': BodyInput.fromBuffer(raw),
      [XMLRPC_ENVIRON_KEY]: call,
    };
    let result: { xml: string | Buffer; contentType: string; keep: HeaderList };
    try {
      const r = await collect(app, env, maxResponseBytes);
      result = { ...convert(r), keep: r.headers.filter(([n]) => !BODY_HEADER.test(n)) };
    } catch (err) {
      // A lint violation below is a bug to fix, not a fault to hand the client: let the gateway answer 500.
      if (isTsgiError(err, 'TSGI_ERR_LINT')) throw err;
      if (err instanceof XmlRpcFault) return fault(err.faultCode, err.faultString);
      environ['tsgi.errors'].write(`xmlrpc: ${call.method} (${env.PATH_INFO}) failed: ${describeError(err)}\n`);
      const message = err instanceof Error ? err.message : String(err);
      return fault(FAULT.APPLICATION_ERROR, exposeErrors ? message : 'internal error');
    }
    return reply(startResponse, result.xml, result.contentType, result.keep);
  }

  return function xmlrpcApp(environ, startResponse) {
    if (environ.REQUEST_METHOD !== 'POST' || !XML_TYPES.has(mediaType(environ.CONTENT_TYPE))) return app(environ, startResponse);
    return handle(environ, startResponse);
  };
}
