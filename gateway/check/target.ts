/** From a loaded INI file to the listener a front must reach (CheckTarget), refusing what no front can reach. */
import { parseTrustedHeaders } from '../../adapters/proxy/headers.js';
import { configError, listenersOf, type Config, type Listener } from '../config/resolve.js';
import type { CheckTarget, FrontListen, Upstream } from './types.js';

/** `--front-listen`: `HOST:PORT`, `[IPv6]:PORT`, `:PORT` or `PORT` (the default is port 80 on every interface). */
export function parseFrontListen(raw: string): FrontListen {
  const m = /^(?:\[([^\]]+)\]:|([^:[\]]*):)?(\d+)$/.exec(raw);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !(port >= 1 && port <= 65535)) {
    throw configError('command line --front-listen', `${JSON.stringify(raw)} is not HOST:PORT; write e.g. 127.0.0.1:8080, [::1]:8080 or :80`);
  }
  const host = m[1] ?? (m[2] === '' ? undefined : m[2]);
  return { host, port };
}

/** The address a front on this host uses to reach tsgi listening on `host`. */
function reachable(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

function upstreamOf(l: Listener, file: string): Upstream {
  const s = l.server;
  if (s.socketFd !== undefined) {
    throw configError(`${file} ${l.section}`, 'socketFd: the socket is inherited, so its address is not in the file; give socketHost/socketPort or socketFile for tsgi check');
  }
  if (s.socketFile !== undefined) return { kind: 'unix', path: s.socketFile };
  if (s.socketPort === 0) {
    throw configError(`${file} ${l.section}`, 'socketPort = 0 picks a new port at every start, so a front cannot be pointed at it; set a fixed socketPort');
  }
  return { kind: 'tcp', host: reachable(s.socketHost), port: s.socketPort };
}

/** The listener `name` (`server` for `[server]`) of a config, as a front must reach it. */
export function checkTarget(config: Config, configFile: string, listen: FrontListen, name = 'server'): CheckTarget {
  const all = listenersOf(config);
  const l = all.find((x) => x.name === name);
  if (l === undefined) {
    throw configError('command line --listener', `${configFile} has no [server:${name}]; its listeners are ${all.map((x) => x.section).join(', ')}`);
  }
  const s = l.server;
  return {
    configFile,
    section: l.section,
    protocol: s.protocol === 'auto' ? 'http' : s.protocol,
    protocolWritten: s.protocol,
    upstream: upstreamOf(l, configFile),
    mount: s.scriptName,
    proxyProtocol: s.proxyProtocol,
    trustedProxies: s.trustedProxies,
    trustedHeaders: parseTrustedHeaders(s.trustedProxyHeaders),
    listen,
    name: `tsgi_${l.name.replace(/-/g, '_')}`,
  };
}

/** `127.0.0.1:9000`, `[::1]:9000` or the socket path. */
export function hostPort(u: Upstream): string {
  if (u.kind === 'unix') return u.path;
  return u.host.includes(':') ? `[${u.host}]:${u.port}` : `${u.host}:${u.port}`;
}

/** `127.0.0.1:8080`, `[::1]:8080`, or `80` for every interface. */
export function listenSpec(l: FrontListen): string {
  if (l.host === undefined) return String(l.port);
  return l.host.includes(':') ? `[${l.host}]:${l.port}` : `${l.host}:${l.port}`;
}

/** The mount as a regex prefix (`/app` -> `/app`, `/a.b` -> `/a\.b`). */
export function mountRegex(mount: string): string {
  return mount.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
