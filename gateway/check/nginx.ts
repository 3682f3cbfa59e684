/**
 * nginx: an `upstream` and a `server` block to include inside `http {}` (`include /etc/nginx/conf.d/x.conf;`),
 * with proxy_pass, fastcgi_pass or scgi_pass by the listener's protocol. The forms are the ones the
 * integration suites run (examples/deploy/nginx/): the mount is a whole path segment, large response
 * headers fit the buffers, output is streamed (`*_buffering off`).
 */
import type { ForwardedHeader } from '../../adapters/proxy/headers.js';
import { snippetHeader } from './header.js';
import { hostPort, listenSpec, mountRegex } from './target.js';
import type { CheckTarget, FrontRenderer } from './types.js';

/** The value nginx sets for each forwarded header it can fill in; undefined: nginx has none, clear it. */
const FORWARDED_VALUE: Partial<Record<ForwardedHeader, string>> = {
  'x-forwarded-for': '$proxy_add_x_forwarded_for',
  'x-forwarded-proto': '$scheme',
  'x-forwarded-host': '$host',
  'x-forwarded-port': '$server_port',
};

const HEADER_NAME: Record<ForwardedHeader, string> = {
  'x-forwarded-for': 'X-Forwarded-For',
  'x-forwarded-proto': 'X-Forwarded-Proto',
  'x-forwarded-host': 'X-Forwarded-Host',
  'x-forwarded-port': 'X-Forwarded-Port',
  'x-forwarded-prefix': 'X-Forwarded-Prefix',
  forwarded: 'Forwarded',
};

function proxyLocation(t: CheckTarget): string[] {
  const out = [
    `        proxy_pass http://${t.name};             # no URI part: the path goes to tsgi as the client sent it`,
    '        proxy_http_version 1.1;                 # upstream keep-alive and chunked uploads',
    '        proxy_set_header Connection "";',
    '        proxy_set_header Host $http_host;',
  ];
  // tsgi believes exactly the headers of trustedProxyHeaders from nginx: nginx sets each of them, or
  // clears it (an empty value drops it), so none reaches tsgi as the client wrote it.
  for (const h of t.trustedHeaders) {
    const v = FORWARDED_VALUE[h];
    out.push(v !== undefined ? `        proxy_set_header ${HEADER_NAME[h]} ${v};` : `        proxy_set_header ${HEADER_NAME[h]} "";   # trusted by tsgi, not set by nginx: never pass the client's`);
  }
  out.push(
    '        proxy_buffer_size 32k;                  # large response headers (cookies, CSP) need more than one page',
    '        proxy_buffers 8 32k;',
    '        proxy_busy_buffers_size 64k;',
    '        proxy_buffering off;                    # stream the app\'s output; uploads are still buffered by nginx',
    '        proxy_read_timeout 300s;',
  );
  return out;
}

function gatewayLocation(t: CheckTarget, kind: 'fastcgi' | 'scgi'): string[] {
  const p = `${kind}_param`;
  const out = [`        ${kind}_pass ${t.name};`];
  if (kind === 'fastcgi') out.push('        fastcgi_keep_conn on;                   # one connection serves many requests (upstream keepalive)');
  else out.push('        scgi_param SCGI              1;        # nginx sends CONTENT_LENGTH first itself, but not SCGI=1');
  const params: [string, string][] = [
    ['QUERY_STRING', '$query_string'],
    ['REQUEST_METHOD', '$request_method'],
    ['CONTENT_TYPE', '$content_type'],
    ...(kind === 'fastcgi' ? [['CONTENT_LENGTH', '$content_length'] as [string, string]] : []),
    ['SCRIPT_NAME', t.mount === '' ? '""' : t.mount],
    ['PATH_INFO', '$tsgi_path_info'],
    ['REQUEST_URI', '$request_uri'],
    ['SERVER_PROTOCOL', '$server_protocol'],
    ['REQUEST_SCHEME', '$scheme'],
    ['HTTPS', '$https if_not_empty'],
    ['GATEWAY_INTERFACE', 'CGI/1.1'],
    ['SERVER_SOFTWARE', 'nginx/$nginx_version'],
    ['REMOTE_ADDR', '$remote_addr'],
    ['REMOTE_PORT', '$remote_port'],
    ['SERVER_ADDR', '$server_addr'],
    ['SERVER_PORT', '$server_port'],
    ['SERVER_NAME', '$server_name'],
  ];
  for (const [k, v] of params) out.push(`        ${p} ${k.padEnd(17)} ${v};`);
  out.push(
    `        ${kind}_buffer_size 32k;`,
    `        ${kind}_buffers 8 32k;`,
    `        ${kind}_busy_buffers_size 64k;`,
    `        ${kind}_buffering off;`,
    `        ${kind}_read_timeout 300s;`,
  );
  return out;
}

function render(t: CheckTarget): string {
  const server = t.upstream.kind === 'unix' ? `unix:${t.upstream.path}` : hostPort(t.upstream);
  const keepalive = t.protocol === 'scgi' ? [] : ['    keepalive 16;'];
  const location =
    t.protocol === 'http'
      ? t.mount === ''
        ? 'location / {'
        : `location ~ "^${mountRegex(t.mount)}(/|$)" {   # the mount is a whole segment: ${t.mount}lication is not the app`
      : // (?s): a decoded %0A in the path must not end the match (CVE-2019-11043 was a split that failed on it).
        `location ~ "(?s)^${mountRegex(t.mount)}(?<tsgi_path_info>/.*)?$" {`;
  const body = t.protocol === 'http' ? proxyLocation(t) : gatewayLocation(t, t.protocol);
  return [
    snippetHeader(t, 'nginx').trimEnd(),
    '# Include inside http { }.',
    `upstream ${t.name} {`,
    `    server ${server};`,
    ...keepalive,
    '}',
    '',
    'server {',
    `    listen ${listenSpec(t.listen)};`,
    '    server_name _;',
    '    client_max_body_size 200m;              # nginx\'s default is 1m; allow what the app accepts',
    '',
    `    ${location}`,
    ...body,
    '    }',
    '}',
    '',
  ].join('\n');
}

/** The nginx renderer. */
export const nginxFront: FrontRenderer = {
  name: 'nginx',
  render,
  cannotServe(t) {
    if (t.proxyProtocol) return `${t.section} has proxyProtocol = 1, but nginx's http proxy sends no PROXY header, so tsgi would close every connection; use --front haproxy, or set proxyProtocol = 0 (nginx passes the client in X-Forwarded-For)`;
    return undefined;
  },
  hint: {
    forwardedFor: 'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    forwardedProto: 'proxy_set_header X-Forwarded-Proto $scheme; (fastcgi/scgi: the HTTPS param)',
    host: 'proxy_set_header Host $http_host;',
    buffering: 'proxy_buffering off; (fastcgi_buffering / scgi_buffering for those)',
    remoteAddr: 'fastcgi_param REMOTE_ADDR $remote_addr; (scgi_param for SCGI)',
  },
  syntax: {
    binary: 'nginx',
    wrapper(dir, snippetFile) {
      return [
        '# A minimal nginx.conf around the snippet, written by tsgi check.',
        ...(process.getuid?.() === 0 ? ['user root;'] : []),
        'worker_processes 1;',
        `pid ${dir}/nginx.pid;`,
        `error_log ${dir}/error.log info;`,
        'events { worker_connections 256; }',
        'http {',
        `    access_log ${dir}/access.log;`,
        `    client_body_temp_path ${dir}/client_body;`,
        `    proxy_temp_path ${dir}/proxy;`,
        `    fastcgi_temp_path ${dir}/fastcgi;`,
        `    scgi_temp_path ${dir}/scgi;`,
        `    uwsgi_temp_path ${dir}/uwsgi;`,
        `    include ${snippetFile};`,
        '}',
        '',
      ].join('\n');
    },
    // -e: nginx opens its compiled-in error log before reading the config; keep it in the temp dir too.
    args: (main, _snippet, dir) => ['-t', '-p', dir, '-e', `${dir}/error.log`, '-c', main],
    runArgs: (main, _snippet, dir) => ['-p', dir, '-e', `${dir}/error.log`, '-c', main, '-g', 'daemon off;'],
  },
};
