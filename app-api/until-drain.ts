/**
 * Backpressure, written once: after a `write()` answered false, wait until the stream takes more. Used by
 * the response writers of the fronts (HTTP, SCGI) and by the compression tool (zlib's input side).
 */

/** What untilDrain needs of a stream: a net.Socket, an http.ServerResponse, an HTTP/2 response, a zlib stream. */
export interface DrainEmitter {
  on(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

/**
 * Resolves on the stream's next 'drain', or on its 'close': a stream that closes (the client left) never
 * drains, and the writer must not wait forever; its next write then fails or is dropped, which the caller
 * handles. Never rejects: errors come through the stream's own 'error' and 'close'.
 */
export function untilDrain(stream: DrainEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
