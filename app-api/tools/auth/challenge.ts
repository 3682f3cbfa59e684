/** The 401 answer both auth tools send, and the environ copy they hand to the app on success. */
import type { Body, Environ, HeaderList, StartResponse } from '../../types.js';

const TEXT = 'Unauthorized\n';

/** Answer 401 with the given WWW-Authenticate challenges. */
export function unauthorized(startResponse: StartResponse, challenges: readonly string[]): Body {
  const headers: HeaderList = challenges.map((c) => ['WWW-Authenticate', c]);
  headers.push(['Content-Type', 'text/plain; charset=utf-8'], ['Content-Length', String(TEXT.length)]);
  startResponse('401 Unauthorized', headers);
  return [TEXT];
}

/** A shallow copy of the environ with REMOTE_USER and AUTH_TYPE set (middleware never changes its caller's environ). */
export function authenticated(environ: Environ, user: string, type: 'Basic' | 'Digest'): Environ {
  return { ...environ, REMOTE_USER: user, AUTH_TYPE: type };
}

/** A realm as a quoted-string: `"` and `\` escaped. */
export function quote(value: string): string {
  return '"' + value.replace(/["\\]/g, (c) => '\\' + c) + '"';
}
