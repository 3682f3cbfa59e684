/**
 * The raw-request corpus of test/fixtures/requests/{invalid,valid}/ and a raw HTTP/1 client that sends a
 * file's bytes over one socket and reads what comes back. The file format (test/fixtures/requests/README.md):
 * `#` lines at the top are the description and the expectations; the rest is the request, where real line
 * breaks are ignored and `\r`, `\n`, `\t`, `\0`, `\xHH` and `\\` are the bytes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/** The corpus folder in the source tree (the compiled tests run from dist/test/). */
export const CORPUS_DIR = fileURLToPath(new URL('../../../test/fixtures/requests/', import.meta.url));

/** One corpus file. */
export interface CorpusCase {
  /** The file name without `.http`. */
  name: string;
  /** The first `#` line: why the request is (in)valid. */
  why: string;
  /** `expect:` status (0 for "close": the server closes without answering). */
  status: number;
  /** `expect: ... close`: the server must close the connection after its answer. */
  close: boolean;
  /** `responses: N`: complete responses expected (valid cases; default 1). */
  responses: number;
  /** `env: KEY=VALUE` lines: the first response's JSON must hold these. */
  env: Array<[string, string]>;
  /** `env-absent: KEY` lines: the first response's JSON must not hold these. */
  envAbsent: string[];
  /** `body: TEXT`: the request body the app read. */
  body: string | undefined;
  /** `then: end`: half-close the socket after writing. */
  halfClose: boolean;
  /** The request bytes. */
  bytes: Buffer;
}

function unescape(text: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') continue; // line breaks in the file are layout only
    if (c !== '\\') {
      out.push(text.charCodeAt(i));
      continue;
    }
    const e = text[++i];
    if (e === 'r') out.push(13);
    else if (e === 'n') out.push(10);
    else if (e === 't') out.push(9);
    else if (e === '0') out.push(0);
    else if (e === '\\') out.push(92);
    else if (e === 'x') {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else throw new Error(`unknown escape \\${e}`);
  }
  return Buffer.from(out);
}

/** Parse one corpus file. */
export function parseCorpusFile(name: string, text: string): CorpusCase {
  const lines = text.split('\n');
  const meta: string[] = [];
  while (lines.length > 0 && lines[0].startsWith('#')) meta.push(lines.shift()!.replace(/^#\s?/, ''));
  const c: CorpusCase = { name, why: meta[0] ?? '', status: -1, close: false, responses: 1, env: [], envAbsent: [], body: undefined, halfClose: false, bytes: Buffer.alloc(0) };
  let raw = lines.join('\n');
  for (const line of meta.slice(1)) {
    const colon = line.indexOf(':');
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === 'expect') {
      const words = value.split(/\s+/);
      c.close = words.includes('close');
      c.status = /^\d{3}$/.test(words[0]) ? Number(words[0]) : 0;
    } else if (key === 'responses') c.responses = Number(value);
    else if (key === 'env') {
      const eq = value.indexOf('=');
      c.env.push([value.slice(0, eq), value.slice(eq + 1)]);
    } else if (key === 'env-absent') c.envAbsent.push(value);
    else if (key === 'body') c.body = value;
    else if (key === 'then' && value === 'end') c.halfClose = true;
    else if (key === 'fill') raw = raw.replace('<FILL>', 'a'.repeat(Number(value)));
    else if (key === 'headers') raw = raw.replace('<HEADERS>', Array.from({ length: Number(value) }, (_, i) => `X-H${i}: v\\r\\n`).join(''));
    else throw new Error(`${name}: unknown directive ${JSON.stringify(line)}`);
  }
  if (c.status < 0) throw new Error(`${name}: no "# expect:" line`);
  c.bytes = unescape(raw);
  return c;
}

/** Every case of one corpus folder, sorted by name. */
export function loadCorpus(kind: 'invalid' | 'valid'): CorpusCase[] {
  const dir = CORPUS_DIR + kind + '/';
  return readdirSync(dir)
    .filter((f) => f.endsWith('.http'))
    .sort()
    .map((f) => parseCorpusFile(f.slice(0, -5), readFileSync(dir + f, 'latin1')));
}

/** One HTTP/1 response as read off the wire. */
export interface WireResponse {
  status: number;
  /** Lower-cased names. */
  headers: Array<[string, string]>;
  body: Buffer;
}

/** What came back on the connection. */
export interface Exchange {
  /** Complete responses, in order. */
  responses: WireResponse[];
  /** Bytes after the last complete response (a cut or unparsable answer). */
  rest: Buffer;
  /** The server closed the connection (false: the client stopped waiting, see `sendRaw`). */
  closed: boolean;
  /** Every byte the server wrote. */
  raw: Buffer;
}

/** Split complete Content-Length-framed responses off `buf`. */
function parseResponses(buf: Buffer): { responses: WireResponse[]; rest: Buffer } {
  const responses: WireResponse[] = [];
  let pos = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', pos);
    if (end === -1) break;
    const lines = buf.toString('latin1', pos, end).split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (m === null) break;
    const headers = lines.slice(1).map((l): [string, string] => {
      const i = l.indexOf(':');
      return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()];
    });
    const length = Number(headers.find(([n]) => n === 'content-length')?.[1] ?? 0);
    if (end + 4 + length > buf.length) break;
    responses.push({ status: Number(m[1]), headers, body: buf.subarray(end + 4, end + 4 + length) });
    pos = end + 4 + length;
  }
  return { responses, rest: buf.subarray(pos) };
}

/**
 * Write `bytes` on a new connection to 127.0.0.1:`port` and collect the answer. Resolves when the server
 * closes the connection, or once `wantResponses` complete responses arrived (then the client closes: a
 * keep-alive server would wait), or after `limitMs` (a generous bound that only ends a stuck test; the
 * result then says `closed: false` and the assertions fail on it).
 */
export function sendRaw(port: number, bytes: Buffer, opts: { halfClose?: boolean; wantResponses?: number; limitMs?: number } = {}): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks);
      resolve({ ...parseResponses(raw), closed, raw });
    };
    const timer = setTimeout(() => finish(false), opts.limitMs ?? 20_000);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      if (opts.wantResponses !== undefined && parseResponses(Buffer.concat(chunks)).responses.length >= opts.wantResponses) finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => {}); // a reset after the server's answer is a close too
    socket.on('connect', () => {
      socket.write(bytes);
      if (opts.halfClose === true) socket.end();
    });
  });
}
