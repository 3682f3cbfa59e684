/** A listener's request limits (gateway/core/limits.ts) from its settings: one mapping for every front. */
import type { RequestLimits } from '../core/limits.js';
import type { ServerConfig } from '../config/options.js';

/** The RequestLimits of a listener's settings. */
export function limitsOf(c: ServerConfig): RequestLimits {
  return {
    limitRequestLine: c.limitRequestLine,
    limitRequestFields: c.limitRequestFields,
    limitRequestFieldSize: c.limitRequestFieldSize,
    maxBodySize: c.maxBodySize,
  };
}
