export { startHttpServer, type HttpServer, type HttpServerOptions, type ConnectMiddleware } from './server.js';
export { Http1Sink, Http2Sink } from './sink.js';
export { ReverseDns } from './reverse-dns.js';
