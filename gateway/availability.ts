/**
 * Whether everything a config asks for is built: TSGI_ERR_NOT_YET naming the option otherwise, before
 * anything listens. Also the "Not yet" notes of `tsgi --help` and the README's config reference.
 */
import { tsgiError, TsgiError } from '../app-api/errors.js';
import { modeOf, type ModeName, type OptionName, type Protocol } from './config/options.js';
import { listenersOf, type Config } from './config/resolve.js';
import { describeSource } from './config/source.js';
import { FEATURES } from './features.js';
import { FRONTS } from './fronts/registry.js';
import { checkMetricsMode } from './metrics/serve-hook.js';
import { MODES } from './modes.js';

/** For --help and the README: why an option (or one of its values) cannot be used yet, if so. */
export function notYetNote(option: OptionName): string | undefined {
  if (option === 'protocol') {
    const missing = (Object.keys(FRONTS) as Protocol[]).filter((p) => FRONTS[p] === undefined);
    return missing.length > 0 ? `Not yet: ${missing.join(', ')}.` : undefined;
  }
  if (option in MODES && MODES[option as ModeName] === undefined) return 'Not yet.';
  if (option in FEATURES && FEATURES[option as keyof typeof FEATURES] === undefined) return 'Not yet.';
  return undefined;
}

function notYet(config: Pick<Config, 'server' | 'sources'>, option: OptionName, what: string, fix: string): TsgiError {
  const src = config.sources[option];
  const value = config.server[option];
  return tsgiError('TSGI_ERR_NOT_YET', { feature: `${option} = ${String(value)}${src !== undefined ? ` (${describeSource(src)})` : ''}: ${what}`, instead: fix });
}

/** Check that everything the config asks for is built. Throws TSGI_ERR_NOT_YET naming the option. */
export function checkAvailable(config: Config): void {
  const mode = modeOf(config.server);
  const listeners = listenersOf(config);
  for (const l of listeners) checkMetricsMode(l.server, mode);
  if (mode !== 'single' && MODES[mode] === undefined) {
    throw notYet(config, mode, `the ${mode} concurrency model`, `remove ${mode} to serve in single mode (inline on the event loop)`);
  }
  for (const l of listeners) {
    if (FRONTS[l.server.protocol] === undefined) {
      const fix = 'use protocol = http (behind nginx/Apache, proxy to it with proxy_pass / mod_proxy_http)';
      throw notYet({ server: l.server, sources: l.sources }, 'protocol', `protocol ${l.server.protocol}${l.name === 'server' ? '' : ` in ${l.section}`}`, fix);
    }
  }
  for (const feature of Object.keys(FEATURES) as (keyof typeof FEATURES)[]) {
    if (config.server[feature] === true && FEATURES[feature] === undefined) {
      throw notYet(config, feature, feature, `remove ${feature} or set it to false`);
    }
  }
}
