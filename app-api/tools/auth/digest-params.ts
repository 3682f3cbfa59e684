/** Parse the auth-params of a `Digest` Authorization header (RFC 7616 3.4): `name=token` or `name="quoted"`. */

/** The parameters, lower-cased names; null when the header is not a Digest credential or is malformed. */
export function parseDigest(header: string | undefined): Record<string, string> | null {
  if (header === undefined) return null;
  const m = /^Digest[ \t]+/i.exec(header);
  if (m === null) return null;
  const out: Record<string, string> = {};
  const re = /\s*([A-Za-z0-9_*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)/y;
  let at = m[0].length;
  while (at < header.length) {
    re.lastIndex = at;
    const p = re.exec(header);
    if (p === null) return null;
    const name = p[1].toLowerCase();
    if (name in out) return null; // a repeated parameter is ambiguous: refuse rather than pick one
    out[name] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
    at = re.lastIndex;
  }
  return out;
}
