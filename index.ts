/**
 * tsgi: a TypeScript gateway interface. `app(environ, startResponse)` served over HTTP/1.1, HTTPS, HTTP/2,
 * FastCGI, SCGI and CGI. See app-api/SPEC.md.
 */
export * from './app-api/index.js';
export * from './gateway/index.js';
export { startHttpServer, type HttpServer, type HttpServerOptions, type ConnectMiddleware } from './adapters/http/index.js';
