/** A minimal RFC 7616 Digest client for tests: answer one challenge with qop=auth. */
import { createHash, randomBytes } from 'node:crypto';
import { parseDigest } from '../../app-api/tools/auth/digest-params.js';

/** The challenges of a 401's WWW-Authenticate value(s), parsed (joined values are split at `Digest `). */
export function challengesOf(header: string): Array<Record<string, string>> {
  return header
    .split(/,?\s*(?=Digest\s)/)
    .filter((c) => c.trim() !== '')
    .map((c) => parseDigest(c.trim()))
    .filter((c): c is Record<string, string> => c !== null);
}

/** The Authorization value answering `challenge` for `method uri`. */
export function digestAnswer(challenge: Record<string, string>, user: string, password: string, method: string, uri: string, nc = 1): string {
  const alg = challenge.algorithm ?? 'MD5';
  const h = (s: string): string => createHash(alg === 'SHA-256' ? 'sha256' : 'md5').update(s).digest('hex');
  const cnonce = randomBytes(8).toString('hex');
  const ncs = nc.toString(16).padStart(8, '0');
  const ha1 = h(`${user}:${challenge.realm}:${password}`);
  const ha2 = h(`${method}:${uri}`);
  const response = h(`${ha1}:${challenge.nonce}:${ncs}:${cnonce}:auth:${ha2}`);
  return `Digest username="${user}", realm="${challenge.realm}", nonce="${challenge.nonce}", uri="${uri}", algorithm=${alg}, qop=auth, nc=${ncs}, cnonce="${cnonce}", response="${response}", opaque="${challenge.opaque}"`;
}
