/** Reverse-proxy mode (forwarded headers from trusted proxies) and the PROXY protocol, for every front. */
export { TrustedProxyDispatcher, trustedProxies, type TrustedProxyOptions } from './dispatcher.js';
export { readForwarded, mountPrefix, type ForwardedView, type Verdict } from './forwarded.js';
export { DEFAULT_TRUSTED_PROXY_HEADERS, FORWARDED_HEADERS, parseTrustedHeaders, type ForwardedHeader } from './headers.js';
export { applyForwarded, forwardedToStrip, withoutVars, PROXY_ADDR_KEY } from './rewrite.js';
export { compileTrust, DEFAULT_TRUSTED_PROXIES, type TrustPredicate } from './trust.js';
export { parseProxyHeader, V1_MAX_LENGTH, V2_MAX_LENGTH, V2_SIGNATURE, type ProxyHeader, type ProxyParse, type ProxiedAddresses } from './proxy-protocol.js';
export { acceptProxyProtocol, proxyPeerOf, proxyProtocolReader, type ProxyProtocolOptions } from './accept.js';
