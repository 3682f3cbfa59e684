/**
 * Apache httpd 2.4: a file to `Include` (or drop into sites-enabled/) with mod_proxy_http, mod_proxy_fcgi or
 * mod_proxy_scgi by the listener's protocol. Each module is loaded only when the main config has not
 * loaded it (`<IfModule !...>`), so the file works on a Debian layout (a2enmod) and in a bare httpd.conf.
 * The forms are the ones the integration suites run (examples/deploy/apache/).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { snippetHeader } from './header.js';
import { hostPort, listenSpec } from './target.js';
import type { CheckTarget, FrontRenderer } from './types.js';

/** Where this machine's Apache keeps its modules (Debian's place when none is found). */
export function apacheModuleDir(): string {
  for (const dir of ['/usr/lib/apache2/modules', '/usr/lib64/httpd/modules', '/usr/libexec/apache2', '/usr/lib/httpd/modules']) {
    if (existsSync(join(dir, 'mod_proxy.so'))) return dir;
  }
  return '/usr/lib/apache2/modules';
}

/** Debian's file is `mod_proxy.so` for `proxy_module`. */
function loadGuarded(module: string, dir: string): string[] {
  return [`<IfModule !${module}_module>`, `    LoadModule ${module}_module ${dir}/mod_${module}.so`, '</IfModule>'];
}

/** `Listen 80` is in every main config (Debian's ports.conf): only another address needs its own line. */
function isDefaultListen(t: CheckTarget): boolean {
  return t.listen.host === undefined && t.listen.port === 80;
}

/** `http://127.0.0.1:8080` or `unix:/run/tsgi.sock|http://localhost` (mod_proxy's unix socket form). */
function backend(t: CheckTarget, scheme: string): string {
  return t.upstream.kind === 'unix' ? `unix:${t.upstream.path}|${scheme}://localhost` : `${scheme}://${hostPort(t.upstream)}`;
}

/** The snippet, loading modules from `modules` (default: this machine's module directory). */
export function renderApache(t: CheckTarget, modules = apacheModuleDir()): string {
  const proto = t.protocol === 'http' ? 'http' : t.protocol === 'fastcgi' ? 'fcgi' : 'scgi';
  const mods = ['proxy', t.protocol === 'http' ? 'proxy_http' : t.protocol === 'fastcgi' ? 'proxy_fcgi' : 'proxy_scgi', ...(t.protocol === 'http' ? ['headers'] : [])];
  const vhost = isDefaultListen(t) ? `*:${t.listen.port}` : listenSpec(t.listen);
  const location = t.mount === '' ? '/' : t.mount;
  const target = `${backend(t, proto)}${t.mount === '' ? '/' : t.mount}`;
  const out = [snippetHeader(t, 'apache').trimEnd(), '# Include it from the main config (or put it in sites-enabled/).'];
  for (const m of mods) out.push(...loadGuarded(m, modules));
  if (!isDefaultListen(t)) out.push(`Listen ${listenSpec(t.listen)}`);
  out.push(`<VirtualHost ${vhost}>`, '    # Your site\'s name: with other sites on this address Apache picks one by it.', '    ServerName localhost');
  if (t.protocol === 'http') {
    out.push(
      '    # The path goes to tsgi as the client wrote it (nocanon), %2F included.',
      '    AllowEncodedSlashes NoDecode',
      '    ProxyPreserveHost On',
      `    <Location "${location}">`,
      `        ProxyPass "${target}" nocanon keepalive=On responsefieldsize=65536`,
      `        ProxyPassReverse "${target}"`,
      '        Require all granted',
      '    </Location>',
    );
    // mod_proxy_http adds X-Forwarded-For/-Host/-Server itself; the others tsgi trusts are set or removed here.
    if (t.trustedHeaders.has('x-forwarded-proto')) out.push('    RequestHeader set X-Forwarded-Proto expr=%{REQUEST_SCHEME}');
    if (t.trustedHeaders.has('x-forwarded-port')) out.push('    RequestHeader set X-Forwarded-Port expr=%{SERVER_PORT}');
    for (const h of ['x-forwarded-prefix', 'forwarded'] as const) {
      if (t.trustedHeaders.has(h)) out.push(`    RequestHeader unset ${h === 'forwarded' ? 'Forwarded' : 'X-Forwarded-Prefix'}   # trusted by tsgi, not set by Apache`);
    }
  } else if (t.protocol === 'fastcgi') {
    out.push(
      '    # %2F reaches the app decoded in PATH_INFO, as on the other fronts.',
      '    AllowEncodedSlashes On',
      `    <Location "${location}">`,
      '        # enablereuse: keep FastCGI connections open; flushpackets: stream the app\'s output.',
      `        ProxyPass "${target}" enablereuse=on flushpackets=on`,
      '        Require all granted',
      '    </Location>',
      '    # mod_proxy_fcgi does not split the path at the mount: both variables come from the request path.',
      '    ProxyFCGIBackendType GENERIC',
      t.mount === '' ? '    ProxyFCGISetEnvIf "true" !SCRIPT_NAME' : `    ProxyFCGISetEnvIf "true" SCRIPT_NAME "${t.mount}"`,
      `    ProxyFCGISetEnvIf "%{REQUEST_URI} =~ m#^${t.mount}(/[\\s\\S]*)?$#" PATH_INFO "$1"`,
    );
  } else {
    out.push(
      '    # mod_proxy_scgi sends the whole path as SCRIPT_NAME: tsgi splits it at scriptName. It refuses',
      '    # chunked uploads (411).',
      '    AllowEncodedSlashes On',
      `    <Location "${location}">`,
      `        ProxyPass "${target}"`,
      '        Require all granted',
      '    </Location>',
    );
  }
  out.push('    ProxyTimeout 300', '</VirtualHost>', '');
  return out.join('\n');
}

/** The Apache renderer. */
export const apacheFront: FrontRenderer = {
  name: 'apache',
  render: (t) => renderApache(t),
  cannotServe(t) {
    if (t.proxyProtocol) return `${t.section} has proxyProtocol = 1, but Apache's mod_proxy sends no PROXY header, so tsgi would close every connection; use --front haproxy, or set proxyProtocol = 0 (Apache passes the client in X-Forwarded-For)`;
    if (t.protocol === 'scgi' && t.mount === '') return `${t.section}: mod_proxy_scgi sends the whole path as SCRIPT_NAME, and tsgi splits it only at a scriptName: mount the app under a prefix (scriptName = /app), or use --front nginx or lighttpd for SCGI at the root`;
    return undefined;
  },
  hint: {
    forwardedFor: 'mod_proxy_http adds X-Forwarded-For itself (ProxyAddHeaders On, the default)',
    forwardedProto: 'RequestHeader set X-Forwarded-Proto expr=%{REQUEST_SCHEME}',
    host: 'ProxyPreserveHost On',
    buffering: 'flushpackets=on on the ProxyPass line (mod_proxy_fcgi)',
  },
  syntax: {
    binary: 'apache2',
    wrapper(dir, snippetFile, listen) {
      const modules = apacheModuleDir();
      const root = process.getuid?.() === 0;
      return [
        '# A minimal httpd.conf around the snippet, written by tsgi check.',
        `ServerRoot ${dir}`,
        'ServerName localhost',
        `DefaultRuntimeDir ${dir}`,
        `PidFile ${dir}/httpd.pid`,
        `ErrorLog ${dir}/error.log`,
        'LogLevel warn',
        // Apache refuses to run its workers as root.
        ...(root ? ['User www-data', 'Group www-data'] : []),
        `LoadModule mpm_event_module ${modules}/mod_mpm_event.so`,
        `LoadModule authz_core_module ${modules}/mod_authz_core.so`,
        ...(listen.host === undefined && listen.port === 80 ? ['Listen 80'] : []),
        `Include ${snippetFile}`,
        '',
      ].join('\n');
    },
    args: (main) => ['-t', '-f', main],
    runArgs: (main) => ['-f', main, '-DFOREGROUND'],
  },
};
