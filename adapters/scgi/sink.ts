/**
 * The ResponseSink of SCGI: a CGI-style response (`Status: 200 OK`, headers, blank line, body) written raw to
 * the socket, which is then closed: SCGI is one request per connection, so the end of the connection is the
 * end of the body and no chunked framing exists (the web server frames the body for its client).
 */
import type { Socket } from 'node:net';
import type { HeaderList } from '../../app-api/types.js';
import { untilDrain } from '../../app-api/until-drain.js';
import type { ResponseSink } from '../../gateway/core/sink.js';
import { sharedCgiResponseHead } from '../cgi/response-head.js';

/** Who is told when the response has been ended (the connection, which then lingers for the peer's close). */
export interface ResponseOwner {
  responseEnded(): void;
}

// Below this size the head and the body go out in one write (one syscall, one TCP segment).
const COALESCE_MAX = 16 * 1024;

/**
 * The head and `body` in one new buffer: one write, one syscall, one TCP segment. TypedArray#set, not
 * Buffer#copy: a builtin, where copy is a call into C++ with argument checks (with the head reuse of
 * sharedCgiResponseHead: -4% of the instructions of a hello-world request).
 */
function withHead(head: Buffer, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

/** Writes the response to an SCGI connection and ends it. */
export class ScgiSink implements ResponseSink {
  /** The response head, until it goes out with the first body bytes (or alone at the end). */
  private head: Buffer | null = null;
  private ended = false;

  /** @param owner told once when the response was handed to the socket in full (not on abort). */
  constructor(private readonly socket: Socket, private readonly owner: ResponseOwner) {}

  get closed(): boolean {
    return this.socket.destroyed || (!this.ended && !this.socket.writable);
  }

  start(code: number, reason: string, headers: HeaderList): void {
    this.head = sharedCgiResponseHead(code, reason, headers);
  }

  write(chunk: Buffer): void | Promise<void> {
    const head = this.head;
    let ok: boolean;
    if (head !== null) {
      this.head = null;
      if (chunk.length <= COALESCE_MAX) ok = this.socket.write(withHead(head, chunk));
      else {
        this.socket.write(head);
        ok = this.socket.write(chunk);
      }
    } else ok = this.socket.write(chunk);
    if (ok) return;
    return untilDrain(this.socket);
  }

  end(last?: Buffer): void {
    if (this.ended) return;
    this.ended = true;
    const head = this.head;
    this.head = null;
    const body = last !== undefined && last.length > 0 ? last : undefined;
    if (head !== null && (body === undefined || body.length <= COALESCE_MAX)) this.socket.end(body === undefined ? head : withHead(head, body));
    else {
      if (head !== null) this.socket.write(head);
      if (body !== undefined) this.socket.end(body);
      else this.socket.end();
    }
    this.owner.responseEnded();
  }

  abort(): void {
    // The web server sees the connection reset and knows the body is incomplete (no length to check against).
    this.socket.destroy();
  }
}
