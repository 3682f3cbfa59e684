/**
 * `xmlrpcMethods({...})`: an app that answers XML-RPC calls from a table of functions, so XML-RPC needs no
 * framework. It reads the call the xmlrpc() middleware put in `environ['tsgi.xmlrpc']` (so run it under
 * `[server] xmlRpc = 1`, or wrap it: `xmlrpc(xmlrpcMethods({...}))`), dispatches on the method name (not on
 * PATH_INFO, so it works at any mount point), and answers the `<methodResponse>` itself as text/xml, which
 * keeps every XML-RPC type: return a Date, a Buffer or a bigint and the client gets dateTime, base64 or i8.
 */
import { tsgiError } from '../errors.js';
import type { App, Environ } from '../types.js';
import { FAULT, isMethodName, serializeFault, serializeMethodResponse, XmlRpcFault, type XmlRpcCall, type XmlRpcValue } from './xmlrpc-codec.js';
import { XMLRPC_ENVIRON_KEY } from './xmlrpc.js';

/** `this` inside a method: the request's environ and the method name called. */
export interface XmlRpcContext {
  environ: Environ;
  method: string;
}

/**
 * An XML-RPC method: called with the call's params as arguments; returns (or resolves to) the result.
 * Throw `XmlRpcFault(code, text)` to answer a fault; any other error becomes fault 1 through the
 * middleware (its message, unless exposeErrors is false) and is logged.
 */
// Params arrive from the network: the declared parameter types are the method's own business to check.
export type XmlRpcMethod = (this: XmlRpcContext, ...params: any[]) => unknown;

/** Method name -> function. */
export type XmlRpcMethodTable = Record<string, XmlRpcMethod>;

function send(startResponse: Parameters<App>[1], xml: string): Buffer[] {
  const buf = Buffer.from(xml, 'utf8');
  startResponse('200 OK', [['Content-Type', 'text/xml; charset=utf-8'], ['Content-Length', String(buf.length)]]);
  return [buf];
}

/**
 * Build an app answering XML-RPC calls from `table`. `system.listMethods` is built in (unless the table
 * has its own): it lists the table's names. An unknown method answers fault -32601.
 *
 *     export const app = xmlrpcMethods({
 *       'math.add': (a: number, b: number) => a + b,
 *       'time.now': () => new Date(),
 *     });
 */
export function xmlrpcMethods(table: XmlRpcMethodTable): App {
  const methods = new Map<string, XmlRpcMethod>();
  for (const [name, fn] of Object.entries(table)) {
    if (!isMethodName(name)) throw tsgiError('TSGI_ERR_CONFIG', { where: 'xmlrpcMethods', problem: `${JSON.stringify(name)} is not a valid XML-RPC method name`, fix: "name methods with letters, digits, '_' and ':' in parts separated by '.' (e.g. math.add)" });
    if (typeof fn !== 'function') throw tsgiError('TSGI_ERR_CONFIG', { where: 'xmlrpcMethods', problem: `the value for ${JSON.stringify(name)} is not a function`, fix: 'map each method name to a function of its parameters' });
    methods.set(name, fn);
  }
  if (!methods.has('system.listMethods')) {
    const names = [...methods.keys(), 'system.listMethods'].sort();
    methods.set('system.listMethods', () => names);
  }

  return async function xmlrpcMethodsApp(environ, startResponse) {
    const call = environ[XMLRPC_ENVIRON_KEY] as XmlRpcCall | undefined;
    if (call === undefined) {
      const post = environ.REQUEST_METHOD === 'POST';
      const text = Buffer.from(
        post
          ? 'Not an XML-RPC call: POST a text/xml <methodCall>, with the app under [server] xmlRpc = 1 or wrapped in xmlrpc().\n'
          : 'This is an XML-RPC endpoint: POST a text/xml <methodCall>.\n',
      );
      startResponse(post ? '400 Bad Request' : '405 Method Not Allowed', [
        ['Content-Type', 'text/plain; charset=utf-8'],
        ['Content-Length', String(text.length)],
        ...(post ? [] : ([['Allow', 'POST']] as [string, string][])),
      ]);
      return [text];
    }
    const fn = methods.get(call.method);
    if (fn === undefined) return send(startResponse, serializeFault(FAULT.METHOD_NOT_FOUND, `method ${JSON.stringify(call.method)} is not supported`));
    let xml: string;
    try {
      const value: unknown = await fn.apply({ environ, method: call.method }, call.params as XmlRpcValue[]);
      xml = serializeMethodResponse(value);
    } catch (err) {
      // Anything but a fault is the middleware's to log and turn into fault 1 (one place decides what leaks).
      if (!(err instanceof XmlRpcFault)) throw err;
      xml = serializeFault(err.faultCode, err.faultString);
    }
    return send(startResponse, xml);
  };
}
