/**
 * `tsgi.input` as a web ReadableStream, for a fetch Request body. Pull-based: a chunk is read from the gateway
 * only when the handler asks for one, so a slow handler holds back the upload instead of buffering it.
 */
import type { InputStream } from '../types.js';

/** Bytes read per pull: the size of Node's socket reads, so one pull is about one network chunk. */
const PULL_SIZE = 64 * 1024;

/** A ReadableStream over `tsgi.input` (the handler's `request.body`). */
export function inputStream(input: InputStream): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = await input.read(PULL_SIZE);
      if (chunk.length === 0) controller.close();
      else controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    },
  }, { highWaterMark: 0 });
}
