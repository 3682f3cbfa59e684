/**
 * The app `tsgi check --probe` serves for one request. It answers only a request carrying the nonce the
 * check made (header X-Tsgi-Probe), keeps what it saw in this process's memory (nothing of the environ goes
 * back over the wire), and streams its answer in two parts, sending the second only once the check's client
 * has the first (or after a bounded wait): a front that buffers responses shows up as that wait running out.
 */
import type { App, Environ } from '../../app-api/types.js';
import { SERVER_SOFTWARE } from '../core/environ.js';

/** What the app saw of a probe request. */
export interface ProbeSeen {
  SCRIPT_NAME: string;
  PATH_INFO: string;
  REMOTE_ADDR: string;
  HTTP_HOST: string | undefined;
  urlScheme: string;
  /** The peer when tsgi believed forwarded headers or a PROXY header from it. */
  proxyAddr: string | undefined;
  /**
   * The wire protocol the request came in on, as far as the environ tells: SCGI sends SCGI=1, tsgi's HTTP
   * server names itself in SERVER_SOFTWARE, a FastCGI front names itself (nginx/1.22...).
   */
  protocol: 'http' | 'fastcgi' | 'scgi';
}

/** One expected probe: set by the check before its request. */
export interface ProbeWaiter {
  /** Called by the app with what it saw. */
  saw(seen: ProbeSeen): void;
  /** Resolves true when the client has the first part, false when the bounded wait ran out first. */
  firstPartArrived(): Promise<boolean>;
}

const waiters = new Map<string, ProbeWaiter>();

/** Expect one probe request with this nonce; returns a function that stops expecting it. */
export function expectProbe(nonce: string, waiter: ProbeWaiter): () => void {
  waiters.set(nonce, waiter);
  return () => waiters.delete(nonce);
}

/** The first part of the answer; the check's client signals when it has it. */
export const FIRST_PART = 'tsgi check probe: first part\n';

function protocolOf(environ: Record<string, unknown>): ProbeSeen['protocol'] {
  if (environ['tsgi.fcgi_role'] !== undefined) return 'fastcgi';
  // SCGI requires SCGI=1 in every request; HTTP and FastCGI have no such variable.
  if (environ.SCGI === '1') return 'scgi';
  return environ.SERVER_SOFTWARE === SERVER_SOFTWARE ? 'http' : 'fastcgi';
}

/** The probe app (a tsgi app; see the module comment). Any other request gets 404. */
export const app: App = (environ, startResponse) => {
  const env = environ as Environ & Record<string, unknown>;
  const nonce = env.HTTP_X_TSGI_PROBE as string | undefined;
  const waiter = nonce === undefined ? undefined : waiters.get(nonce);
  if (waiter === undefined) {
    startResponse('404 Not Found', [['Content-Type', 'text/plain; charset=utf-8']]);
    return ['not a tsgi check probe\n'];
  }
  waiters.delete(nonce!);
  waiter.saw({
    SCRIPT_NAME: env.SCRIPT_NAME ?? '',
    PATH_INFO: env.PATH_INFO ?? '',
    REMOTE_ADDR: env.REMOTE_ADDR ?? '',
    HTTP_HOST: env.HTTP_HOST as string | undefined,
    urlScheme: env['tsgi.url_scheme'],
    proxyAddr: env['tsgi.proxy_addr'] as string | undefined,
    protocol: protocolOf(env),
  });
  startResponse('200 OK', [
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Cache-Control', 'no-store'],
  ]);
  return (async function* () {
    yield FIRST_PART;
    yield (await waiter.firstPartArrived()) ? 'streamed\n' : 'buffered\n';
  })();
};
