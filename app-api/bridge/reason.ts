/** Reason phrases for status lines, shared by the bridges. */
import { STATUS_CODES } from 'node:http';

// `"200 OK"` for every code Node names, made once: the string is then the same (hashed, internalised) one
// on every response, which the core's parseStatus finds in its cache without hashing a new string.
const STANDARD_LINES = new Map<number, string>();
for (const [code, text] of Object.entries(STATUS_CODES)) STANDARD_LINES.set(Number(code), `${code} ${text}`);

/** `"404 Not Found"`: the app's own reason when it gave one, else Node's, else `Unknown` (a status line needs one). */
export function statusLine(code: number, reason: string | undefined): string {
  if (reason === undefined || reason === '') return STANDARD_LINES.get(code) ?? `${code} Unknown`;
  return `${code} ${reason}`;
}
