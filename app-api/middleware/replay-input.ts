/**
 * A `tsgi.input` that gives back bytes a middleware already read, then the rest of the original input. So a
 * middleware can look at the start of a body (to decide whether the request is for it) and still pass the
 * request on untouched.
 */
import { BodyInput } from '../input.js';
import type { InputStream } from '../types.js';

/** `head` first, then what is left of `rest` (null when `rest` was read to its end). */
export function replayInput(head: Buffer, rest: InputStream | null): InputStream {
  if (rest === null) return BodyInput.fromBuffer(head);
  let pending: Buffer | null = head.length > 0 ? head : null;
  const takeHead = (): Buffer | null => {
    const h = pending;
    pending = null;
    return h;
  };
  async function* source(): AsyncGenerator<Buffer> {
    const h = takeHead();
    if (h !== null) yield h;
    yield* rest!;
  }
  // readSync: the head is in memory; past it, the original input blocks where it can (or names the fix).
  return new BodyInput(source(), (size) => takeHead() ?? rest.readSync(size));
}
