/**
 * Skip or fail when a web server is missing. On a developer machine a missing server skips its suite and
 * says why; on CI (`CI=true`) a missing server is a failure, so a broken CI image cannot pass by skipping.
 */
import { DEBIAN_PACKAGE } from './binaries.js';

/** True when running on CI: every front must really run there. */
export const ON_CI = process.env.CI === 'true';

/**
 * Call in a `before()` hook: returns the binary path, or skips the suite (fails on CI) when it is missing.
 * `what` names the thing (a binary or module) for the message.
 */
export function requireInstalled<T>(ctx: Mocha.Context, what: string, found: T | undefined): T {
  if (found !== undefined && found !== false) return found;
  const pkg = DEBIAN_PACKAGE[what] ?? what;
  const why = `${what} is not installed (Debian package: ${pkg})`;
  if (ON_CI) throw new Error(`${why}; CI=true requires every front: add it to .ci/run`);
  console.log(`      skipped: ${why}`);
  ctx.skip();
}
