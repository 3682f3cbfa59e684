/** Parsers of the request-limit options (maxBodySize, limitParamsSize): sizes as nginx and express write them. */
import bytes from 'bytes';
import { BadValue } from './values.js';

/**
 * A size in bytes: `1048576`, `512kb`, `1mb` (the `bytes` package, as express's body-parser `limit`), or
 * nginx's `512k`, `1m`, `1g` (client_max_body_size). Units are powers of 1024.
 */
export function parseByteSize(raw: string): number {
  const t = raw.trim();
  const n = bytes.parse(/^\d+(\.\d+)?\s*[kmgtp]$/i.test(t) ? t + 'b' : t);
  if (!/^\d+(\.\d+)?\s*([kmgtp]b?|b)?$/i.test(t) || n === null || !Number.isSafeInteger(n) || n < 0) {
    throw new BadValue(`must be a size in bytes, e.g. 1048576, 512k or 1m (0 = no limit), got ${JSON.stringify(raw)}`);
  }
  return n;
}
