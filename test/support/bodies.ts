/**
 * Deterministic request bodies: big bodies are described as {size, seed} and generated on the fly, so the
 * table stays small and every front sends the same bytes. The digest is computed the same way.
 */
import { createHash } from 'node:crypto';

/** A generated body. */
export interface GeneratedBody {
  size: number;
  seed: number;
}

const BLOCK = 64 * 1024;

/** One 64 KiB block of the stream for `seed`: xorshift32 output, little-endian. */
function block(seed: number, index: number): Buffer {
  const words = new Uint32Array(BLOCK / 4);
  let x = (seed * 0x9e3779b1 + index * 0x85ebca6b + 1) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  return Buffer.from(words.buffer);
}

/** The bytes of a generated body, in chunks of at most 64 KiB. */
export function* generateBody(spec: GeneratedBody): Generator<Buffer> {
  let left = spec.size;
  for (let i = 0; left > 0; i++) {
    const b = block(spec.seed, i);
    const n = Math.min(left, BLOCK);
    yield n === BLOCK ? b : b.subarray(0, n);
    left -= n;
  }
}

/** Length and sha256 (hex) of bytes, as echo-environ reports a request body. */
export interface Digest {
  length: number;
  sha256: string;
}

/** Digest of a buffer or of a generated body. */
export function digestOf(body: Buffer | GeneratedBody | undefined): Digest {
  const h = createHash('sha256');
  let length = 0;
  if (body === undefined) {
    /* empty */
  } else if (Buffer.isBuffer(body)) {
    h.update(body);
    length = body.length;
  } else {
    for (const c of generateBody(body)) {
      h.update(c);
      length += c.length;
    }
  }
  return { length, sha256: h.digest('hex') };
}
