/**
 * The message protocol between the main thread (which owns the sockets) and a pool thread (which runs the
 * app). Everything here is plain and structured-clonable; large body chunks travel as transferable
 * ArrayBuffers, so a chunk is copied once (out of the producer's buffer) and then moved, never copied again.
 *
 * The structured clone behind postMessage costs per value, not per byte: each object property, each nested
 * array and above all each ArrayBuffer (a backing store to allocate, detach and account for) costs
 * microseconds, while a string is one copy. Measured with a worker posting 100,000 responses (BENCHMARKS.md):
 * a hello-world response as `{head: [200, 'OK', [[name, value]]], last: ArrayBuffer}` costs about 15 us of
 * CPU, with the head as one string and the body as a latin1 string about 8. So the hot messages are
 * strings inside: a response head is one string (`encodeHead`), a small body chunk is a latin1 string
 * (`bodyToWire`), and a request's CGI variables are one string (`encodeCgi`).
 *
 * Four channels per thread:
 * - a request port: batches of requests down (`RequestBatch`), handed over as handoff.ts says;
 * - the Worker's own port: control messages down, response parts up (`ToWorker` / `FromWorker`);
 * - an input port: request body chunks down, body credit up, plus a SharedArrayBuffer futex so a thread
 *   blocked in `tsgi.input.readSync()` wakes when a chunk lands (see sync-input.ts);
 * - a shared-cache port (see shared-cache.ts).
 *
 * Backpressure both ways is a credit window in bytes: a sender may have at most `window` bytes that the
 * other side has not yet consumed; the consumer returns credit as it consumes (the app read the chunk, or
 * the real response sink drained it).
 */
import type { ToolsConfig } from '../config/tools-types.js';
import type { MessagePort } from 'node:worker_threads';
import type { CgiVars, HeaderList } from '../../app-api/types.js';
import { CgiObject, dropUnset } from '../core/cgi-object.js';
import type { AppSpec } from '../app-loader.js';

/** Default credit window, bytes, for request and response bodies. */
export const DEFAULT_WINDOW = 256 * 1024;

/** What a pool thread gets at start (`workerData`). */
export interface WorkerBoot {
  /** `MODULE[:EXPORT]`, loaded with gateway/app-loader.ts as in single mode. */
  app: AppSpec;
  /** Where MODULE is resolved from. */
  cwd: string;
  /** Names of config features (gateway/features.ts) that wrap the app. */
  features: string[];
  /** The config's tools (`[/path]` sections, log.*), applied in the thread (gateway/tools/apply.ts). */
  tools?: ToolsConfig;
  /** `pool` (threadPool) or `perRequest` (threading), for the tools' context. */
  mode?: 'pool' | 'perRequest';
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
  /** The thread's end of the request port: batches, read with receiveMessageOnPort (handoff.ts). */
  requestPort: MessagePort;
  /** Int32Array(1) over it: where the thread is, for the handoff (handoff.ts). */
  handoff: SharedArrayBuffer;
  /** How long an idle thread sleeps waiting for the next batch before it goes back to its event loop (0: never). */
  handoffWaitMs: number;
}

/**
 * One request for a pool thread: its id, its CGI variables (`encodeCgi`), whether a body follows on the
 * input port, and the front's extras. A tuple, not an object: every property name costs in the clone.
 */
export type RequestSpec = [id: number, cgi: WireCgi, hasBody: boolean, extra?: Readonly<Record<string, unknown>>];

/** CGI variables on the wire: `encodeCgi`'s string, or the object itself when a NUL forbids the string. */
export type WireCgi = string | CgiVars;

/**
 * Main -> thread, on the request port (handoff.ts): requests to serve one after another, the first at
 * once. Only the first may have a body; the thread takes each further one through the batch claim
 * (batch-claim.ts), which the main thread may take back.
 */
export interface RequestBatch {
  t: 'req';
  batch: RequestSpec[];
}

/** Main -> thread, on the Worker port. */
export type ToWorker =
  /** A batch is on the request port and the thread is in its event loop: take it (handoff.ts). */
  | { t: 'wake' }
  /** Response credit: `n` bytes the real sink has taken. */
  | { t: 'credit'; id: number; n: number }
  /** The sink is closed (the client went away): stop producing the body. */
  | { t: 'gone'; id: number }
  /**
   * The front saw the client leave (FIN, close, abort record): abort the app's tsgi.client_gone. The
   * response still goes out if the connection can take it (a client that only half-closed).
   */
  | { t: 'left'; id: number; why: string }
  /** The thread is idle and retired: run the app's lifecycle end (reload/graceful/stop/exit), then exit. */
  | { t: 'stop'; reason: StopReason };

/** Why an idle thread is asked to end; published to the app's lifecycle listeners. */
export type StopReason = 'reload' | 'maxRequests' | 'shutdown';

/** Status line and headers, as the gateway core validated them in the thread. */
export type ResponseHead = [code: number, reason: string, headers: HeaderList];

/** A ResponseHead on the wire (`encodeHead`). */
export type WireHead = string;

/**
 * Body bytes on the wire: a latin1 string (one byte per char) up to SMALL_BODY bytes, a transferable
 * ArrayBuffer above that.
 */
export type WireBody = string | ArrayBuffer;

/** Chunks up to this many bytes cross as latin1 strings, larger ones as transferred ArrayBuffers. */
export const SMALL_BODY = 16 * 1024;

/** Thread -> main, on the Worker port. `head` rides on the first part that follows startResponse. */
export type FromWorker =
  | { t: 'ready' }
  | { t: 'loadError'; message: string; code?: string }
  | { t: 'head'; id: number; head: WireHead }
  | { t: 'write'; id: number; head?: WireHead; chunk: WireBody }
  /**
   * The response is complete; `done` when the app's request also finished (the thread is free, or, with
   * `more`, it has started the next request of its batch).
   */
  | { t: 'end'; id: number; head?: WireHead; last?: WireBody; done?: boolean; more?: boolean }
  | { t: 'abort'; id: number; head?: WireHead; message: string; done?: boolean; more?: boolean }
  /** The app's request finished (body closed); `more`: the thread has started the next one of its batch. */
  | { t: 'done'; id: number; more?: boolean }
  /** A line for the error log (the thread's tsgi.errors and gateway log). */
  | { t: 'log'; line: string }
  /**
   * The messages of a batch served in one go, in order (worker-main.ts): one message instead of one per
   * response, since each message costs the main thread a callback of its own.
   */
  | { t: 'many'; parts: FromWorker[] };

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

/**
 * One string for a response head: `CODE REASON`, then each header name and value, all separated by LF.
 * The gateway core refused CR, LF and other controls in the reason and in header names and values before a
 * head gets here (headers.ts), so LF cannot occur inside a field.
 */
export function encodeHead(code: number, reason: string, headers: HeaderList): WireHead {
  let s = code + ' ' + reason;
  for (let i = 0; i < headers.length; i++) s += '\n' + headers[i][0] + '\n' + headers[i][1];
  return s;
}

/** The inverse of encodeHead. */
export function decodeHead(wire: WireHead): ResponseHead {
  const parts = wire.split('\n');
  const status = parts[0];
  const sp = status.indexOf(' ');
  const headers: HeaderList = [];
  for (let i = 1; i + 1 < parts.length; i += 2) headers.push([parts[i], parts[i + 1]]);
  return [Number(status.slice(0, sp)), status.slice(sp + 1), headers];
}

/** Body bytes for a message, and what to transfer with it (nothing for a small chunk). */
export function bodyToWire(bytes: Uint8Array): [WireBody, ArrayBuffer[] | undefined] {
  if (bytes.byteLength <= SMALL_BODY) {
    const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return [b.toString('latin1'), undefined];
  }
  const ab = transferable(bytes);
  return [ab, [ab]];
}

/** Body bytes from a message. */
export function bodyFromWire(wire: WireBody): Buffer {
  return typeof wire === 'string' ? Buffer.from(wire, 'latin1') : Buffer.from(wire);
}

/** Byte length of a body on the wire (latin1: one char per byte). */
export function wireLength(wire: WireBody): number {
  return typeof wire === 'string' ? wire.length : wire.byteLength;
}

/**
 * CGI variables as one string, NAME NUL VALUE NUL ... (a string is one copy in the clone, an object with
 * 20-30 properties is 20-30 name and value writes). A NUL can arrive in a value (a FastCGI param is
 * length-prefixed bytes; %00 in a path decodes to one): then the object goes as it is.
 */
export function encodeCgi(cgi: CgiVars): WireCgi {
  let s = '';
  for (const name in cgi) {
    const value = cgi[name];
    if (value.indexOf('\0') !== -1 || name.indexOf('\0') !== -1) return cgi;
    s += name + '\0' + value + '\0';
  }
  return s;
}

/** The inverse of encodeCgi. */
export function decodeCgi(wire: WireCgi): CgiVars {
  if (typeof wire !== 'string') return wire;
  // Room for every variable (gateway/core/cgi-object.ts).
  const cgi = new CgiObject();
  let at = 0;
  while (at < wire.length) {
    const nameEnd = wire.indexOf('\0', at);
    const valueEnd = wire.indexOf('\0', nameEnd + 1);
    cgi[wire.slice(at, nameEnd)] = wire.slice(nameEnd + 1, valueEnd);
    at = valueEnd + 1;
  }
  return dropUnset(cgi);
}
