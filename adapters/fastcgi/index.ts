/** The FastCGI front: nginx fastcgi_pass, Apache mod_proxy_fcgi / mod_fcgid, lighttpd mod_fastcgi. */
export {
  startFastcgiServer,
  createFastcgiHandler,
  isInheritedListenSocket,
  FCGI_LISTENSOCK_FILENO,
  type FastcgiServer,
  type FastcgiHandler,
  type FastcgiOptions,
  type FastcgiServerOptions,
} from './server.js';
export { FcgiConnection, type ConnectionSettings } from './connection.js';
export { FastcgiSink } from './sink.js';
export { parseParams, encodeParams, paramText } from './params.js';
export * as records from './records.js';
