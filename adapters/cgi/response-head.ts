/**
 * The CGI response head (RFC 3875 6.2): `Status: NNN Reason\r\n`, one line per header, a blank line.
 * CGI writes it to stdout, SCGI to its socket, FastCGI into FCGI_STDOUT records; the web server turns it
 * into an HTTP status line.
 * Headers were validated by the gateway core (gateway/headers.ts) before they get here.
 */
import type { HeaderList } from '../../app-api/types.js';

/**
 * Status and headers as the text of a CGI response head. Header values were validated as Latin-1 without
 * CR/LF/NUL (gateway/headers.ts): one char is one byte. For a sink that writes the head into a buffer of
 * its own (FastCGI puts it in the record with the body).
 */
export function cgiResponseHeadText(code: number, reason: string, headers: HeaderList): string {
  let s = reason === '' ? `Status: ${code}\r\n` : `Status: ${code} ${reason}\r\n`;
  for (let i = 0; i < headers.length; i++) s += headers[i][0] + ': ' + headers[i][1] + '\r\n';
  return s + '\r\n';
}

/** Encode status and headers as a CGI response head (Latin-1, CRLF line ends). */
export function cgiResponseHead(code: number, reason: string, headers: HeaderList): Buffer {
  return Buffer.from(cgiResponseHeadText(code, reason, headers), 'latin1');
}

// Buffer#latin1Write is what write(text, offset, length, 'latin1') ends in, without the argument checks and
// the encoding lookup. Fall back if a runtime lacks it.
const latin1Write = (Buffer.prototype as unknown as { latin1Write?: (this: Buffer, text: string, offset: number, length: number) => number }).latin1Write;

/**
 * The encoded head of the last response and what it was made from. An app answers most requests with the
 * same status and headers, and comparing them with the last ones (the names are mostly the app's own
 * string constants) is cheaper than building the text and encoding it again. One entry per thread.
 */
let lastCode = -1;
let lastReason = '';
const lastFields: string[] = [];
let lastHead: Buffer = Buffer.alloc(0);

/**
 * `cgiResponseHead` for a front that serves many requests (SCGI, FastCGI): the same buffer as last time
 * when status and headers are the same. The buffer is shared: a caller copies it or hands it to a socket
 * as it is, and never writes into it.
 */
export function sharedCgiResponseHead(code: number, reason: string, headers: HeaderList): Buffer {
  if (code === lastCode && reason === lastReason && headers.length * 2 === lastFields.length) {
    let i = 0;
    while (i < headers.length && headers[i][0] === lastFields[2 * i] && headers[i][1] === lastFields[2 * i + 1]) i++;
    if (i === headers.length) return lastHead;
  }
  const text = cgiResponseHeadText(code, reason, headers);
  // Its own memory, not a slice of Buffer's shared pool: it is kept across requests.
  const head = Buffer.allocUnsafeSlow(text.length);
  if (latin1Write !== undefined) latin1Write.call(head, text, 0, text.length);
  else head.write(text, 0, text.length, 'latin1');
  lastCode = code;
  lastReason = reason;
  lastFields.length = 0;
  for (let i = 0; i < headers.length; i++) lastFields.push(headers[i][0], headers[i][1]);
  lastHead = head;
  return head;
}
