/**
 * Session ids: 32 random bytes in base64url, 43 characters of [A-Za-z0-9_-]. An id from a cookie is used
 * only when it has exactly that shape, so no id can carry `../`, `/`, NUL or anything else that a file or
 * key store would read as structure (gorilla/sessions GO-2024-2730); anything else gets a new id.
 */
import { randomBytes } from 'node:crypto';

const ID_RE = /^[A-Za-z0-9_-]{43}$/;

/** A new, unguessable session id. */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

/** True when `id` is shaped as newSessionId() makes them. */
export function isValidSessionId(id: unknown): id is string {
  return typeof id === 'string' && ID_RE.test(id);
}
