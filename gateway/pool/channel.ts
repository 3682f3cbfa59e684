/**
 * The message protocol between the main thread (which owns the sockets) and a pool thread (which runs the
 * app). Everything here is plain and structured-clonable; body bytes travel as transferable ArrayBuffers,
 * so a chunk is copied once (out of the producer's buffer) and then moved, never copied again.
 *
 * Three channels per thread:
 * - the Worker's own port: requests down, response parts up (`ToWorker` / `FromWorker`);
 * - an input port: request body chunks down, body credit up, plus a SharedArrayBuffer futex so a thread
 *   blocked in `tsgi.input.readSync()` wakes when a chunk lands (see sync-input.ts);
 * - a shared-cache port (see shared-cache.ts).
 *
 * Backpressure both ways is a credit window in bytes: a sender may have at most `window` bytes that the
 * other side has not yet consumed; the consumer returns credit as it consumes (the app read the chunk, or
 * the real response sink drained it).
 */
import type { MessagePort } from 'node:worker_threads';
import type { CgiVars, HeaderList } from '../../app-api/types.js';
import type { AppSpec } from '../app-loader.js';

/** Default credit window, bytes, for request and response bodies. */
export const DEFAULT_WINDOW = 256 * 1024;

/** What a pool thread gets at start (`workerData`). */
export interface WorkerBoot {
  /** `MODULE[:EXPORT]`, loaded with gateway/app-loader.ts as in single mode. */
  app: AppSpec;
  /** Where MODULE is resolved from. */
  cwd: string;
  /** Names of config features (FEATURES in serve.ts) that wrap the app. */
  features: string[];
  appConfig: Record<string, string>;
  multiprocess: boolean;
  window: number;
  /** The thread's end of the input channel. */
  inputPort: MessagePort;
  /** Int32Array(1) over it: bumped by the main thread after each input message, waited on by readSync. */
  inputSignal: SharedArrayBuffer;
  /** The thread's end of the shared-cache channel. */
  cachePort: MessagePort;
  /** Int32Array(1) over it: the shared cache's delete epoch. */
  cacheEpoch: SharedArrayBuffer;
  /** Int32Array(1) over it: how many requests of the current batch the thread has taken (batch-claim.ts). */
  batchClaim: SharedArrayBuffer;
}

/** One request for a pool thread: its CGI variables, whether a body follows on the input port, extras. */
export interface RequestSpec {
  id: number;
  cgi: CgiVars;
  hasBody: boolean;
  extra?: Readonly<Record<string, unknown>>;
}

/** Main -> thread, on the Worker port. */
export type ToWorker =
  /**
   * Requests to serve one after another, the first at once. Only the first may have a body; the thread
   * takes each further one through the batch claim (batch-claim.ts), which the main thread may take back.
   */
  | { t: 'req'; batch: RequestSpec[] }
  /** Response credit: `n` bytes the real sink has taken. */
  | { t: 'credit'; id: number; n: number }
  /** The client went away: stop producing the body. */
  | { t: 'gone'; id: number }
  /** The thread is idle and retired: run the app's lifecycle end (reload/graceful/stop/exit), then exit. */
  | { t: 'stop'; reason: StopReason };

/** Why an idle thread is asked to end; published to the app's lifecycle listeners. */
export type StopReason = 'reload' | 'maxRequests' | 'shutdown';

/** Status line and headers, as the gateway core validated them in the thread. */
export type ResponseHead = [code: number, reason: string, headers: HeaderList];

/** Thread -> main, on the Worker port. `head` rides on the first part that follows startResponse. */
export type FromWorker =
  | { t: 'ready' }
  | { t: 'loadError'; message: string; code?: string }
  | { t: 'head'; id: number; head: ResponseHead }
  | { t: 'write'; id: number; head?: ResponseHead; chunk: ArrayBuffer }
  /**
   * The response is complete; `done` when the app's request also finished (the thread is free, or, with
   * `more`, it has started the next request of its batch).
   */
  | { t: 'end'; id: number; head?: ResponseHead; last?: ArrayBuffer; done?: boolean; more?: boolean }
  | { t: 'abort'; id: number; head?: ResponseHead; message: string; done?: boolean; more?: boolean }
  /** The app's request finished (body closed); `more`: the thread has started the next one of its batch. */
  | { t: 'done'; id: number; more?: boolean }
  /** A line for the error log (the thread's tsgi.errors and gateway log). */
  | { t: 'log'; line: string };

/** Main -> thread, on the input port. */
export type ToInput =
  | { id: number; chunk: ArrayBuffer }
  | { id: number; eof: true }
  | { id: number; error: string };

/** Thread -> main, on the input port: the app consumed `n` body bytes. */
export interface InputCredit {
  id: number;
  n: number;
}

/**
 * Copy bytes into a fresh ArrayBuffer that may be transferred. Never transfer a Buffer's own memory: small
 * Buffers live in Node's shared 8 KiB pool, and an app may keep a large one (a constant body) for reuse.
 */
export function transferable(bytes: Uint8Array): ArrayBuffer {
  const ab = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(ab).set(bytes);
  return ab;
}
