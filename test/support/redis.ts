/**
 * A real redis-server for tests, on a free loopback port, without persistence; skipped when missing
 * outside CI, a failure on CI.
 */
import { findBinary } from '../integration/harness/binaries.js';
import { Daemon } from '../integration/harness/daemon.js';
import { freePort } from '../integration/harness/ports.js';
import { ON_CI } from '../integration/harness/skip.js';

/** A running redis-server. */
export interface TestRedis {
  url: string;
  stop(): Promise<void>;
}

/** Start redis-server, or skip the suite (fail with CI=true) when it is not installed. */
export async function startRedis(ctx: Mocha.Context): Promise<TestRedis> {
  const bin = findBinary('redis-server');
  if (bin === undefined) {
    const why = 'redis-server is not installed (Debian package: redis-server)';
    if (ON_CI) throw new Error(`${why}; CI=true requires it: add it to .ci/run`);
    console.log(`      skipped: ${why}`);
    ctx.skip();
  }
  const port = await freePort();
  const daemon = await Daemon.start({ name: 'redis-server', command: bin!, args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], ports: [port] });
  return { url: `redis://127.0.0.1:${port}`, stop: () => daemon.stop() };
}
