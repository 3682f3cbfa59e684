/**
 * echo-environ: answers with the environ as JSON (streams left out) plus the request body's length and
 * sha256. The conformance table and the integration probes read what a front really passed through this.
 *
 * Query options, for probes: `?status=204` answers with that status; `?stream=N` streams N KiB after the
 * JSON; `?header=Name:Value` adds a response header.
 */
import { createHash } from 'node:crypto';
import type { App, Environ, HeaderList } from '../../app-api/types.js';

/** The environ minus streams and functions, as the JSON the app answers with. */
export function plainEnviron(environ: Environ): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(environ).sort()) {
    const v = environ[key];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || Array.isArray(v)) out[key] = v;
    else if (key === 'tsgi.app_config') out[key] = v;
  }
  return out;
}

export const app: App = async (environ, startResponse) => {
  const hash = createHash('sha256');
  let length = 0;
  for await (const chunk of environ['tsgi.input']) {
    hash.update(chunk);
    length += chunk.length;
  }
  const query = new URLSearchParams(environ.QUERY_STRING);
  const status = query.get('status') ?? '200';
  const headers: HeaderList = [['Content-Type', 'application/json']];
  for (const h of query.getAll('header')) {
    const i = h.indexOf(':');
    headers.push([h.slice(0, i), h.slice(i + 1)]);
  }
  const json = JSON.stringify({ environ: plainEnviron(environ), body: { length, sha256: hash.digest('hex') } }) + '\n';
  const streamKiB = Number(query.get('stream') ?? '0');
  startResponse(`${status} ${status === '200' ? 'OK' : 'Status'}`, headers);
  if (streamKiB > 0) {
    return (async function* () {
      yield json;
      const kib = Buffer.alloc(1024, 0x61);
      for (let i = 0; i < streamKiB; i++) yield kib;
    })();
  }
  return [json];
};

export default app;
