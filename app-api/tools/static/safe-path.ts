/**
 * Turn the decoded URL path under a static mount into a file path that cannot leave the root. PATH_INFO is
 * already percent-decoded by the core, so `%2e%2e`, `%2F` and `%5C` arrive here as `..`, `/` and `\`; the
 * checks below run on that decoded text, and `realpathInside` closes the last door (symlinks pointing out).
 */
import { realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';

/** What a URL path maps to: a file path, a path that must never be served, or nothing to serve. */
export type PathVerdict =
  | { readonly kind: 'file'; readonly path: string; readonly dirSlash: boolean }
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'hidden' };

/**
 * Map `rel` (the part of PATH_INFO below the mount, e.g. `/css/a.css`) into `root`. `..` anywhere, a
 * backslash (a separator on Windows, and the usual way to smuggle one past `/`-only checks) and NUL are
 * refused; empty and `.` segments (`//`, `/./`) are dropped; a segment starting with `.` (`.htpasswd`,
 * `.git`) is hidden: not served, the request falls through.
 */
export function mapPath(root: string, rel: string): PathVerdict {
  if (rel.includes('\0')) return { kind: 'refused', reason: 'NUL in the path' };
  if (rel.includes('\\')) return { kind: 'refused', reason: 'a backslash in the path' };
  const parts: string[] = [];
  for (const seg of rel.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') return { kind: 'refused', reason: '".." in the path' };
    if (seg.startsWith('.')) return { kind: 'hidden' };
    parts.push(seg);
  }
  return { kind: 'file', path: parts.length === 0 ? root : join(root, ...parts), dirSlash: rel === '' || rel.endsWith('/') };
}

/** True when `child` is `parent` or below it (both absolute, already normalised). */
export function isInside(parent: string, child: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

/**
 * The real path of `file` if it lies inside the real path of `root` (symlinks resolved on both sides), else
 * null. A missing file is null too: the caller treats both as "nothing to serve here".
 */
export async function realpathInside(realRoot: string, file: string): Promise<string | null> {
  let real: string;
  try {
    real = await realpath(file);
  } catch {
    return null;
  }
  return isInside(realRoot, real) ? real : null;
}
