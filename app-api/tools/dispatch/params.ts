/**
 * The parameters a dispatched handler gets: the query string, plus an `application/x-www-form-urlencoded`
 * request body (read from tsgi.input, up to a limit), merged; a name given several times becomes a list.
 */
import { tsgiError, TsgiError } from '../../errors.js';
import type { Environ } from '../../types.js';
import type { Params } from './expose.js';

/** Form bodies larger than this are refused (413 by the caller): a dispatcher is no upload handler. */
export const MAX_FORM_BYTES = 1024 * 1024;

function add(out: Params, name: string, value: string): void {
  const prev = out[name];
  if (prev === undefined) out[name] = value;
  else if (Array.isArray(prev)) prev.push(value);
  else out[name] = [prev, value];
}

/** Parse `a=1&b=2&a=3` (`+` as space) into Params. */
export function parseUrlencoded(text: string, out: Params = Object.create(null) as Params): Params {
  for (const [name, value] of new URLSearchParams(text)) add(out, name, value);
  return out;
}

/**
 * A form body over this helper's own limit: 413 as the status says, but TSGI_ERR_BAD_REQUEST rather than
 * TSGI_ERR_BODY_TOO_LARGE, whose fix names maxBodySize, a server option that does not govern this limit.
 */
function formTooLarge(what: string): TsgiError {
  return tsgiError('TSGI_ERR_BAD_REQUEST', { problem: `${what} is over the ${MAX_FORM_BYTES}-byte limit of the dispatch tool's form parser` }, { status: 413 });
}

/** Query parameters, then form-body parameters (a form body is read only for urlencoded content). */
export async function requestParams(environ: Environ): Promise<Params> {
  const params = parseUrlencoded(environ.QUERY_STRING);
  const type = (environ.CONTENT_TYPE ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return params;
  const length = Number(environ.CONTENT_LENGTH ?? '');
  if (Number.isFinite(length) && length > MAX_FORM_BYTES) {
    throw formTooLarge(`a form body of ${length} bytes`);
  }
  const body = await environ['tsgi.input'].read(MAX_FORM_BYTES + 1);
  if (body.length > MAX_FORM_BYTES) throw formTooLarge('the form body');
  return parseUrlencoded(body.toString('utf8'), params);
}
