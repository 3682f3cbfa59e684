/**
 * XML-RPC (http://xmlrpc.com/spec.md) to and from JS values: methodCall and methodResponse documents, both
 * ways, over the strict parser of xml-parse.ts. Used by the xmlrpc() middleware and xmlrpcMethods(), and
 * usable on its own (e.g. by a client).
 *
 * Types, XML-RPC -> JS:
 *
 * | XML-RPC                          | JS                                                               |
 * |----------------------------------|------------------------------------------------------------------|
 * | `<int>`, `<i4>`                  | number (32-bit range checked)                                    |
 * | `<i8>` (Apache extension)        | number when a safe integer, else bigint                          |
 * | `<boolean>` 0/1                  | boolean                                                          |
 * | `<string>`, untyped `<value>`    | string                                                           |
 * | `<double>`                       | number (no NaN/Infinity: the spec has none)                      |
 * | `<dateTime.iso8601>`             | Date; a time without a zone is read as UTC                       |
 * | `<base64>`                       | Buffer                                                           |
 * | `<struct>`                       | plain object (own properties, even `__proto__`; the last of repeated names wins) |
 * | `<array>`                        | array                                                            |
 * | `<nil/>` (extension)             | null                                                             |
 *
 * JS -> XML-RPC: integers in the 32-bit range become `<int>`, other finite numbers `<double>`, bigint
 * `<int>` or `<i8>`, Date `<dateTime.iso8601>` in UTC (`YYYYMMDDTHH:MM:SS`, milliseconds dropped),
 * Uint8Array/Buffer `<base64>`, null and undefined `<nil/>`, arrays `<array>`, other objects `<struct>`
 * of their own enumerable properties. NaN, Infinity, functions, symbols and cycles cannot be sent.
 *
 * Type prefixes such as Apache's `<ex:nil/>` and `<ex:i8>` are read by their local name.
 */
import { parseXml, XmlSyntaxError, type XmlElement } from './xml-parse.js';

/** A value XML-RPC can carry. */
export type XmlRpcValue = number | bigint | boolean | string | Date | Uint8Array | null | XmlRpcValue[] | { [name: string]: XmlRpcValue };

/**
 * Fault codes: the "specification for fault code interoperability" (xmlrpc-epi, 2001) that Python's
 * xmlrpc.server, Apache XML-RPC and others use for errors of the XML-RPC layer itself.
 */
export const FAULT = {
  /** Not well-formed XML (including DOCTYPEs, unknown entities, too deep). */
  PARSE_ERROR: -32700,
  /** An encoding other than UTF-8, US-ASCII or ISO-8859-1. */
  UNSUPPORTED_ENCODING: -32701,
  /** Bytes invalid in the encoding, or characters XML does not allow. */
  INVALID_CHARACTER: -32702,
  /** Well-formed XML that is not a valid XML-RPC document (or a request over the size limit). */
  INVALID_XMLRPC: -32600,
  /** No such method. */
  METHOD_NOT_FOUND: -32601,
  /** Bad parameters for the method. */
  INVALID_PARAMS: -32602,
  /** The server could not produce a response (e.g. a result XML-RPC cannot carry). */
  INTERNAL_ERROR: -32603,
  /** The application raised an error: CherryPy's and Python's code for any exception. */
  APPLICATION_ERROR: 1,
} as const;

/**
 * An XML-RPC fault. Throw one from an XML-RPC method (xmlrpcMethods) to answer exactly this
 * faultCode/faultString; the codec throws them for documents it refuses.
 */
export class XmlRpcFault extends Error {
  constructor(
    readonly faultCode: number,
    readonly faultString: string,
  ) {
    super(faultString);
    this.name = 'XmlRpcFault';
  }
}

/** A decoded methodCall. */
export interface XmlRpcCall {
  /** `examples.getStateName`: letters, digits, `_`, `:`, separated by `.` or `/`. */
  method: string;
  params: XmlRpcValue[];
}

/** A decoded methodResponse: a value, or a fault. */
export type XmlRpcResponse = { value: XmlRpcValue } | { fault: { faultCode: number; faultString: string } };

/** Limits applied when decoding. */
export interface DecodeOptions {
  /** Largest document accepted, in bytes. Default 1 MiB. */
  maxBytes?: number;
  /**
   * Deepest XML element nesting accepted. Default 64. A scalar param sits at depth 5
   * (methodCall/params/param/value/int) and each array or struct level adds 3, so 64 allows ~19 levels.
   */
  maxDepth?: number;
  /** The `charset` parameter of the Content-Type, which takes precedence over the XML declaration (RFC 7303). */
  charset?: string;
}

export const DEFAULT_MAX_BYTES = 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 64;
const METHOD_NAME = /^[A-Za-z0-9_:]+(?:[./][A-Za-z0-9_:]+)*$/;
const INT = /^[+-]?[0-9]+$/;
const DOUBLE = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const DATETIME = /^([0-9]{4})-?([0-9]{2})-?([0-9]{2})T([0-9]{2}):?([0-9]{2}):?([0-9]{2})(?:[.,]([0-9]+))?(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const I8_MIN = -(2n ** 63n);
const I8_MAX = 2n ** 63n - 1n;

/** True when `name` is a method name this codec accepts (and that maps to a clean path). */
export function isMethodName(name: string): boolean {
  return METHOD_NAME.test(name);
}

// ---------------------------------------------------------------------------------------------------------
// Decoding

function invalid(message: string): XmlRpcFault {
  return new XmlRpcFault(FAULT.INVALID_XMLRPC, message);
}

/** Bytes -> text, by the charset parameter, else the XML declaration, else UTF-8. */
function decodeText(body: Uint8Array, charset: string | undefined): string {
  if ((body[0] === 0xfe && body[1] === 0xff) || (body[0] === 0xff && body[1] === 0xfe)) {
    throw new XmlRpcFault(FAULT.UNSUPPORTED_ENCODING, 'UTF-16 documents are not accepted; send UTF-8');
  }
  let name = charset;
  if (name === undefined) {
    const head = Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, 200)).toString('latin1');
    name = /^(?:\xEF\xBB\xBF)?<\?xml[^>]*?[ \t\r\n]encoding[ \t\r\n]*=[ \t\r\n]*["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1];
  }
  const enc = (name ?? 'utf-8').toLowerCase();
  if (enc === 'iso-8859-1' || enc === 'latin1' || enc === 'latin-1' || enc === 'l1') {
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1');
  }
  const ascii = enc === 'us-ascii' || enc === 'ascii';
  if (!ascii && enc !== 'utf-8' && enc !== 'utf8') {
    throw new XmlRpcFault(FAULT.UNSUPPORTED_ENCODING, `encoding ${JSON.stringify(name)} is not supported; send UTF-8 (or US-ASCII / ISO-8859-1)`);
  }
  if (ascii && body.some((b) => b >= 0x80)) throw new XmlRpcFault(FAULT.INVALID_CHARACTER, 'a byte above 0x7F in a US-ASCII document');
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(body);
  } catch {
    throw new XmlRpcFault(FAULT.INVALID_CHARACTER, 'the document is not valid UTF-8');
  }
}

function parseDocument(body: Uint8Array | string, opts: DecodeOptions): XmlElement {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  if (size > maxBytes) throw new XmlRpcFault(FAULT.INVALID_XMLRPC, `the document is ${size} bytes, over the ${maxBytes}-byte limit`);
  const text = typeof body === 'string' ? body : decodeText(body, opts.charset);
  try {
    return parseXml(text, { maxDepth: opts.maxDepth ?? DEFAULT_MAX_DEPTH });
  } catch (err) {
    if (!(err instanceof XmlSyntaxError)) throw err;
    throw new XmlRpcFault(err.kind === 'character' ? FAULT.INVALID_CHARACTER : FAULT.PARSE_ERROR, `XML-RPC parse error: ${err.message}`);
  }
}

/** The element children of `el`; text between them must be whitespace. */
function elements(el: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) {
    if (typeof c !== 'string') out.push(c);
    else if (/[^ \t\n\r]/.test(c)) throw invalid(`unexpected text ${JSON.stringify(c.trim().slice(0, 40))} in <${el.name}>`);
  }
  return out;
}

function only(el: XmlElement, name: string): XmlElement {
  const kids = elements(el);
  if (kids.length !== 1 || kids[0].name !== name) throw invalid(`<${el.name}> must contain exactly one <${name}>`);
  return kids[0];
}

/** The text of a scalar element (no child elements allowed). */
function textOf(el: XmlElement): string {
  let s = '';
  for (const c of el.children) {
    if (typeof c !== 'string') throw invalid(`<${el.name}> must contain text only, found <${c.name}>`);
    s += c;
  }
  return s;
}

function localName(name: string): string {
  const colon = name.lastIndexOf(':');
  return colon === -1 ? name : name.slice(colon + 1);
}

function parseInteger(el: XmlElement, wide: boolean): number | bigint {
  const s = textOf(el).trim();
  if (!INT.test(s)) throw invalid(`<${el.name}> ${JSON.stringify(s.slice(0, 40))} is not an integer`);
  const n = BigInt(s);
  if (wide ? n < I8_MIN || n > I8_MAX : n < INT32_MIN || n > INT32_MAX) throw invalid(`<${el.name}> ${s} is out of range for ${wide ? '64' : '32'} bits`);
  const num = Number(n);
  return Number.isSafeInteger(num) ? num : n;
}

function parseDateTime(s: string): Date {
  const m = DATETIME.exec(s);
  if (m === null) throw invalid(`<dateTime.iso8601> ${JSON.stringify(s.slice(0, 40))} is not YYYYMMDDTHH:MM:SS`);
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  const ms = frac === undefined ? 0 : Math.floor(Number('0.' + frac) * 1000);
  let t = Date.UTC(+y, +mo - 1, +d, +h, +mi, +sec, ms);
  const check = new Date(t);
  // Date.UTC rolls 31 February over to March; a date that does not round-trip does not exist.
  if (check.getUTCFullYear() !== +y || check.getUTCMonth() !== +mo - 1 || check.getUTCDate() !== +d || check.getUTCHours() !== +h || check.getUTCMinutes() !== +mi || check.getUTCSeconds() !== +sec) {
    throw invalid(`<dateTime.iso8601> ${s} is not a valid date and time`);
  }
  if (zone !== undefined && zone !== 'Z') {
    const z = /^([+-])([0-9]{2}):?([0-9]{2})?$/.exec(zone)!;
    const offset = (+z[2] * 60 + +(z[3] ?? 0)) * 60_000;
    t -= z[1] === '+' ? offset : -offset;
  }
  return new Date(t);
}

function parseValue(el: XmlElement): XmlRpcValue {
  if (el.name !== 'value') throw invalid(`expected <value>, found <${el.name}>`);
  // An untyped value is a string, whitespace kept.
  if (el.children.every((c) => typeof c === 'string')) return textOf(el);
  const kids = elements(el);
  if (kids.length > 1) throw invalid('<value> must contain one type element');
  const t = kids[0];
  switch (localName(t.name)) {
    case 'int':
    case 'i4':
      return parseInteger(t, false);
    case 'i8':
      return parseInteger(t, true);
    case 'boolean': {
      const s = textOf(t).trim();
      if (s !== '0' && s !== '1') throw invalid(`<boolean> must be 0 or 1, got ${JSON.stringify(s.slice(0, 40))}`);
      return s === '1';
    }
    case 'string':
      return textOf(t);
    case 'double': {
      const s = textOf(t).trim();
      if (!DOUBLE.test(s)) throw invalid(`<double> ${JSON.stringify(s.slice(0, 40))} is not a decimal number`);
      const n = Number(s);
      if (!Number.isFinite(n)) throw invalid(`<double> ${s.slice(0, 40)} is out of range`);
      return n;
    }
    case 'dateTime.iso8601':
      return parseDateTime(textOf(t).trim());
    case 'base64': {
      const s = textOf(t).replace(/[ \t\n\r]+/g, '');
      if (!BASE64.test(s)) throw invalid('<base64> is not valid base64');
      return Buffer.from(s, 'base64');
    }
    case 'nil':
      if (t.children.length > 0 && textOf(t).trim() !== '') throw invalid('<nil/> must be empty');
      return null;
    case 'array':
      return elements(only(t, 'data')).map(parseValue);
    case 'struct': {
      const out: { [name: string]: XmlRpcValue } = {};
      for (const member of elements(t)) {
        if (member.name !== 'member') throw invalid(`<struct> may contain only <member>, found <${member.name}>`);
        const parts = elements(member);
        if (parts.length !== 2 || parts[0].name !== 'name' || parts[1].name !== 'value') throw invalid('<member> must be <name> then <value>');
        // defineProperty: a member named __proto__ becomes an own property, never the object's prototype.
        Object.defineProperty(out, textOf(parts[0]), { value: parseValue(parts[1]), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    default:
      throw invalid(`unknown XML-RPC type <${t.name}>`);
  }
}

/**
 * Decode a `<methodCall>`. Throws XmlRpcFault (faultCode from FAULT) for anything malformed, over a limit,
 * or outside XML-RPC; never anything else for bad input.
 */
export function parseMethodCall(body: Uint8Array | string, opts: DecodeOptions = {}): XmlRpcCall {
  const root = parseDocument(body, opts);
  if (root.name !== 'methodCall') throw invalid(`the root element is <${root.name}>, expected <methodCall>`);
  const kids = elements(root);
  if (kids.length === 0 || kids[0].name !== 'methodName' || kids.length > 2 || (kids.length === 2 && kids[1].name !== 'params')) {
    throw invalid('<methodCall> must contain <methodName> and optionally <params>');
  }
  const method = textOf(kids[0]).trim();
  if (!METHOD_NAME.test(method)) {
    throw invalid(`method name ${JSON.stringify(method.slice(0, 80))} is not valid: letters, digits, '_' and ':' in non-empty parts separated by '.' or '/'`);
  }
  const params = kids.length === 2 ? elements(kids[1]).map((p) => {
    if (p.name !== 'param') throw invalid(`<params> may contain only <param>, found <${p.name}>`);
    return parseValue(only(p, 'value'));
  }) : [];
  return { method, params };
}

/** Decode a `<methodResponse>`: `{ value }` or `{ fault }`. Throws XmlRpcFault like parseMethodCall for a malformed document. */
export function parseMethodResponse(body: Uint8Array | string, opts: DecodeOptions = {}): XmlRpcResponse {
  const root = parseDocument(body, opts);
  if (root.name !== 'methodResponse') throw invalid(`the root element is <${root.name}>, expected <methodResponse>`);
  const kid = elements(root);
  if (kid.length === 1 && kid[0].name === 'params') {
    const param = only(kid[0], 'param');
    return { value: parseValue(only(param, 'value')) };
  }
  if (kid.length === 1 && kid[0].name === 'fault') {
    const v = parseValue(only(kid[0], 'value'));
    const f = v as { faultCode?: unknown; faultString?: unknown };
    if (v === null || typeof v !== 'object' || typeof f.faultCode !== 'number' || typeof f.faultString !== 'string') {
      throw invalid('<fault> must hold a struct with an int faultCode and a string faultString');
    }
    return { fault: { faultCode: f.faultCode, faultString: f.faultString } };
  }
  throw invalid('<methodResponse> must contain <params> with one <param>, or <fault>');
}

// ---------------------------------------------------------------------------------------------------------
// Encoding

/** Options of the encoders. */
export interface EncodeOptions {
  /**
   * Read the JSON conventions for types JSON lacks: an object whose only key is `$base64` (a base64
   * string) becomes `<base64>`, `$dateTime` (an ISO 8601 string) `<dateTime.iso8601>`, `$double` (a
   * number) `<double>` even when the number is integral. Off by default: a struct may have those names.
   */
  jsonConventions?: boolean;
}

const MAX_ENCODE_DEPTH = 256;
const ESCAPE = /[&<>\r]/g;
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' };
const NOT_XML = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

function cannot(message: string): XmlRpcFault {
  return new XmlRpcFault(FAULT.INTERNAL_ERROR, `cannot send as XML-RPC: ${message}`);
}

/** Escape text for element content. CR is written as &#13; so that XML line-end normalisation keeps it. */
export function escapeXml(s: string): string {
  const bad = NOT_XML.exec(s);
  if (bad !== null) {
    throw cannot(`the string has the character U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}, which XML 1.0 cannot carry; send such data as base64 (a Buffer)`);
  }
  return s.replace(ESCAPE, (c) => ESCAPES[c]);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** `YYYYMMDDTHH:MM:SS` in UTC: the spec's form, which every client reads. */
export function formatDateTime(d: Date): string {
  if (Number.isNaN(d.getTime())) throw cannot('an invalid Date');
  const y = d.getUTCFullYear();
  if (y < 0 || y > 9999) throw cannot(`the year ${y} is outside 0000-9999`);
  return `${pad(y, 4)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
}

function encodeNumber(n: number): string {
  if (!Number.isFinite(n)) throw cannot(`${n}: XML-RPC has no NaN or Infinity`);
  if (Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX) return `<int>${n === 0 ? 0 : n}</int>`;
  return `<double>${n}</double>`;
}

function convention(v: object, opts: EncodeOptions): string | undefined {
  if (opts.jsonConventions !== true) return undefined;
  const keys = Object.keys(v);
  if (keys.length !== 1) return undefined;
  const x = (v as Record<string, unknown>)[keys[0]];
  switch (keys[0]) {
    case '$base64':
      if (typeof x !== 'string' || !BASE64.test(x.replace(/[ \t\n\r]+/g, ''))) throw cannot('{"$base64": ...} needs a base64 string');
      return `<base64>${x.replace(/[ \t\n\r]+/g, '')}</base64>`;
    case '$dateTime': {
      const d = typeof x === 'string' ? new Date(x) : new Date(NaN);
      if (Number.isNaN(d.getTime())) throw cannot('{"$dateTime": ...} needs an ISO 8601 date-time string');
      return `<dateTime.iso8601>${formatDateTime(d)}</dateTime.iso8601>`;
    }
    case '$double':
      if (typeof x !== 'number' || !Number.isFinite(x)) throw cannot('{"$double": ...} needs a finite number');
      return `<double>${x}</double>`;
    default:
      return undefined;
  }
}

function encodeValue(v: unknown, opts: EncodeOptions, ancestors: object[]): string {
  return `<value>${encodeType(v, opts, ancestors)}</value>`;
}

function encodeType(v: unknown, opts: EncodeOptions, ancestors: object[]): string {
  switch (typeof v) {
    case 'string':
      return `<string>${escapeXml(v)}</string>`;
    case 'number':
      return encodeNumber(v);
    case 'boolean':
      return `<boolean>${v ? 1 : 0}</boolean>`;
    case 'bigint':
      if (v < I8_MIN || v > I8_MAX) throw cannot(`${v} does not fit in 64 bits`);
      return v >= INT32_MIN && v <= INT32_MAX ? `<int>${v}</int>` : `<i8>${v}</i8>`;
    case 'undefined':
      return '<nil/>';
    case 'object':
      break;
    default:
      throw cannot(`a ${typeof v}`);
  }
  if (v === null) return '<nil/>';
  if (v instanceof Date) return `<dateTime.iso8601>${formatDateTime(v)}</dateTime.iso8601>`;
  if (v instanceof Uint8Array) return `<base64>${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}</base64>`;
  if (ancestors.includes(v)) throw cannot('a value that contains itself');
  if (ancestors.length >= MAX_ENCODE_DEPTH) throw cannot(`values nested deeper than ${MAX_ENCODE_DEPTH}`);
  const special = convention(v, opts);
  if (special !== undefined) return special;
  ancestors.push(v);
  let out: string;
  if (Array.isArray(v)) {
    out = '<array><data>';
    for (const item of v) out += encodeValue(item, opts, ancestors);
    out += '</data></array>';
  } else {
    out = '<struct>';
    for (const [name, item] of Object.entries(v)) out += `<member><name>${escapeXml(name)}</name>${encodeValue(item, opts, ancestors)}</member>`;
    out += '</struct>';
  }
  ancestors.pop();
  return out;
}

const PROLOG = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** Encode a `<methodResponse>` carrying `value`. Throws XmlRpcFault (INTERNAL_ERROR) for a value XML-RPC cannot carry. */
export function serializeMethodResponse(value: unknown, opts: EncodeOptions = {}): string {
  return `${PROLOG}<methodResponse><params><param>${encodeValue(value, opts, [])}</param></params></methodResponse>\n`;
}

/** Encode a fault `<methodResponse>`. */
export function serializeFault(faultCode: number, faultString: string): string {
  const code = Number.isInteger(faultCode) && faultCode >= INT32_MIN && faultCode <= INT32_MAX ? faultCode : FAULT.INTERNAL_ERROR;
  // A fault string is free text (an exception message): never let an unsendable character lose the fault.
  const text = faultString.replace(new RegExp(NOT_XML.source, 'gu'), '\uFFFD');
  return `${PROLOG}<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>${code}</int></value></member><member><name>faultString</name><value><string>${escapeXml(text)}</string></value></member></struct></value></fault></methodResponse>\n`;
}

/** Encode a `<methodCall>` (for clients and tests). */
export function serializeMethodCall(method: string, params: readonly unknown[] = [], opts: EncodeOptions = {}): string {
  if (!METHOD_NAME.test(method)) throw new TypeError(`method name ${JSON.stringify(method)} is not valid XML-RPC: letters, digits, '_' and ':' separated by '.' or '/'`);
  let out = `${PROLOG}<methodCall><methodName>${method}</methodName><params>`;
  for (const p of params) out += `<param>${encodeValue(p, opts, [])}</param>`;
  return out + '</params></methodCall>\n';
}
