/**
 * The CGI response head (RFC 3875 6.2): `Status: NNN Reason\r\n`, one line per header, a blank line.
 * CGI writes it to stdout and SCGI to its socket; the web server turns it into an HTTP status line.
 * Headers were validated by the gateway core (gateway/headers.ts) before they get here.
 */
import type { HeaderList } from '../../app-api/types.js';

/** Encode status and headers as a CGI response head (Latin-1, CRLF line ends). */
export function cgiResponseHead(code: number, reason: string, headers: HeaderList): Buffer {
  let s = reason === '' ? `Status: ${code}\r\n` : `Status: ${code} ${reason}\r\n`;
  for (let i = 0; i < headers.length; i++) s += headers[i][0] + ': ' + headers[i][1] + '\r\n';
  return Buffer.from(s + '\r\n', 'latin1');
}
