/** A fetch Headers object as a tsgi header list: the one conversion the fetch bridges share. */
import type { HeaderList } from '../types.js';

/** The headers as a tsgi header list: repeated Set-Cookie kept apart, everything else as Headers joins it. */
export function headerList(headers: Headers): HeaderList {
  const out: HeaderList = [];
  for (const [name, value] of headers) if (name !== 'set-cookie') out.push([name, value]);
  for (const cookie of headers.getSetCookie()) out.push(['set-cookie', cookie]);
  return out;
}
