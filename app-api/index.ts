/** The application side of tsgi: types, errors, and tools for writing and testing apps. */
export * from './types.js';
export { TsgiError, isTsgiError, tsgiError, errorMessage, ERROR_CODES, ERROR_STATUS, ERROR_TEMPLATES, type ErrorTemplate, type TsgiErrorCode } from './errors.js';
export { lint, LintError, LINT_RULES, type LintOptions, type LintRule, type LintRuleId, type LintSide } from './lint.js';
export { parseStatus, checkHeader, checkHeaders, findHeader, HOP_BY_HOP, type ParsedStatus } from './headers.js';
export { BodyInput, emptyInput, type SyncReader } from './input.js';
export { urlmap, type UrlMapEntries } from './urlmap.js';
export { xmlrpc, rpcPathInfo, XMLRPC_ENVIRON_KEY, type XmlRpcOptions } from './xmlrpc/xmlrpc.js';
export { xmlrpcMethods, type XmlRpcContext, type XmlRpcMethod, type XmlRpcMethodTable } from './xmlrpc/xmlrpc-methods.js';
export {
  XmlRpcFault,
  FAULT as XMLRPC_FAULT,
  parseMethodCall,
  parseMethodResponse,
  serializeMethodCall,
  serializeMethodResponse,
  serializeFault,
  type XmlRpcValue,
  type XmlRpcCall,
  type XmlRpcResponse,
  type DecodeOptions as XmlRpcDecodeOptions,
  type EncodeOptions as XmlRpcEncodeOptions,
} from './xmlrpc/xmlrpc-codec.js';
