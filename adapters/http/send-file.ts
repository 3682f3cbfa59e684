/**
 * Sending a byte range of a file into a Node HTTP response: the built-in server's file path (Node's HTTP
 * server has no sendfile(2), so the bytes pass through memory once).
 *
 * Why not `createReadStream(...).pipe(res)`: a CPU profile of `npm run bench:static` (1 MiB file, see
 * BENCHMARKS.md) had ~30% of its samples in the ReadStream's own costs: a fresh `allocUnsafeSlow` buffer per
 * chunk (page faults on every new buffer, and 13% in the garbage collector freeing them) and one hop to the
 * libuv thread pool per 256 KiB chunk. Here a file is read in chunks of up to 1 MiB (one read for the common
 * asset size, no EOF read since the range is known) into buffers taken from a small free list, and a buffer
 * goes back to the list only when the socket's write callback says the kernel has the bytes.
 */
import { close, open, read } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { FileRange } from '../../app-api/file-body.js';

/** Bytes per read: a whole typical asset in one thread-pool hop; bounded so a big file never sits whole in memory. */
export const FILE_CHUNK = 1024 * 1024;
/**
 * Free buffers kept for reuse: up to 16 MiB held after a burst. 4 left a third of the allocations and the
 * GC time in place at 32 concurrent clients; 16 cut CPU per request a further ~1.6x; 32 measured no better.
 */
const FREE_MAX = 16;
const free: Buffer[] = [];

function takeBuffer(): Buffer {
  return free.pop() ?? Buffer.allocUnsafeSlow(FILE_CHUNK);
}

function giveBack(buf: Buffer): void {
  if (free.length < FREE_MAX) free.push(buf);
}

/**
 * Write bytes `file.start..file.end` of `file.path` into `res` (whose head, with Content-Length, is already
 * set) and end it. Keeps backpressure (waits for 'drain' when `write` says the socket is full). Resolves when
 * the body is handed to the socket or the client went away; rejects when the file cannot be read or is shorter
 * than the range (the Content-Length sent is then a lie, so the caller must cut the connection).
 */
export function sendFileRange(res: ServerResponse, file: FileRange): Promise<void> {
  return new Promise((resolve, reject) => {
    open(file.path, 'r', (err, fd) => {
      if (err !== null) return reject(err);
      let pos = file.start;
      const end = file.end + 1;
      let done = false;
      const finish = (failure?: Error): void => {
        if (done) return;
        done = true;
        res.off('close', onClose);
        res.off('drain', next);
        close(fd, () => {});
        if (failure !== undefined) reject(failure);
        else resolve();
      };
      const onClose = (): void => finish();
      res.on('close', onClose);

      function next(): void {
        if (done) return;
        if (res.destroyed) return finish();
        const want = Math.min(FILE_CHUNK, end - pos);
        if (want <= 0) {
          res.end();
          return finish();
        }
        const buf = takeBuffer();
        read(fd, buf, 0, want, pos, (err, got) => {
          if (done) return giveBack(buf);
          if (err !== null) {
            giveBack(buf);
            return finish(err);
          }
          if (got === 0) {
            giveBack(buf);
            return finish(new Error(`${file.path}: ${pos - file.start} of ${end - file.start} bytes (the file changed while being sent)`));
          }
          pos += got;
          // The buffer is reused once the socket has written it (the callback also runs when the write fails).
          const more = res.write(got === buf.length ? buf : buf.subarray(0, got), () => giveBack(buf));
          if (more) next();
          else res.once('drain', next);
        });
      }
      next();
    });
  });
}
