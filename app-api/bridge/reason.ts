/** Reason phrases for status lines, shared by the bridges. */
import { STATUS_CODES } from 'node:http';

/** `"404 Not Found"`: the app's own reason when it gave one, else Node's, else `Unknown` (a status line needs one). */
export function statusLine(code: number, reason: string | undefined): string {
  const text = reason !== undefined && reason !== '' ? reason : (STATUS_CODES[code] ?? 'Unknown');
  return `${code} ${text}`;
}
