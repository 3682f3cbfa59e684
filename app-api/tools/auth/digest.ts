/**
 * `digestAuth(app, { realm, users })` / `tools.auth_digest.*`: HTTP Digest authentication, RFC 7616, with
 * algorithms SHA-256 and MD5 (one challenge each, SHA-256 first), qop=auth only (auth-int and the -sess
 * variants are not offered), expiring nonces answered `stale=true`, and a nonce-count replay check.
 * Users come from an htdigest file (`user:realm:HA1`, HA1 = MD5 hex of `user:realm:password`, as Apache's
 * htdigest writes; a 64-hex HA1 is taken as SHA-256, so a file can serve SHA-256 clients too) or from a
 * function returning the user's password. An MD5-only HA1 cannot answer a SHA-256 response and vice versa.
 * On success the app sees REMOTE_USER and AUTH_TYPE=Digest.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tsgiError } from '../../errors.js';
import type { App, Body, Environ, StartResponse } from '../../types.js';
import type { ToolDef } from '../tool-def.js';
import { authenticated, quote, unauthorized } from './challenge.js';
import { NonceCounts, NonceIssuer } from './digest-nonce.js';
import { parseDigest } from './digest-params.js';

/** Digest algorithms offered. */
export type DigestAlgorithm = 'SHA-256' | 'MD5';

const HASH: Record<DigestAlgorithm, string> = { 'SHA-256': 'sha256', MD5: 'md5' };

function h(alg: DigestAlgorithm, text: string): string {
  return createHash(HASH[alg]).update(text, 'utf8').digest('hex');
}

/** A user's secret: the password, or stored HA1 values per algorithm. */
export type DigestSecret = string | { readonly ha1: Partial<Record<DigestAlgorithm, string>> };

/** Returns the password (or HA1s) of `user` in `realm`, or undefined for an unknown user. */
export type DigestUsers = (user: string, realm: string) => DigestSecret | undefined | Promise<DigestSecret | undefined>;

/** Options of digestAuth(). */
export interface DigestAuthOptions {
  realm: string;
  /** An htdigest file path, or a function giving a user's password / HA1s. */
  users: string | DigestUsers;
  /** Offered algorithms, most preferred first. Default ['SHA-256', 'MD5']. */
  algorithms?: readonly DigestAlgorithm[];
  /** Seconds a nonce is good for; after that the client gets stale=true and retries. Default 300. */
  nonceTtl?: number;
  /**
   * The nonce key. Workers that share it accept each other's nonces (needed under threadPool/processPool).
   * Default: derived from the users file's content (so every worker agrees), or random per instance when
   * users is a function.
   */
  key?: string;
}

/** Read an htdigest file into user -> HA1s for `realm` (other realms' lines are ignored). */
export function loadHtdigest(file: string, realm: string): Map<string, Partial<Record<DigestAlgorithm, string>>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw tsgiError('TSGI_ERR_CONFIG', { where: 'auth_digest', problem: `cannot read the users file ${file}: ${(err as Error).message}`, fix: 'give the path of a readable htdigest file' }, { cause: err });
  }
  const users = new Map<string, Partial<Record<DigestAlgorithm, string>>>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const m = /^([^:]+):([^:]*):([0-9a-fA-F]{32}|[0-9a-fA-F]{64})$/.exec(line);
    if (m === null) throw tsgiError('TSGI_ERR_CONFIG', { where: `${file}:${i + 1}`, problem: 'this htdigest line is not user:realm:HA1', fix: 'write HA1 as 32 hex digits for MD5 or 64 for SHA-256, or remove the line' });
    if (m[2] !== realm) return;
    const entry = users.get(m[1]) ?? {};
    entry[m[3].length === 32 ? 'MD5' : 'SHA-256'] = m[3].toLowerCase();
    users.set(m[1], entry);
  });
  return users;
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase());
  const y = Buffer.from(b.toLowerCase());
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The request-target the client signed: REQUEST_URI when the front gives it, else rebuilt. */
function requestTarget(environ: Environ): string {
  if (typeof environ.REQUEST_URI === 'string' && environ.REQUEST_URI !== '') return environ.REQUEST_URI;
  const path = (environ.SCRIPT_NAME + environ.PATH_INFO).split('/').map(encodeURIComponent).join('/');
  return environ.QUERY_STRING === '' ? path : `${path}?${environ.QUERY_STRING}`;
}

/** Wrap `app` so only users who answer the Digest challenge reach it. */
export function digestAuth(app: App, opts: DigestAuthOptions): App {
  const realm = opts.realm;
  const algorithms = opts.algorithms ?? ['SHA-256', 'MD5'];
  for (const a of algorithms) if (HASH[a] === undefined) throw tsgiError('TSGI_ERR_CONFIG', { where: 'auth_digest', problem: `algorithm ${JSON.stringify(a)} is not SHA-256 or MD5`, fix: 'give SHA-256, MD5 or both' });
  const ttlMs = (opts.nonceTtl ?? 300) * 1000;
  let users: DigestUsers;
  let key: Buffer;
  if (typeof opts.users === 'string') {
    const table = loadHtdigest(opts.users, realm);
    users = (user) => {
      const ha1 = table.get(user);
      return ha1 === undefined ? undefined : { ha1 };
    };
    key = createHash('sha256').update(opts.key ?? `tsgi digest ${realm}\n${readFileSync(opts.users, 'utf8')}`).digest();
  } else {
    users = opts.users;
    key = opts.key !== undefined ? createHash('sha256').update(opts.key).digest() : randomBytes(32);
  }
  const nonces = new NonceIssuer(key, ttlMs);
  const counts = new NonceCounts(ttlMs);
  const opaque = createHash('sha256').update(key).update('opaque').digest('base64url').slice(0, 16);

  const challenges = (stale: boolean): string[] => {
    const nonce = nonces.issue();
    return algorithms.map((alg) => `Digest realm=${quote(realm)}, qop="auth", algorithm=${alg}, nonce="${nonce}", opaque="${opaque}"${stale ? ', stale=true' : ''}`);
  };

  function refuse(environ: Environ, startResponse: StartResponse, why: string | null, stale = false): Body {
    if (why !== null) environ['tsgi.errors'].write(`auth_digest: ${why} for ${environ.SCRIPT_NAME}${environ.PATH_INFO}\n`);
    return unauthorized(startResponse, challenges(stale));
  }

  async function guarded(environ: Environ, startResponse: StartResponse): Promise<Body> {
    const p = parseDigest(typeof environ.HTTP_AUTHORIZATION === 'string' ? environ.HTTP_AUTHORIZATION : undefined);
    if (p === null) return refuse(environ, startResponse, null);
    const alg = (p.algorithm ?? 'MD5').toUpperCase() === 'SHA-256' ? 'SHA-256' : (p.algorithm ?? 'MD5').toUpperCase() === 'MD5' ? 'MD5' : null;
    const { username, nonce, uri, response, cnonce, nc, qop } = p;
    if (alg === null || !algorithms.includes(alg)) return refuse(environ, startResponse, `algorithm ${JSON.stringify(p.algorithm)} not offered`);
    if (username === undefined || nonce === undefined || uri === undefined || response === undefined || cnonce === undefined || nc === undefined || qop !== 'auth') {
      return refuse(environ, startResponse, 'incomplete Digest credentials (qop=auth with cnonce and nc required)');
    }
    if (p.realm !== realm) return refuse(environ, startResponse, `realm ${JSON.stringify(p.realm)} is not ours`);
    if (uri !== requestTarget(environ)) return refuse(environ, startResponse, `the signed uri ${JSON.stringify(uri)} is not the request's`);
    if (p.opaque !== undefined && p.opaque !== opaque) return refuse(environ, startResponse, 'opaque does not match');
    const fresh = nonces.check(nonce);
    if (fresh === 'bad') return refuse(environ, startResponse, 'a nonce we did not issue');
    if (!/^[0-9a-fA-F]{8}$/.test(nc)) return refuse(environ, startResponse, 'malformed nc');
    const secret = await users(username, realm);
    if (secret === undefined) return refuse(environ, startResponse, `unknown user ${JSON.stringify(username)}`);
    const ha1 = typeof secret === 'string' ? h(alg, `${username}:${realm}:${secret}`) : secret.ha1[alg];
    if (ha1 === undefined) return refuse(environ, startResponse, `user ${JSON.stringify(username)} has no ${alg} HA1 (htdigest files hold MD5; add a SHA-256 line)`);
    const ha2 = h(alg, `${environ.REQUEST_METHOD}:${uri}`);
    const expected = h(alg, `${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
    if (!sameHex(expected, response)) return refuse(environ, startResponse, `wrong password for user ${JSON.stringify(username)}`);
    // Right password on an expired nonce: ask again with stale=true, so the client retries without a prompt.
    if (fresh === 'stale') return refuse(environ, startResponse, null, true);
    if (!counts.accept(nonce, parseInt(nc, 16))) return refuse(environ, startResponse, `replayed nonce count ${nc} for user ${JSON.stringify(username)}`);
    return app(authenticated(environ, username, 'Digest'), startResponse);
  }

  return function digestAuthApp(environ, startResponse) {
    return guarded(environ, startResponse);
  };
}

/** `tools.auth_digest.*` options as the INI reads them. */
export interface DigestAuthToolOptions {
  realm: string;
  users_file: string;
  algorithm: readonly string[];
  nonce_ttl: number;
  key: string;
}

/** The INI tool `tools.auth_digest.*`. */
export const digestAuthTool: ToolDef<DigestAuthToolOptions> = {
  name: 'auth_digest',
  doc: 'HTTP Digest authentication (RFC 7616: SHA-256 and MD5, qop=auth, expiring nonces) against an htdigest file; sets REMOTE_USER.',
  options: {
    realm: { type: 'string', doc: 'The realm; htdigest lines of other realms are ignored.' },
    users_file: { type: 'path', doc: 'An htdigest file: user:realm:HA1 lines (32 hex = MD5, 64 hex = SHA-256).' },
    algorithm: { type: 'list', default: ['SHA-256', 'MD5'], doc: 'Algorithms offered, preferred first: SHA-256, MD5.' },
    nonce_ttl: { type: 'integer', default: 300, doc: 'Seconds a nonce is valid; older ones get stale=true.' },
    key: { type: 'string', default: '', doc: 'Secret for nonces, shared by all workers; default: derived from the users file.' },
  },
  create(app, o) {
    for (const a of o.algorithm) {
      if (a !== 'SHA-256' && a !== 'MD5') throw tsgiError('TSGI_ERR_CONFIG', { where: 'tools.auth_digest.algorithm', problem: `${JSON.stringify(a)} is not SHA-256 or MD5`, fix: 'give SHA-256, MD5 or both, separated by commas' });
    }
    return digestAuth(app, { realm: o.realm, users: o.users_file, algorithms: o.algorithm as DigestAlgorithm[], nonceTtl: o.nonce_ttl, key: o.key === '' ? undefined : o.key });
  },
};
