/**
 * Metrics and the server-status page: withMetrics() wraps any Dispatcher; the status endpoints are served
 * on an opt-in path of the app's own server or by a separate listener (startMetricsServer).
 */
export { withMetrics, MeteredDispatcher, type MetricsOptions } from './metered.js';
export { startMetricsServer, type MetricsServer } from './server.js';
export { parseMetricsListen, type MetricsListen } from '../config/metrics-listen.js';
export { parseStatusPath, parseStatusAllow, parseMetricsListenOption, DEFAULT_STATUS_ALLOW } from '../config/metrics-options.js';
export { startFrontWithMetrics, checkMetricsMode, metricsWanted, type MetricsSettings } from './serve-hook.js';
export { allowList, toAllowList, LOOPBACK_ONLY, type AddressAllowList } from '../config/metrics-allow.js';
export { statusResponse, type StatusSource, type StatusRequest, type StatusResponse } from './endpoints.js';
export { renderStatusHtml, escapeHtml, type StatusHtmlOptions } from './html.js';
export { mergeSnapshots, splitRequestLine, type MetricsSnapshot, type WorkerSnapshot, type CurrentRequest, type StatusClassCounts } from './snapshot.js';
export { mergePrometheus, TsgiRegistry, DURATION_BUCKETS, QUEUE_WAIT_BUCKETS, type RegistryJSON } from './registry.js';
