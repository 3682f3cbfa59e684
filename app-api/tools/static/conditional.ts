/**
 * Validators and conditional requests for static files (RFC 9110 8.8 and 13): the ETag and Last-Modified a
 * file gets, and what If-Match / If-Unmodified-Since / If-None-Match / If-Modified-Since / Range / If-Range
 * make of a request, in the order of RFC 9110 13.2.2.
 */
import type { Stats } from 'node:fs';
import parseRange from 'range-parser';

/** The strong ETag of a file version: mtime and size in hex, as nginx makes it. */
export function etagOf(st: Stats): string {
  return `"${Math.floor(st.mtimeMs).toString(16)}-${st.size.toString(16)}"`;
}

/** Last-Modified: whole seconds, as HTTP dates have no finer grain. */
export function lastModifiedOf(st: Stats): string {
  return new Date(Math.floor(st.mtimeMs / 1000) * 1000).toUTCString();
}

function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

function tagsOf(header: string): string[] {
  return header.split(',').map((t) => t.trim()).filter((t) => t !== '');
}

/** If-None-Match: weak comparison (a gzip-weakened tag still matches its file). */
export function noneMatchHits(header: string, etag: string): boolean {
  return tagsOf(header).some((t) => t === '*' || opaque(t) === opaque(etag));
}

/** If-Match: strong comparison. */
function matchHits(header: string, etag: string): boolean {
  return tagsOf(header).some((t) => t === '*' || (!t.startsWith('W/') && t === etag));
}

function seconds(date: string): number {
  const t = Date.parse(date);
  return Number.isNaN(t) ? NaN : Math.floor(t / 1000);
}

/** The request's conditional headers, as CGI variables. */
export interface Conditions {
  method: string;
  ifMatch?: string;
  ifUnmodifiedSince?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  range?: string;
  ifRange?: string;
}

/** What to answer. `range` is inclusive; `multi`: several ranges were asked, answered with the whole file. */
export type Outcome =
  | { readonly status: 200; readonly multi: boolean }
  | { readonly status: 206; readonly start: number; readonly end: number }
  | { readonly status: 304 }
  | { readonly status: 412 }
  | { readonly status: 416 };

/** Decide the response for a file with `size`, `etag` and `mtime` (seconds). */
export function evaluate(c: Conditions, size: number, etag: string, mtimeSec: number): Outcome {
  if (c.ifMatch !== undefined) {
    if (!matchHits(c.ifMatch, etag)) return { status: 412 };
  } else if (c.ifUnmodifiedSince !== undefined) {
    const t = seconds(c.ifUnmodifiedSince);
    if (!Number.isNaN(t) && mtimeSec > t) return { status: 412 };
  }
  const getOrHead = c.method === 'GET' || c.method === 'HEAD';
  if (c.ifNoneMatch !== undefined) {
    if (noneMatchHits(c.ifNoneMatch, etag)) return getOrHead ? { status: 304 } : { status: 412 };
  } else if (c.ifModifiedSince !== undefined && getOrHead) {
    const t = seconds(c.ifModifiedSince);
    if (!Number.isNaN(t) && mtimeSec <= t) return { status: 304 };
  }
  if (c.method !== 'GET' || c.range === undefined) return { status: 200, multi: false };
  if (c.ifRange !== undefined) {
    const v = c.ifRange.trim();
    const fresh = v.startsWith('"') || v.startsWith('W/') ? v === etag : seconds(v) === mtimeSec;
    if (!fresh) return { status: 200, multi: false };
  }
  const ranges = parseRange(size, c.range, { combine: true });
  if (ranges === -1) return { status: 416 };
  if (ranges === -2 || ranges.type !== 'bytes') return { status: 200, multi: false }; // malformed: ignore it (RFC 9110 14.2)
  if (ranges.length !== 1) return { status: 200, multi: true };
  return { status: 206, start: ranges[0].start, end: ranges[0].end };
}
