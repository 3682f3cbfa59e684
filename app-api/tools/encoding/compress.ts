/**
 * Compress a body with gzip or brotli. An array body is in memory already: one synchronous call, and the
 * result is an array again, so the gateway still sends a Content-Length. Anything else streams through a
 * zlib stream: the gateway pulls compressed chunks, and the app's body is read only as fast as zlib's
 * buffer drains (write() returning false waits for 'drain'), so a big or endless body never piles up.
 */
import zlib from 'node:zlib';
import type { Body, Chunk } from '../../types.js';
import { untilDrain } from '../../until-drain.js';
import { chunksOf } from '../response-filter.js';

/** The codings the gzip tool produces. */
export type Coding = 'gzip' | 'br';

/** Levels: gzip 1..9, brotli quality 0..11. */
export interface CompressLevels {
  gzip: number;
  br: number;
}

function toBuffer(c: Chunk): Buffer {
  return typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
}

function brotliParams(level: number, sizeHint?: number): zlib.BrotliOptions {
  const params: Record<number, number> = { [zlib.constants.BROTLI_PARAM_QUALITY]: level, [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT };
  if (sizeHint !== undefined) params[zlib.constants.BROTLI_PARAM_SIZE_HINT] = sizeHint;
  return { params };
}

/** Compress an in-memory body in one go. */
export function compressArray(chunks: Chunk[], coding: Coding, levels: CompressLevels): Chunk[] {
  const input = chunks.length === 1 ? toBuffer(chunks[0]) : Buffer.concat(chunks.map(toBuffer));
  if (coding === 'gzip') return [zlib.gzipSync(input, { level: levels.gzip })];
  return [zlib.brotliCompressSync(input, brotliParams(levels.br, input.length))];
}

/** Compress a streamed body; close() of the result closes the original body and the zlib stream. */
export function compressStream(body: Body, coding: Coding, levels: CompressLevels): Body {
  const z = coding === 'gzip' ? zlib.createGzip({ level: levels.gzip }) : zlib.createBrotliCompress(brotliParams(levels.br));
  let closed = false;
  let feeding: Promise<void> | null = null;
  const feed = async (): Promise<void> => {
    try {
      for await (const chunk of chunksOf(body)) {
        if (z.destroyed) return;
        const buf = toBuffer(chunk);
        if (buf.length === 0) continue;
        if (!z.write(buf)) {
          await untilDrain(z);
        }
      }
      z.end();
    } catch (err) {
      z.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  };
  return {
    async *[Symbol.asyncIterator]() {
      feeding = feed();
      for await (const out of z) yield out as Buffer;
      await feeding;
    },
    close() {
      if (closed) return;
      closed = true;
      z.destroy();
      return body.close?.();
    },
  };
}
