/**
 * Where the real web servers are. Looked up on PATH and in the sbin directories (Debian puts nginx, apache2
 * and lighttpd in /usr/sbin, which is not on a normal user's PATH).
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const EXTRA_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/bin'];

/** The absolute path of an executable, or undefined when it is not installed. */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== ''), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}

/** Apache's module directory (Debian: /usr/lib/apache2/modules), or undefined. */
export function apacheModuleDir(): string | undefined {
  for (const dir of ['/usr/lib/apache2/modules', '/usr/lib64/httpd/modules', '/usr/libexec/apache2', '/usr/lib/httpd/modules']) {
    if (existsSync(join(dir, 'mod_proxy.so'))) return dir;
  }
  return undefined;
}

/** True when Apache has the module `mod_<name>.so`. */
export function hasApacheModule(name: string): boolean {
  const dir = apacheModuleDir();
  return dir !== undefined && existsSync(join(dir, `mod_${name}.so`));
}

/** What each server is called in Debian, to name the fix when it is missing. */
export const DEBIAN_PACKAGE: Record<string, string> = {
  nginx: 'nginx-light (or nginx)',
  apache2: 'apache2',
  lighttpd: 'lighttpd',
  'cgi-fcgi': 'libfcgi-bin',
  'mod_fcgid': 'libapache2-mod-fcgid',
  haproxy: 'haproxy',
};
