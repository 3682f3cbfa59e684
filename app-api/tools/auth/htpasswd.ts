/**
 * htpasswd files (`user:hash` per line, as Apache's htpasswd writes them) and the hashes they may hold:
 * bcrypt (`$2y$`, `$2a$`, `$2b$`, via bcryptjs), Apache MD5-crypt (`$apr1$`, via apache-md5), `{SHA}`
 * (base64 SHA-1, node:crypto) and plain text. Anything else without a known prefix is taken as plain text,
 * and loading the file warns about every such user (Apache would read it as DES crypt(), which tsgi does
 * not support: re-hash such users with `htpasswd -B`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import md5crypt from 'apache-md5';
import bcrypt from 'bcryptjs';
import { tsgiError } from '../../errors.js';

/** The hash schemes recognised in an htpasswd file. */
export type HashScheme = 'bcrypt' | 'apr1' | 'sha1' | 'plain';

/** The scheme of an htpasswd hash field. */
export function schemeOf(hash: string): HashScheme {
  if (/^\$2[aby]\$/.test(hash)) return 'bcrypt';
  if (hash.startsWith('$apr1$')) return 'apr1';
  if (hash.startsWith('{SHA}')) return 'sha1';
  return 'plain';
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  // Compare equal-length digests so the time taken says nothing about where the strings differ.
  return timingSafeEqual(createHash('sha256').update(x).digest(), createHash('sha256').update(y).digest()) && x.length === y.length;
}

/** True when `password` matches the htpasswd `hash`. bcrypt runs asynchronously (it is slow by design). */
export async function verifyHash(hash: string, password: string): Promise<boolean> {
  switch (schemeOf(hash)) {
    case 'bcrypt':
      return bcrypt.compare(password, hash.replace(/^\$2y\$/, '$2b$'));
    case 'apr1':
      return sameText(md5crypt(password, hash), hash);
    case 'sha1':
      return sameText('{SHA}' + createHash('sha1').update(password, 'utf8').digest('base64'), hash);
    default:
      return sameText(password, hash);
  }
}

/** The users of an htpasswd file: name -> hash. */
export type PasswordTable = ReadonlyMap<string, string>;

/** Read an htpasswd file; `warn` hears about plain-text entries. Blank lines and `#` comments are skipped. */
export function loadHtpasswd(file: string, warn: (message: string) => void): PasswordTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw tsgiError('TSGI_ERR_CONFIG', { where: 'auth_basic', problem: `cannot read the users file ${file}: ${(err as Error).message}`, fix: 'give the path of a readable htpasswd file' }, { cause: err });
  }
  const users = new Map<string, string>();
  const plain: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon <= 0) throw tsgiError('TSGI_ERR_CONFIG', { where: `${file}:${i + 1}`, problem: 'this htpasswd line is not user:hash', fix: 'fix or remove this line' });
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (schemeOf(hash) === 'plain') plain.push(user);
    users.set(user, hash);
  });
  if (plain.length > 0) warn(`auth_basic: ${file} holds plain-text passwords for ${plain.join(', ')}: hash them (htpasswd -B for bcrypt)`);
  return users;
}
