/** The application side of tsgi: types, errors, and tools for writing and testing apps. */
export * from './types.js';
export { TsgiError, isTsgiError, ERROR_CODES, type TsgiErrorCode } from './errors.js';
