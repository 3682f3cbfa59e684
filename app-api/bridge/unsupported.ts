/** The one way the Node bridge refuses a part of the Node API it does not provide. */
import { tsgiError } from '../errors.js';

/** Throw TSGI_ERR_BRIDGE_UNSUPPORTED for `what`, saying why and what to do instead. */
export function unsupported(what: string, instead: string): never {
  throw tsgiError('TSGI_ERR_BRIDGE_UNSUPPORTED', { what, instead });
}
