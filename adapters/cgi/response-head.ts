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
