/**
 * HAProxy: a frontend and a backend to add to haproxy.cfg (or to pass as one more `-f` file). With
 * `proxyProtocol = 1` on the listener HAProxy passes TCP and writes a PROXY v2 header first
 * (`send-proxy-v2`), whatever the protocol; without it, HAProxy proxies HTTP and adds X-Forwarded-For.
 * The PROXY form is the one test/integration/reverse-proxy.test.ts runs (examples/deploy/haproxy/).
 */
import { snippetHeader } from './header.js';
import { hostPort, listenSpec, mountRegex } from './target.js';
import type { CheckTarget, FrontRenderer } from './types.js';

function render(t: CheckTarget): string {
  const server = t.upstream.kind === 'unix' ? t.upstream.path : hostPort(t.upstream);
  const bind = t.listen.host === undefined ? `:${t.listen.port}` : listenSpec(t.listen);
  const out = [snippetHeader(t, 'haproxy').trimEnd(), '# Add it to haproxy.cfg, or give it as one more -f file.'];
  if (t.proxyProtocol) {
    out.push(
      `frontend ${t.name}_in`,
      '    mode tcp',
      `    bind ${bind}`,
      '    timeout client 60s',
      `    default_backend ${t.name}`,
      '',
      `backend ${t.name}`,
      '    mode tcp',
      '    timeout connect 5s',
      '    timeout server 300s',
      '    # tsgi reads the client address from the PROXY v2 header (proxyProtocol = 1) and trusts it only from',
      '    # trustedProxies: HAProxy\'s address as tsgi sees it.',
      `    server tsgi ${server} send-proxy-v2`,
      '',
    );
    return out.join('\n');
  }
  out.push(`frontend ${t.name}_in`, '    mode http', `    bind ${bind}`, '    timeout client 60s', '    option forwardfor');
  if (t.trustedHeaders.has('x-forwarded-proto')) out.push('    http-request set-header X-Forwarded-Proto %[ssl_fc,iif(https,http)]');
  if (t.trustedHeaders.has('x-forwarded-port')) out.push('    http-request set-header X-Forwarded-Port %[dst_port]');
  for (const h of ['X-Forwarded-Host', 'X-Forwarded-Prefix', 'Forwarded']) {
    if (t.trustedHeaders.has(h.toLowerCase() as never)) out.push(`    http-request del-header ${h}   # trusted by tsgi, not set by HAProxy`);
  }
  if (t.mount !== '') {
    out.push(`    # The mount is a whole segment: ${t.mount}lication is not the app.`, `    acl tsgi_mount path_reg ^${mountRegex(t.mount)}(/|$)`, `    use_backend ${t.name} if tsgi_mount`);
  } else out.push(`    default_backend ${t.name}`);
  out.push('', `backend ${t.name}`, '    mode http', '    timeout connect 5s', '    timeout server 300s', `    server tsgi ${server}`, '');
  return out.join('\n');
}

/** The HAProxy renderer. */
export const haproxyFront: FrontRenderer = {
  name: 'haproxy',
  render,
  cannotServe(t) {
    if (!t.proxyProtocol && t.protocol !== 'http') {
      return `${t.section} speaks ${t.protocol}, and HAProxy turns HTTP into HTTP, not into ${t.protocol}; put nginx, Apache or lighttpd in front, or use protocol = http (or auto) on this listener`;
    }
    return undefined;
  },
  hint: {
    forwardedFor: 'option forwardfor (http mode), or proxyProtocol = 1 in the INI with send-proxy-v2',
    forwardedProto: 'http-request set-header X-Forwarded-Proto %[ssl_fc,iif(https,http)]',
  },
  syntax: {
    binary: 'haproxy',
    wrapper(dir) {
      return ['# A minimal haproxy.cfg for the snippet (given as a second -f), written by tsgi check.', 'global', `    pidfile ${dir}/haproxy.pid`, '', ''].join('\n');
    },
    args: (main, snippet) => ['-c', '-f', main, '-f', snippet],
    runArgs: (main, snippet) => ['-db', '-f', main, '-f', snippet],
  },
};
