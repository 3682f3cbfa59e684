/**
 * Bytes -> Latin-1 strings for the variables a web server sends on every request (FastCGI params, SCGI
 * headers), with the repeats turned into the same string object. Shared by adapters/fastcgi/params.ts and
 * adapters/scgi/parse.ts: both fronts parse ~20-30 name/value pairs per request, mostly the same bytes.
 */

// Buffer#latin1Slice is what toString('latin1', a, b) ends in, minus the argument checks and encoding
// lookup. Fall back if a runtime lacks it.
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: (this: Buffer, start: number, end: number) => string }).latin1Slice;

/**
 * Interned param strings. A web server sends the same ~20-30 names, and mostly the same values (GATEWAY_INTERFACE, SERVER_PROTOCOL, REQUEST_METHOD, SERVER_ADDR, HTTP_HOST...), on every request: turning
 * each into a new string was a third of the front's CPU time. Short byte runs are hashed into a
 * direct-mapped table (a slot per hash value, no Map: the Map lookup was 15% of parsing) that keeps each
 * slot's string and its bytes; when the bytes are exactly the same the string is reused, otherwise the
 * slot gets the new one. Fixed size, so a peer sending random names cannot grow it.
 */
const INTERN_MAX_LEN = 64;
const INTERN_SLOTS = 4096; // a power of two
const interned: string[] = new Array<string>(INTERN_SLOTS).fill('');
// The bytes of each slot's string, INTERN_MAX_LEN per slot: comparing two byte arrays is cheaper than charCodeAt.
const internedBytes = new Uint8Array(INTERN_SLOTS * INTERN_MAX_LEN);

/**
 * `buf.toString('latin1', start, end)`, but the same string object for the same short byte run (see above).
 * `isName`: the string will be a property key; it is stored internalized so keyed stores skip V8's
 * string-table lookup.
 */
export function latin1Text(buf: Buffer, start: number, end: number, isName = false): string {
  const len = end - start;
  if (len === 0) return '';
  if (len > INTERN_MAX_LEN) return latin1Slice !== undefined ? latin1Slice.call(buf, start, end) : buf.toString('latin1', start, end);
  let h = len;
  for (let i = start; i < end; i++) h = (Math.imul(h, 31) + buf[i]) | 0;
  const slot = (h ^ (h >>> 15)) & (INTERN_SLOTS - 1);
  const hit = interned[slot];
  const at = slot * INTERN_MAX_LEN;
  if (hit.length === len) {
    let i = 0;
    while (i < len && internedBytes[at + i] === buf[start + i]) i++;
    if (i === len) return hit;
  }
  let str = latin1Slice !== undefined ? latin1Slice.call(buf, start, end) : buf.toString('latin1', start, end);
  if (isName) str = internalize(str);
  interned[slot] = str;
  internedBytes.set(buf.subarray(start, end), at);
  return str;
}

/**
 * V8's internalized copy of `s` (the one property keys use), through a one-key object: names become
 * environ keys, and an internalized key is stored without a string-table lookup per request (measured:
 * -2% of the instructions of a FastCGI request). Names only (values are not keys), on a cache miss.
 */
function internalize(s: string): string {
  const o: Record<string, number> = { [s]: 0 };
  for (const k in o) return k;
  return s;
}
