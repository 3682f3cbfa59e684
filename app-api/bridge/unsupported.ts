/** The one way the Node bridge refuses a part of the Node API it does not provide. */
import { TsgiError } from '../errors.js';

/** Throw TSGI_ERR_BRIDGE_UNSUPPORTED for `what`, saying why and what to do instead. */
export function unsupported(what: string, instead: string): never {
  throw new TsgiError('TSGI_ERR_BRIDGE_UNSUPPORTED', `${what} is not available to an app run through tsgi's Node bridge: ${instead}`);
}
