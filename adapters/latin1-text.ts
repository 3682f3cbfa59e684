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

/** The slot of the string latin1Text returned last, -1 when it was not interned (empty or too long). */
let lastSlot = -1;
/** Per slot, the name set (see newNameSet) in which a name with that slot's bytes was last marked. */
const slotMark = new Int32Array(INTERN_SLOTS);
let nameSet = 0;

/**
 * Where the n-th latin1Text call of the last name set found its string (-1: nowhere). A web server sends
 * the same variables in the same order on every request, so the n-th call of this request is checked
 * against that slot first, by its bytes alone, skipping the hash loop (measured: -5% of the instructions of
 * an SCGI hello-world request). A miss costs one length compare, or a byte compare up to the first
 * difference.
 */
const SEQ_MAX = 128;
const seqSlot = new Int32Array(SEQ_MAX).fill(-1);
let seq = 0;

/** Start a new set of names (one request's params or headers), for markName. */
export function newNameSet(): void {
  nameSet = (nameSet + 1) | 0 || 1; // never 0: the marks of slots never used
  seq = 0;
}

/**
 * Call right after latin1Text returned a name: true when no name with these bytes was marked in the current
 * set (the name is new to the request's object), false when it may be a repeat (or was not interned): then
 * look at the object. Why: `obj[name]` for a name the object lacks is a megamorphic lookup that walks the
 * prototype chain, ~3% of a FastCGI request; a slot's bytes are a pure function of the name, so a mark
 * cannot say "new" wrongly (a collision or an eviction only makes it say "look").
 */
export function markName(): boolean {
  const slot = lastSlot;
  if (slot < 0 || slotMark[slot] === nameSet) return false;
  slotMark[slot] = nameSet;
  return true;
}

/**
 * `buf.toString('latin1', start, end)`, but the same string object for the same short byte run (see above).
 * `isName`: the string will be a property key; it is stored internalized so keyed stores skip V8's
 * string-table lookup.
 */
export function latin1Text(buf: Buffer, start: number, end: number, isName = false): string {
  const len = end - start;
  const k = seq;
  if (k < SEQ_MAX) seq = k + 1; // a caller that never starts a name set stops at SEQ_MAX (no fast path)
  lastSlot = -1;
  if (len === 0) return '';
  if (len > INTERN_MAX_LEN) return latin1Slice !== undefined ? latin1Slice.call(buf, start, end) : buf.toString('latin1', start, end);
  if (k < SEQ_MAX) {
    const guess = seqSlot[k];
    // A slot's string and bytes are always set together: equal bytes mean the string is this one.
    if (guess >= 0 && interned[guess].length === len) {
      const at = guess * INTERN_MAX_LEN;
      let i = 0;
      while (i < len && internedBytes[at + i] === buf[start + i]) i++;
      if (i === len) {
        lastSlot = guess;
        return interned[guess];
      }
    }
  }
  let h = len;
  for (let i = start; i < end; i++) h = (Math.imul(h, 31) + buf[i]) | 0;
  const slot = (h ^ (h >>> 15)) & (INTERN_SLOTS - 1);
  const hit = interned[slot];
  const at = slot * INTERN_MAX_LEN;
  lastSlot = slot;
  if (k < SEQ_MAX) seqSlot[k] = slot;
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
