/** The SCGI front: nginx scgi_pass, Apache mod_proxy_scgi, lighttpd mod_scgi. */
export { startScgiServer, DEFAULT_SCGI_PORT, type ScgiServer, type ScgiServerOptions } from './server.js';
export { createScgiHandler, scgiParams, peerName, type ScgiConnection, type ScgiConnectionOptions, type ScgiHandler } from './connection.js';
export { ScgiHeadParser, parseBlock, encodeScgiHead, DEFAULT_MAX_HEADER_BYTES, type ScgiHead, type KeepHeader } from './parse.js';
export { ScgiSink } from './sink.js';
export { SocketBody } from './body.js';
export { listen, clearStaleSocket, type ListenOptions } from '../listen.js';
