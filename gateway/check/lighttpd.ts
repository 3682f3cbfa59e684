/**
 * lighttpd 1.4: a file to `include` from lighttpd.conf (or conf-enabled/) with fastcgi.server, scgi.server
 * or proxy.server by the listener's protocol, on its own `$SERVER["socket"]`. The forms are the ones the
 * integration suites run (examples/deploy/lighttpd/).
 */
import { snippetHeader } from './header.js';
import { mountRegex } from './target.js';
import type { CheckTarget, FrontRenderer, FrontListen } from './types.js';

/** lighttpd's socket form: `127.0.0.1:8080`, `[::1]:8080`, `:80`. */
function socketSpec(l: FrontListen): string {
  if (l.host === undefined) return `:${l.port}`;
  return l.host.includes(':') ? `[${l.host}]:${l.port}` : `${l.host}:${l.port}`;
}

function hostLines(t: CheckTarget): string {
  return t.upstream.kind === 'unix' ? `"socket" => "${t.upstream.path}"` : `"host" => "${t.upstream.host}", "port" => ${t.upstream.port}`;
}

function render(t: CheckTarget): string {
  const module = t.protocol === 'http' ? 'mod_proxy' : t.protocol === 'fastcgi' ? 'mod_fastcgi' : 'mod_scgi';
  const inner: string[] = [];
  if (t.protocol === 'http') {
    inner.push(
      `proxy.server = ( "" => (( ${hostLines(t)} )) )`,
      '# lighttpd sets X-Forwarded-For and X-Forwarded-Proto itself; RFC 7239 Forwarded too with this line.',
      `proxy.forwarded = ( "for" => 1, "proto" => 1 )`,
      'proxy.header = ( "upgrade" => "disable", "connect" => "disable", "https-remap" => "disable" )',
    );
  } else {
    const key = t.mount === '' ? '/' : t.mount;
    inner.push(
      `${t.protocol}.server = (`,
      `    # A prefix key: SCRIPT_NAME is the prefix, PATH_INFO the rest of the path.`,
      `    "${key}" => ((`,
      `        ${hostLines(t)},`,
      '        # Do not look for a file on disk: the app is the whole prefix.',
      '        "check-local" => "disable",',
      ...(t.mount === '' ? ['        # At the root: SCRIPT_NAME "" and the whole path in PATH_INFO.', '        "fix-root-scriptname" => "enable",'] : []),
      '    )),',
      ')',
    );
  }
  const indent = (n: number) => (l: string) => (l === '' ? l : ' '.repeat(n) + l);
  const guarded = t.mount === '' ? inner.map(indent(4)) : [`    $HTTP["url"] =~ "^${mountRegex(t.mount)}(/|$)" {`, ...inner.map(indent(8)), '    }'];
  return [
    snippetHeader(t, 'lighttpd').trimEnd(),
    '# Include it from lighttpd.conf: include "/etc/lighttpd/tsgi.conf".',
    `server.modules += ( "${module}" )`,
    `$SERVER["socket"] == "${socketSpec(t.listen)}" {`,
    '    # Spool request bodies (chunked uploads get a CONTENT_LENGTH); stream the app\'s output as it comes.',
    '    server.stream-request-body = 0',
    '    server.stream-response-body = 2',
    ...guarded,
    '}',
    '',
  ].join('\n');
}

/** The lighttpd renderer. */
export const lighttpdFront: FrontRenderer = {
  name: 'lighttpd',
  render,
  cannotServe(t) {
    if (t.proxyProtocol) return `${t.section} has proxyProtocol = 1, but lighttpd sends no PROXY header, so tsgi would close every connection; use --front haproxy, or set proxyProtocol = 0`;
    return undefined;
  },
  hint: {
    forwardedFor: 'proxy.forwarded = ( "for" => 1 ) (mod_proxy sets X-Forwarded-For)',
    forwardedProto: 'proxy.forwarded = ( "proto" => 1 )',
    buffering: 'server.stream-response-body = 2',
  },
  syntax: {
    binary: 'lighttpd',
    wrapper(dir, snippetFile, listen) {
      return [
        '# A minimal lighttpd.conf around the snippet, written by tsgi check.',
        `server.document-root = "${dir}"`,
        ...(listen.host !== undefined ? [`server.bind = "${listen.host}"`] : []),
        `server.port = ${listen.port}`,
        `server.errorlog = "${dir}/error.log"`,
        `server.pid-file = "${dir}/lighttpd.pid"`,
        `server.upload-dirs = ( "${dir}" )`,
        // lighttpd refuses to keep root: its workers run as this user.
        ...(process.getuid?.() === 0 ? ['server.username = "www-data"', 'server.groupname = "www-data"'] : []),
        `include "${snippetFile}"`,
        '',
      ].join('\n');
    },
    args: (main) => ['-t', '-f', main],
    runArgs: (main) => ['-D', '-f', main],
  },
};
