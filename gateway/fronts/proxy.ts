/**
 * Reverse-proxy mode from a listener's options (`[server]` or `[server:NAME]`): the dispatcher wrapper that
 * gateway/listeners.ts and the worker processes put in front of each listener, and the PROXY protocol
 * settings each front's start function takes.
 */
import type { ServerConfig } from '../config/options.js';
import type { Dispatcher } from '../core/dispatch.js';
import type { ErrorLog } from '../core/log.js';
import type { ProxyProtocolOptions } from '../../adapters/proxy/accept.js';
import { TrustedProxyDispatcher } from '../../adapters/proxy/dispatcher.js';

/** The listener's dispatcher in reverse-proxy mode (always on: the default trusts loopback only). */
export function withTrustedProxies(dispatcher: Dispatcher, c: ServerConfig, log: ErrorLog): Dispatcher {
  return new TrustedProxyDispatcher(dispatcher, { trustedProxies: c.trustedProxies, trustedProxyHeaders: c.trustedProxyHeaders, log });
}

/** The PROXY protocol settings of a listener, or undefined when proxyProtocol is off. */
export function proxyProtocolOptions(c: ServerConfig, log: ErrorLog): ProxyProtocolOptions | undefined {
  if (!c.proxyProtocol) return undefined;
  return { trustedProxies: c.trustedProxies, log, timeout: Math.round(c.headerTimeout * 1000) };
}
