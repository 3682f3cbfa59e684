/**
 * The Node binary the benchmark servers run under: TSGI_BENCH_NODE=/path/to/node, or the Node running
 * the benchmark. Every server of a run (tsgi and the raw baselines) uses the same binary, so a run's
 * ratios compare implementations on one Node line; compare lines by their ratios, not raw req/s.
 *
 *     TSGI_BENCH_NODE=$(tools/node-line.sh 24)/node npm run bench
 */
import { spawnSync } from 'node:child_process';

/** Path of the Node binary for benchmark servers. */
export const benchNode: string = process.env.TSGI_BENCH_NODE !== undefined && process.env.TSGI_BENCH_NODE !== '' ? process.env.TSGI_BENCH_NODE : process.execPath;

/** `v24.22.3 (/path/to/node)`, for the run's header line; throws when the binary does not run. */
export function benchNodeDescription(): string {
  const r = spawnSync(benchNode, ['--version'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) throw new Error(`TSGI_BENCH_NODE=${benchNode} does not run: ${r.error?.message ?? r.stderr}`);
  return `${r.stdout.trim()} (${benchNode})`;
}
