/**
 * systemd socket activation (sd_listen_fds(3)): systemd binds the sockets of a `.socket` unit and starts
 * tsgi with them open from fd 3 on, saying so in LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES. Each listener
 * then accepts on its socket (socketFd) instead of binding: restarts lose no connection (they wait in the
 * kernel's backlog) and tsgi needs no privilege for port 80.
 *
 * Which socket is whose: `[server]` takes the one named `server` (FileDescriptorName=server) or the first;
 * each `[server:NAME]` takes the one named NAME, or else the next unassigned, in order. The variables are
 * removed from the environment once read, as sd_listen_fds(unset=1) does, so that no child takes them for
 * its own.
 */
import type { ErrorLog } from './core/log.js';
import { listenersOf, type Config, type Listener } from './config/resolve.js';
import { tsgiError } from '../app-api/errors.js';

/** The first fd systemd passes (SD_LISTEN_FDS_START). */
export const SD_LISTEN_FDS_START = 3;

/** The sockets systemd passed to this process, in order, with their names; [] when it passed none. */
export function listenFds(env: NodeJS.ProcessEnv = process.env, pid = process.pid): { fd: number; name: string }[] {
  const count = Number(env.LISTEN_FDS ?? '');
  // LISTEN_PID says whom they are for: a process that inherited the variables from its parent must not act on them.
  if (!Number.isInteger(count) || count <= 0 || env.LISTEN_PID === undefined || Number(env.LISTEN_PID) !== pid) return [];
  const names = (env.LISTEN_FDNAMES ?? '').split(':');
  return Array.from({ length: count }, (_, i) => ({ fd: SD_LISTEN_FDS_START + i, name: names[i] ?? '' }));
}

/**
 * The config with each listener's socketFd set from the sockets systemd passed; the config unchanged when
 * it passed none. Throws TSGI_ERR_CONFIG when there are more listeners than sockets.
 */
export function applySocketActivation(config: Config, log: ErrorLog, env: NodeJS.ProcessEnv = process.env, pid = process.pid): Config {
  const fds = listenFds(env, pid);
  if (fds.length === 0) return config;
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDNAMES;
  const listeners = listenersOf(config);
  const free = new Set(fds.map((f) => f.fd));
  const take = (l: Listener): number => {
    const named = fds.find((f) => f.name === l.name && free.has(f.fd)) ?? fds.find((f) => free.has(f.fd) && !listeners.some((o) => o.name === f.name));
    if (named === undefined) {
      throw tsgiError('TSGI_ERR_CONFIG', {
        where: 'socket activation',
        problem: `systemd passed ${fds.length} socket(s) (LISTEN_FDS) and none is left for ${l.section}`,
        fix: `add a ListenStream= line (FileDescriptorName=${l.name}) to the .socket unit, or remove the section`,
      });
    }
    free.delete(named.fd);
    return named.fd;
  };
  const moved = listeners.map((l) => {
    const fd = take(l);
    log.log('info', `socket activation: ${l.section} accepts on fd ${fd}${fds.find((f) => f.fd === fd)!.name !== '' ? ` (${fds.find((f) => f.fd === fd)!.name})` : ''}`);
    return { ...l, server: { ...l.server, socketFd: fd, socketFile: undefined } };
  });
  for (const fd of free) log.log('warn', `socket activation: fd ${fd} was passed but no listener takes it; add a [server:NAME] section for it`);
  return { ...config, server: moved[0].server, listeners: moved };
}
