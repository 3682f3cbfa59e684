/**
 * A small FastCGI client for tests, written independently of adapters/fastcgi (its own encoder and
 * parser), so that a bug shared by both sides cannot hide. Sends BEGIN_REQUEST / PARAMS / STDIN / DATA,
 * collects STDOUT / STDERR per request id until END_REQUEST, and can run several requests on one
 * connection at once (multiplexing). Raw bytes can be written for malformed-input tests.
 */
import net from 'node:net';

export const T = {
  BEGIN_REQUEST: 1,
  ABORT_REQUEST: 2,
  END_REQUEST: 3,
  PARAMS: 4,
  STDIN: 5,
  STDOUT: 6,
  STDERR: 7,
  DATA: 8,
  GET_VALUES: 9,
  GET_VALUES_RESULT: 10,
  UNKNOWN_TYPE: 11,
} as const;
export const ROLE = { RESPONDER: 1, AUTHORIZER: 2, FILTER: 3 } as const;

/** One record, with optional padding. */
export function record(type: number, id: number, content: Buffer = Buffer.alloc(0), padding = 0): Buffer {
  const h = Buffer.alloc(8);
  h[0] = 1;
  h[1] = type;
  h.writeUInt16BE(id, 2);
  h.writeUInt16BE(content.length, 4);
  h[6] = padding;
  return Buffer.concat([h, content, Buffer.alloc(padding)]);
}

/** A stream (PARAMS, STDIN, DATA) as records of at most 65535 bytes, followed by the empty record. */
export function streamRecords(type: number, id: number, data: Buffer, end = true): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += 65535) out.push(record(type, id, data.subarray(i, i + 65535)));
  if (end) out.push(record(type, id));
  return Buffer.concat(out);
}

function lengthBytes(n: number): Buffer {
  if (n < 128) return Buffer.from([n]);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n + 0x80000000, 0);
  return b;
}

/** Name-value pairs; strings are taken as UTF-8 (what a web server sends for decoded paths). */
export function nameValues(pairs: Record<string, string | Buffer> | [string, string | Buffer][]): Buffer {
  const list = Array.isArray(pairs) ? pairs : Object.entries(pairs);
  const parts: Buffer[] = [];
  for (const [name, value] of list) {
    const n = Buffer.from(name);
    const v = Buffer.isBuffer(value) ? value : Buffer.from(value);
    parts.push(lengthBytes(n.length), lengthBytes(v.length), n, v);
  }
  return Buffer.concat(parts);
}

/** BEGIN_REQUEST for `id`. */
export function beginRecord(id: number, role: number = ROLE.RESPONDER, keepConn = true): Buffer {
  return record(T.BEGIN_REQUEST, id, Buffer.from([role >> 8, role & 0xff, keepConn ? 1 : 0, 0, 0, 0, 0, 0]));
}

/** CGI variables as nginx's fastcgi_params sends them for `method path?query`. */
export function cgiParams(method: string, target: string, extra: Record<string, string> = {}): Record<string, string> {
  const q = target.indexOf('?');
  return {
    REQUEST_METHOD: method,
    SCRIPT_NAME: q === -1 ? target : target.slice(0, q),
    REQUEST_URI: target,
    QUERY_STRING: q === -1 ? '' : target.slice(q + 1),
    SERVER_PROTOCOL: 'HTTP/1.1',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_SOFTWARE: 'nginx',
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: '50000',
    SERVER_ADDR: '127.0.0.1',
    SERVER_PORT: '80',
    SERVER_NAME: 'localhost',
    HTTP_HOST: 'localhost',
    ...extra,
  };
}

/** A parsed CGI response. */
export interface CgiResponse {
  status: number;
  /** Lower-cased names; duplicates kept. */
  headers: [string, string][];
  body: Buffer;
}

/** Split a CGI response (`Status: 200 OK\r\nName: value\r\n\r\nbody`). */
export function parseCgiResponse(stdout: Buffer): CgiResponse {
  const end = stdout.indexOf('\r\n\r\n');
  if (end === -1) throw new Error(`no end of head in ${JSON.stringify(stdout.subarray(0, 200).toString('latin1'))}`);
  const headers: [string, string][] = [];
  let status = 200;
  for (const line of stdout.subarray(0, end).toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'status') status = Number(value.slice(0, 3));
    else headers.push([name, value]);
  }
  return { status, headers, body: stdout.subarray(end + 4) };
}

/** What came back for one request id. */
export interface FcgiResult extends CgiResponse {
  stdout: Buffer;
  stderr: Buffer;
  appStatus: number;
  protocolStatus: number;
}

interface Pending {
  stdout: Buffer[];
  stderr: Buffer[];
  resolve: (r: FcgiResult) => void;
  reject: (err: Error) => void;
}

/** A raw record as received. */
export interface ReceivedRecord {
  type: number;
  id: number;
  content: Buffer;
}

/** Options of one request. */
export interface RequestOptions {
  id?: number;
  role?: number;
  keepConn?: boolean;
  params: Record<string, string | Buffer> | [string, string | Buffer][];
  /** The body: bytes, or an async iterable of chunks (sent with backpressure). Omitted: empty STDIN. */
  stdin?: Buffer | AsyncIterable<Buffer>;
  /** FCGI_DATA for the Filter role. */
  data?: Buffer;
  /** Do not send the empty STDIN record (for abort tests). */
  leaveStdinOpen?: boolean;
}

/** A FastCGI client connection. */
export class FcgiClient {
  private pending = new Map<number, Pending>();
  private buf: Buffer = Buffer.alloc(0);
  private management: ReceivedRecord[] = [];
  private managementWaiters: ((r: ReceivedRecord) => void)[] = [];
  /** Every record received, in order (for assertions about framing). */
  readonly received: ReceivedRecord[] = [];
  /** Resolves when the server closed the connection (or it errored). */
  readonly closed: Promise<void>;
  private isClosed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => this.onData(d));
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.isClosed = true;
        for (const p of this.pending.values()) p.reject(new Error('connection closed before FCGI_END_REQUEST'));
        this.pending.clear();
        resolve();
      });
    });
    socket.on('error', () => {});
  }

  /** Connect to a TCP port or a unix socket path. */
  static connect(target: { port: number; host?: string } | { path: string }): Promise<FcgiClient> {
    return new Promise((resolve, reject) => {
      const socket = 'path' in target ? net.connect(target.path) : net.connect(target.port, target.host ?? '127.0.0.1');
      socket.once('connect', () => resolve(new FcgiClient(socket)));
      socket.once('error', reject);
    });
  }

  get connectionClosed(): boolean {
    return this.isClosed;
  }

  /** Write raw bytes; resolves when flushed to the kernel (or at once if the socket is gone). */
  write(bytes: Buffer): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.socket.write(bytes)) resolve();
      else {
        const done = (): void => {
          this.socket.off('drain', done);
          this.socket.off('close', done);
          resolve();
        };
        this.socket.on('drain', done);
        this.socket.on('close', done);
      }
    });
  }

  /** Promise of the END_REQUEST (and collected output) for `id`. Register before sending. */
  response(id: number): Promise<FcgiResult> {
    if (this.isClosed) return Promise.reject(new Error('connection already closed'));
    return new Promise((resolve, reject) => this.pending.set(id, { stdout: [], stderr: [], resolve, reject }));
  }

  /** Send a whole request and wait for its response. */
  async request(opts: RequestOptions): Promise<FcgiResult> {
    const id = opts.id ?? 1;
    const res = this.response(id);
    res.catch(() => {});
    await this.write(Buffer.concat([beginRecord(id, opts.role ?? ROLE.RESPONDER, opts.keepConn ?? true), streamRecords(T.PARAMS, id, nameValues(opts.params))]));
    const stdin = opts.stdin;
    if (stdin === undefined || Buffer.isBuffer(stdin)) {
      await this.write(streamRecords(T.STDIN, id, stdin ?? Buffer.alloc(0), opts.leaveStdinOpen !== true));
    } else {
      for await (const chunk of stdin) {
        if (this.isClosed) break;
        await this.write(streamRecords(T.STDIN, id, chunk, false));
      }
      if (opts.leaveStdinOpen !== true) await this.write(record(T.STDIN, id));
    }
    if (opts.data !== undefined) await this.write(streamRecords(T.DATA, id, opts.data));
    return res;
  }

  /** The next management record (request id 0). */
  nextManagement(): Promise<ReceivedRecord> {
    const r = this.management.shift();
    if (r !== undefined) return Promise.resolve(r);
    return new Promise((resolve) => this.managementWaiters.push(resolve));
  }

  /** FCGI_GET_VALUES: the answered names and values. */
  async getValues(names: string[]): Promise<Record<string, string>> {
    await this.write(record(T.GET_VALUES, 0, nameValues(names.map((n): [string, string] => [n, '']))));
    const r = await this.nextManagement();
    if (r.type !== T.GET_VALUES_RESULT) throw new Error(`expected GET_VALUES_RESULT, got type ${r.type}`);
    const out: Record<string, string> = {};
    let pos = 0;
    const c = r.content;
    const len = (): number => {
      if (c[pos] < 128) return c[pos++];
      const n = c.readUInt32BE(pos) & 0x7fffffff;
      pos += 4;
      return n;
    };
    while (pos < c.length) {
      const nl = len();
      const vl = len();
      const name = c.subarray(pos, pos + nl).toString();
      pos += nl;
      out[name] = c.subarray(pos, pos + vl).toString();
      pos += vl;
    }
    return out;
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    while (this.buf.length >= 8) {
      const b = this.buf;
      if (b[0] !== 1) throw new Error(`server sent version ${b[0]}`);
      const clen = b.readUInt16BE(4);
      const total = 8 + clen + b[6];
      if (b.length < total) break;
      const rec: ReceivedRecord = { type: b[1], id: b.readUInt16BE(2), content: Buffer.from(b.subarray(8, 8 + clen)) };
      this.buf = b.subarray(total);
      this.received.push(rec);
      this.onRecord(rec);
    }
  }

  private onRecord(rec: ReceivedRecord): void {
    if (rec.id === 0) {
      const w = this.managementWaiters.shift();
      if (w !== undefined) w(rec);
      else this.management.push(rec);
      return;
    }
    const p = this.pending.get(rec.id);
    if (p === undefined) return;
    if (rec.type === T.STDOUT) p.stdout.push(rec.content);
    else if (rec.type === T.STDERR) p.stderr.push(rec.content);
    else if (rec.type === T.END_REQUEST) {
      this.pending.delete(rec.id);
      const stdout = Buffer.concat(p.stdout);
      const parsed = stdout.length > 0 ? parseCgiResponse(stdout) : { status: 0, headers: [], body: Buffer.alloc(0) };
      p.resolve({ ...parsed, stdout, stderr: Buffer.concat(p.stderr), appStatus: rec.content.readUInt32BE(0), protocolStatus: rec.content[4] });
    }
  }
}
