/** protocol=auto: one listener; each connection's first bytes pick HTTP/1.x, h2c, SCGI or FastCGI. */
export { startAutoServer, sniffAndRoute, type AutoServer, type AutoServerOptions, type ProtocolRoutes } from './server.js';
export { sniffProtocol, SNIFF_MAX_BYTES, type Sniffed } from './sniff.js';
