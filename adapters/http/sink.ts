/**
 * ResponseSink over Node's ServerResponse (HTTP/1.x) and Http2ServerResponse (HTTP/2 compat API).
 * Framing is decided by the gateway core; Node then writes Content-Length or chunked bodies accordingly.
 */
import type { ServerResponse } from 'node:http';
import { constants as h2c, type Http2ServerResponse } from 'node:http2';
import type { FileRange } from '../../app-api/file-body.js';
import type { HeaderList } from '../../app-api/types.js';
import type { ResponseSink } from '../../gateway/core/sink.js';
import { untilDrain, type DrainEmitter } from '../../app-api/until-drain.js';
import { sendFileRange } from './send-file.js';

/** The part of ServerResponse and Http2ServerResponse the body is written through: the same in both. */
interface BodyWriter extends DrainEmitter {
  write(chunk: Buffer): boolean;
  end(): unknown;
  end(data: Buffer): unknown;
  end(data: string, encoding: BufferEncoding): unknown;
}

/*
 * What both sinks do the same way, the body, is written once as these functions rather than in a shared base
 * class: constructing a derived class runs V8's super-constructor lookup on every response (measured with
 * perf on the built-in server: about 0.2 us a request of Builtins_FindNonDefaultConstructorOrConstruct).
 */

function writeBody(res: BodyWriter, chunk: Buffer): void | Promise<void> {
  if (res.write(chunk)) return;
  return untilDrain(res);
}

function endBody(res: BodyWriter, last?: Buffer): void {
  if (last === undefined || last.length === 0) res.end();
  else res.end(last);
}

function endText(res: BodyWriter, text: string): void {
  res.end(text, 'utf8');
}

/** HTTP/1.x sink. */
export class Http1Sink implements ResponseSink {
  /**
   * `preset`: false when nothing can have set headers on `res` before the app answers (the built-in server
   * without middleware), which spares asking Node for them on every response (an array per call).
   */
  constructor(
    private readonly res: ServerResponse,
    private readonly preset = true,
  ) {}

  get closed(): boolean {
    if (this.res.destroyed) return true;
    // A pipelined response has no socket until the responses before it are done (Node assigns it in turn):
    // it is not closed then, its connection is its request's. Taking it for closed left every pipelined
    // request after the first unanswered whenever the app ran off the event loop (threadPool).
    const socket = this.res.socket ?? this.res.req?.socket;
    return socket === null || socket === undefined || socket.destroyed;
  }

  start(code: number, reason: string, headers: HeaderList): void {
    if (this.preset && this.res.getHeaderNames().length > 0) {
      // Middleware already set headers: writeHead would merge a flat list into them by name and keep only
      // the last of repeated headers (two Set-Cookie -> one). appendHeader keeps every one.
      for (const [name, value] of headers) this.res.appendHeader(name, value);
      if (reason === '') this.res.writeHead(code);
      else this.res.writeHead(code, reason);
      return;
    }
    const flat: string[] = new Array(headers.length * 2);
    for (let i = 0; i < headers.length; i++) {
      flat[2 * i] = headers[i][0];
      flat[2 * i + 1] = headers[i][1];
    }
    if (reason === '') this.res.writeHead(code, flat);
    else this.res.writeHead(code, reason, flat);
  }


  write(chunk: Buffer): void | Promise<void> {
    return writeBody(this.res, chunk);
  }

  end(last?: Buffer): void {
    endBody(this.res, last);
  }

  endText(text: string): void {
    endText(this.res, text);
  }

  abort(err: Error): void {
    // Closing the socket is the only way HTTP/1.1 can say "this body is incomplete".
    this.res.destroy(err);
    this.res.socket?.destroy();
  }

  /** The file goes from pooled read buffers straight into the response (send-file.ts), no app-layer hop. */
  sendFile(file: FileRange): Promise<void> {
    return sendFileRange(this.res, file);
  }
}

/** HTTP/2 sink: lower-case header names, duplicates as arrays (the core already dropped connection-specific ones). */
export class Http2Sink implements ResponseSink {
  constructor(private readonly res: Http2ServerResponse) {}

  get closed(): boolean {
    return this.res.stream.destroyed || this.res.stream.closed;
  }

  start(code: number, _reason: string, headers: HeaderList): void {
    const obj: Record<string, string | string[]> = {};
    for (const [name, value] of headers) {
      const key = name.toLowerCase();
      const prev = obj[key];
      if (prev === undefined) obj[key] = value;
      else if (Array.isArray(prev)) prev.push(value);
      else obj[key] = [prev, value];
    }
    this.res.writeHead(code, obj);
  }


  write(chunk: Buffer): void | Promise<void> {
    return writeBody(this.res, chunk);
  }

  end(last?: Buffer): void {
    endBody(this.res, last);
  }

  endText(text: string): void {
    endText(this.res, text);
  }

  abort(): void {
    this.res.stream.close(h2c.NGHTTP2_INTERNAL_ERROR);
  }
}
