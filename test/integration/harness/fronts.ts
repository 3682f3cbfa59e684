/** Build the Front objects of the integration suites and print server logs when one of their tests fails. */
import { httpSend } from '../../conformance/runner.js';
import type { Capabilities } from '../../conformance/table.js';
import type { IntegrationFront } from './extra-cases.js';

/** A front reached over plain HTTP on a port known only after before() ran. */
export function httpFront(opts: {
  name: string;
  port: () => number;
  mount?: string;
  skips?: Record<string, string>;
  extraSkips?: Record<string, string>;
  capabilities?: Capabilities;
  bigUpload?: boolean;
}): IntegrationFront {
  return {
    name: opts.name,
    mount: opts.mount ?? '/app',
    send: httpSend(() => ({ port: opts.port() })),
    port: opts.port,
    skips: opts.skips,
    extraSkips: opts.extraSkips,
    capabilities: opts.capabilities,
    bigUpload: opts.bigUpload,
  };
}

/**
 * Register an afterEach that prints the logs of the servers involved when a test fails, so a CI failure
 * shows the web server's error log and what tsgi logged, not just "502".
 */
export function printLogsOnFailure(sources: () => Array<{ label: string; text: () => string }>): void {
  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const s of sources()) {
      const text = s.text();
      if (text.trim() !== '') console.log(`\n===== ${s.label} (for: ${this.currentTest.fullTitle()}) =====\n${text.slice(-6000)}`);
    }
  });
}
