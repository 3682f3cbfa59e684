/**
 * The option table: every `[server]` option, declared once, with its type, default, validator, command-line
 * flag and documentation (gunicorn's settings.py is the model). The INI loader, the command line, `--help`
 * and the README's config reference are all generated from this table, so an option cannot exist in one of
 * them and be missing from another.
 *
 * Each option has a scope: `listener` options describe one listening socket and may be repeated in a
 * `[server:NAME]` section, which adds a listener served by the same process (same app, same workers);
 * `process` options belong to `[server]` only.
 *
 * Names are camelCase as in the CherryPy deployment chapter (`socketPort`, `threadPool`, ...). Whether a
 * feature is built yet is not decided here but in gateway/serve.ts, which answers TSGI_ERR_NOT_YET for a
 * mode or protocol nobody has plugged in.
 */
import { BadValue, integerIn, oneOf, parseBoolean, parseHost, parsePath, parseScriptName, seconds } from './values.js';
import { DEFAULT_TRUSTED_PROXIES } from '../../adapters/proxy/trust.js';
import { DEFAULT_TRUSTED_PROXY_HEADERS } from '../../adapters/proxy/headers.js';
import { parseTrustedProxies, parseTrustedProxyHeaders } from './proxy-options.js';
import { parseByteSize } from './limit-options.js';
import { DEFAULT_LIMITS } from '../core/limits.js';
import { DEFAULT_STATUS_ALLOW, parseMetricsListenOption, parseStatusAllow, parseStatusPath } from './metrics-options.js';

/** The wire protocols a listening socket can speak. */
export const PROTOCOLS = ['http', 'fastcgi', 'scgi', 'auto'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** What interface the app module exports: `auto` tells them apart by shape (gateway/app-shape.ts). */
export const INTERFACES = ['auto', 'tsgi', 'fetch', 'node'] as const;
export type AppInterface = (typeof INTERFACES)[number];

/** `helmet, compression`: a comma-separated list of package names, kept as written but for spaces. */
function parseModuleList(raw: string): string {
  const names = raw.split(',').map((n) => n.trim()).filter((n) => n !== '');
  for (const n of names) if (!/^(@[\w.-]+\/)?[\w.-]+(\/[\w.-]+)*$/.test(n)) throw new BadValue(`${JSON.stringify(n)} is not a package name; write names separated by commas, e.g. helmet, compression`);
  return names.join(', ');
}

/** The typed `[server]` section. Durations are in seconds, as written in the file. */
export interface ServerConfig {
  socketHost: string;
  socketPort: number;
  socketFile: string | undefined;
  socketFd: number | undefined;
  socketQueueSize: number;
  protocol: Protocol;
  threading: boolean;
  forking: boolean;
  processPool: number;
  threadPool: number;
  workerTimeout: number;
  maxRequests: number;
  maxRequestsJitter: number;
  maxChildren: number;
  spareChildren: number;
  threadQueueSize: number;
  threadQueueWait: number;
  /** processPool and single: most requests a process runs at once (503 past it); 0 = no limit. */
  maxInFlight: number;
  threadBatch: number;
  http2: boolean;
  sslKeyFile: string | undefined;
  sslCertificateFile: string | undefined;
  reverseDNS: boolean;
  scriptName: string;
  xmlRpc: boolean;
  headerTimeout: number;
  idleTimeout: number;
  keepAliveTimeout: number;
  requestTimeout: number;
  gracefulTimeout: number;
  pidFile: string | undefined;
  reload: boolean;
  errorLog: string;
  statusPath: string | undefined;
  statusAllow: string;
  metricsListen: string | undefined;
  interface: AppInterface;
  middleware: string;
  trustedProxies: string;
  trustedProxyHeaders: string;
  proxyProtocol: boolean;
  limitRequestLine: number;
  limitRequestFields: number;
  limitRequestFieldSize: number;
  limitParamsSize: number;
  maxBodySize: number;
  bodyTimeout: number;
  readyPath: string | undefined;
  drainDelay: number;
}

/** An option name. */
export type OptionName = keyof ServerConfig;

/** Whether an option describes one listener or the whole process (see OptionDef.scope). */
export type OptionScope = 'process' | 'listener';

/** One row of the table. */
export interface OptionDef<K extends OptionName = OptionName> {
  /** The name in the `[server]` section (camelCase). */
  name: K;
  /** The INI section it lives in. */
  section: 'server';
  /**
   * `listener`: describes one listening socket (where, which protocol, TLS, timeouts, mount, status page), so
   * it may also be set in a `[server:NAME]` section for an extra listener. `process`: applies to the whole
   * process (the concurrency model, the app's workers, shutdown, logs), so it lives in `[server]` only.
   */
  scope: OptionScope;
  /** The kind of value, for `--help` and the docs. */
  type: 'integer' | 'boolean' | 'seconds' | 'host' | 'path' | 'string' | 'choice';
  /** Used when neither the file nor the command line sets it. */
  default: ServerConfig[K];
  /** Turns the text as written into the value; throws BadValue with a message naming the valid form. */
  parse: (raw: string) => ServerConfig[K];
  /** The command-line flag (`--socket-port`). */
  cli: string;
  /** Placeholder for the value in `--help` (`N`, `PATH`, `SECONDS`...). Booleans have none. */
  metavar?: string;
  /** Older names accepted in the file (e.g. fixedNumberOfProcesses for processPool). */
  aliases?: readonly string[];
  /** One or two sentences: what it does, and when to use it. */
  doc: string;
}

/** Any row of the table, whatever its value type. */
export type AnyOptionDef = { [K in OptionName]: OptionDef<K> }[OptionName];

function def<K extends OptionName>(d: Omit<OptionDef<K>, 'section'>): AnyOptionDef {
  return { section: 'server', ...d } as unknown as AnyOptionDef;
}

const port = integerIn(0, 65535);
const count = integerIn(0, 10_000);

/** The `[server]` options, in the order the docs list them. */
export const OPTIONS: readonly AnyOptionDef[] = [
  // Where to listen.
  def({ name: 'socketHost', scope: 'listener', type: 'host', default: '127.0.0.1', parse: parseHost, cli: '--socket-host', metavar: 'HOST',
    doc: 'Interface to listen on. `0.0.0.0` (or `::`) listens on every interface; the default only accepts local connections.' }),
  def({ name: 'socketPort', scope: 'listener', type: 'integer', default: 8080, parse: port, cli: '--socket-port', metavar: 'PORT',
    doc: 'TCP port to listen on, 0-65535. 0 picks a free port (the start line says which).' }),
  def({ name: 'socketFile', scope: 'listener', type: 'path', default: undefined, parse: parsePath, cli: '--socket', metavar: 'PATH',
    doc: 'Listen on this unix socket instead of TCP (for a web server in front on the same host). Conflicts with socketHost/socketPort. A stale socket file left by a dead server is removed; one a live server answers on is an error.' }),
  def({ name: 'socketFd', scope: 'listener', type: 'integer', default: undefined, parse: integerIn(3, 65535), cli: '--socket-fd', metavar: 'FD',
    doc: 'Accept on this already-listening socket, inherited from whatever started tsgi (a supervisor such as einhorn or circus; `--bind fd://FD`). Under systemd socket activation (LISTEN_FDS) the sockets are found without it: `[server]` takes the socket named `server` (FileDescriptorName=) or the first, each `[server:NAME]` the one named NAME or the next. Conflicts with socketHost/socketPort/socketFile.' }),
  def({ name: 'socketQueueSize', scope: 'listener', type: 'integer', default: 511, parse: integerIn(1, 65535), cli: '--socket-queue-size', metavar: 'N',
    doc: 'Listen backlog: connections the kernel queues before the server accepts them (capped by net.core.somaxconn).' }),
  def({ name: 'protocol', scope: 'listener', type: 'choice', default: 'http', parse: oneOf(PROTOCOLS), cli: '--protocol', metavar: PROTOCOLS.join('|'),
    doc: 'What the socket speaks: `http` (the built-in HTTP/1.1 server), `fastcgi` or `scgi` (behind nginx, Apache or lighttpd), or `auto` (tell each connection apart by its first bytes).' }),

  // Concurrency model: at most one of these; none is "single" (inline on the event loop).
  def({ name: 'threading', scope: 'process', type: 'boolean', default: false, parse: parseBoolean, cli: '--threading',
    doc: 'Run each request on a new worker thread. Conflicts with forking, processPool and threadPool.' }),
  def({ name: 'forking', scope: 'process', type: 'boolean', default: false, parse: parseBoolean, cli: '--forking',
    doc: 'Run each connection in a new process. Conflicts with threading, processPool and threadPool.' }),
  def({ name: 'processPool', scope: 'process', type: 'integer', default: 0, parse: count, cli: '--process-pool', metavar: 'N', aliases: ['fixedNumberOfProcesses'],
    doc: 'Fork N worker processes that share the listening socket (gunicorn `--workers`); 0 = off.' }),
  def({ name: 'threadPool', scope: 'process', type: 'integer', default: 0, parse: count, cli: '--thread-pool', metavar: 'N',
    doc: 'Run requests on a pool of N worker threads; 0 = off. For synchronous apps that block.' }),

  // Workers: processes (processPool, forking) and threads (threadPool, threading).
  def({ name: 'workerTimeout', scope: 'process', type: 'seconds', default: 0, parse: seconds(false), cli: '--worker-timeout', metavar: 'SECONDS',
    doc: 'A request still running after this long is answered 504 (or its connection cut if the response had begun). processPool, forking, threadPool and threading also replace its worker (process or thread); under processPool and forking a process whose event loop is blocked this long is killed and replaced (gunicorn `--timeout`). single mode cannot preempt a synchronous spin on the event loop. 0 = none.' }),
  def({ name: 'maxRequests', scope: 'process', type: 'integer', default: 0, parse: integerIn(0, 1_000_000_000), cli: '--max-requests', metavar: 'N',
    doc: 'processPool and threadPool: replace a worker process or thread after it served N requests, to bound slow leaks. The replacement starts first and the old worker finishes its requests, so none fails. 0 = never. (forking and threading use a worker for one connection or request anyway.)' }),
  def({ name: 'maxRequestsJitter', scope: 'process', type: 'integer', default: 0, parse: integerIn(0, 1_000_000_000), cli: '--max-requests-jitter', metavar: 'N',
    doc: 'processPool and threadPool: add a random 0..N to maxRequests for each worker, so the workers are not all replaced at the same moment.' }),
  def({ name: 'maxChildren', scope: 'process', type: 'integer', default: 16, parse: integerIn(1, 10_000), cli: '--max-children', metavar: 'N',
    doc: 'forking: most processes alive at once (serving, starting or spare); a connection past it is answered 503 with Retry-After by the parent (HTTP, SCGI, FastCGI; a TLS, HTTP/2 or protocol=auto connection is closed). threading: most request threads at once; past it requests wait in the thread queue (threadQueueSize).' }),
  def({ name: 'spareChildren', scope: 'process', type: 'integer', default: 1, parse: integerIn(0, 10_000), cli: '--spare-children', metavar: 'N',
    doc: 'forking: processes started ahead of need, each waiting with the app loaded for its one connection, so a connection does not wait for a process to start.' }),
  def({ name: 'threadQueueSize', scope: 'process', type: 'integer', default: 256, parse: integerIn(0, 1_000_000), cli: '--thread-queue-size', metavar: 'N',
    doc: 'threadPool and threading: requests that may wait for a thread when every thread is busy; one more is answered 503 with Retry-After at once (Cheroot\'s overload answer). 0 = none wait.' }),
  def({ name: 'threadQueueWait', scope: 'process', type: 'seconds', default: 0, parse: seconds(false), cli: '--thread-queue-wait', metavar: 'SECONDS',
    doc: 'Admission control on queue wait, in every mode but forking (despite the name). threadPool and threading: while the oldest queued request has waited longer than this, new requests are answered 503 with Retry-After instead of joining a queue that is not moving. single and processPool, where the queue is the event loop: a request read while the loop runs later than this (it waited at least that long unseen) is answered 503 with Retry-After instead of being served late. 0 = off (only threadQueueSize and maxInFlight bound the queue).' }),
  def({ name: 'maxInFlight', scope: 'process', type: 'integer', default: 0, parse: integerIn(0, 1_000_000), cli: '--max-in-flight', metavar: 'N',
    doc: 'processPool and single: most requests one process runs at once; one more is answered 503 with Retry-After at once (TSGI_ERR_OVERLOAD) instead of waiting in an event loop that is already behind (the thread modes bound their queue with threadQueueSize, forking its processes with maxChildren). 0 = no limit.' }),
  def({ name: 'threadBatch', scope: 'process', type: 'integer', default: 16, parse: integerIn(1, 256), cli: '--thread-batch', metavar: 'N',
    doc: 'threadPool: most queued requests a thread that frees takes in one batch (its fair share of the queue, never more than N). Each handoff between threads costs both of them a wake-up, so batches raise the throughput of small requests; a thread that goes idle takes back what another has not started, so a slow request does not hold up the ones behind it. 1 = one request per batch.' }),

  // HTTP front.
  def({ name: 'http2', scope: 'listener', type: 'boolean', default: false, parse: parseBoolean, cli: '--http2',
    doc: 'Speak HTTP/2: over TLS with HTTP/1.1 fallback by ALPN when sslKeyFile/sslCertificateFile are set, else cleartext h2c.' }),
  def({ name: 'sslKeyFile', scope: 'listener', type: 'path', default: undefined, parse: parsePath, cli: '--ssl-key-file', metavar: 'PATH',
    doc: 'PEM private key. With sslCertificateFile turns on HTTPS.' }),
  def({ name: 'sslCertificateFile', scope: 'listener', type: 'path', default: undefined, parse: parsePath, cli: '--ssl-certificate-file', metavar: 'PATH',
    doc: 'PEM certificate (chain). With sslKeyFile turns on HTTPS.' }),
  def({ name: 'reverseDNS', scope: 'listener', type: 'boolean', default: false, parse: parseBoolean, cli: '--reverse-dns',
    doc: 'Set REMOTE_HOST by a reverse DNS lookup of the client address (cached; a lookup never holds a request more than 250 ms).' }),
  def({ name: 'scriptName', scope: 'listener', type: 'string', default: '', parse: parseScriptName, cli: '--script-name', metavar: 'PATH',
    doc: 'Mount the app under this URL prefix: it becomes SCRIPT_NAME and requests outside it get 404. Empty (the default) mounts at the root.' }),
  def({ name: 'xmlRpc', scope: 'process', type: 'boolean', default: false, parse: parseBoolean, cli: '--xml-rpc',
    doc: 'Answer XML-RPC as CherryPy\'s xmlrpc tool does: a POST text/xml methodCall of a.b.c reaches the app with /a/b/c appended to PATH_INFO and the call in environ[\'tsgi.xmlrpc\'] ({ method, params }); the app\'s JSON or text answer becomes the methodResponse, an error status or exception a fault (always 200 text/xml). Other requests pass through. To serve a table of functions without a framework, export xmlrpcMethods({...}).' }),

  // The bridge: apps written for other Node interfaces, and connect middleware in front of the app.
  def({ name: 'interface', scope: 'process', type: 'choice', default: 'auto', parse: oneOf(INTERFACES), cli: '--interface', metavar: INTERFACES.join('|'),
    doc: 'What the app module exports: `tsgi` (app(environ, startResponse)), `fetch` (a (Request) => Response handler or an object with a fetch method, as Hono exports), `node` (a (req, res) listener, an express or connect app). `auto` decides by shape: an object with fetch is a fetch handler; a function with express/connect\'s handle and use methods is a Node app; any other function is a tsgi app, so name a plain node:http listener with `node` (or wrap it in fromNode). The start line says what was found.' }),
  def({ name: 'middleware', scope: 'listener', type: 'string', default: '', parse: parseModuleList, cli: '--middleware', metavar: 'LIST',
    doc: 'Connect/express middleware run in front of the app on the built-in HTTP server (through @fastify/middie), by package name in order, e.g. `helmet, compression`. Each package is resolved from the working directory; a factory export is called with no arguments. Empty: none.' }),

  // Timeouts (seconds).
  def({ name: 'headerTimeout', scope: 'listener', type: 'seconds', default: 20, parse: seconds(true), cli: '--header-timeout', metavar: 'SECONDS',
    doc: 'Deadline for receiving a request head (HTTP/1.1, HTTP/2, SCGI; FastCGI: its FCGI_PARAMS, from FCGI_BEGIN_REQUEST on); slow clients (slowloris) are cut off after it.' }),
  def({ name: 'idleTimeout', scope: 'listener', type: 'seconds', default: 60, parse: seconds(false), cli: '--idle-timeout', metavar: 'SECONDS',
    doc: 'Close a connection with no traffic in either direction for this long; 0 = never.' }),
  def({ name: 'keepAliveTimeout', scope: 'listener', type: 'seconds', default: 5, parse: seconds(false), cli: '--keep-alive-timeout', metavar: 'SECONDS',
    doc: 'How long an idle keep-alive connection waits for its next request.' }),
  def({ name: 'requestTimeout', scope: 'listener', type: 'seconds', default: 0, parse: seconds(false), cli: '--request-timeout', metavar: 'SECONDS',
    doc: 'Deadline for receiving a whole request, body included; 0 = none (uploads may be long). When set, it must be at least headerTimeout.' }),
  def({ name: 'gracefulTimeout', scope: 'process', type: 'seconds', default: 30, parse: seconds(false), cli: '--graceful-timeout', metavar: 'SECONDS',
    doc: 'On SIGTERM or Ctrl-C: stop accepting, give in-flight requests this long to finish, then close what is left and exit.' }),

  // Process.
  def({ name: 'pidFile', scope: 'process', type: 'path', default: undefined, parse: parsePath, cli: '--pid-file', metavar: 'PATH',
    doc: 'Write the server\'s pid to this file before it listens; removed when it exits. A file naming a live process stops the start (two servers on one pid file); one left by a dead server is replaced.' }),
  def({ name: 'reload', scope: 'process', type: 'boolean', default: false, parse: parseBoolean, cli: '--reload',
    doc: 'Development only: restart the server in a new process when a source file (.js, .ts, .json, .cfg...) under the working directory changes (node_modules and .git are ignored). Off by default; never use it in production.' }),
  def({ name: 'errorLog', scope: 'process', type: 'path', default: '-', parse: parsePath, cli: '--error-log', metavar: 'PATH',
    doc: 'Append the error log (gateway messages and what apps write to tsgi.errors) to this file; `-` is stderr.' }),

  // Status page and metrics (gateway/metrics).
  def({ name: 'statusPath', scope: 'listener', type: 'string', default: undefined, parse: parseStatusPath, cli: '--status-path', metavar: 'PATH',
    doc: 'Answer a status page at this URL path on this listener (like Apache\'s server-status): HTML with each worker and its current request, `PATH?json`, and Prometheus text at `PATH/metrics`; the app never sees these requests. With scriptName, put it under the mount (`/app/server-status`). Unset: off.' }),
  def({ name: 'statusAllow', scope: 'listener', type: 'string', default: DEFAULT_STATUS_ALLOW, parse: parseStatusAllow, cli: '--status-allow', metavar: 'LIST',
    doc: 'Client addresses and subnets (comma-separated, e.g. `127.0.0.1, 10.0.0.0/8`) that may read statusPath and metricsListen, checked against REMOTE_ADDR; others get 403. `*` allows everyone. The `[server]` value also guards metricsListen.' }),
  def({ name: 'metricsListen', scope: 'process', type: 'string', default: undefined, parse: parseMetricsListenOption, cli: '--metrics-listen', metavar: 'HOST:PORT',
    doc: 'Also serve the status page (`/`), `/?json` and Prometheus text (`/metrics`) on a separate listener: `HOST:PORT`, `PORT` (on 127.0.0.1) or `unix:/path`. Unset: off.' }),

  // Behind a reverse proxy (adapters/proxy).
  def({ name: 'trustedProxies', scope: 'listener', type: 'string', default: DEFAULT_TRUSTED_PROXIES, parse: parseTrustedProxies, cli: '--trusted-proxies', metavar: 'LIST',
    doc: 'Peers whose forwarded headers (trustedProxyHeaders) and PROXY protocol header are believed: addresses and CIDRs, IPv4 or IPv6 (`127.0.0.1, 10.0.0.0/8, fd00::/8`), `loopback`, and `unix` for a peer on a unix socket. From a trusted peer REMOTE_ADDR becomes the client found by walking X-Forwarded-For / Forwarded from the right to the first address not in this list, the peer stays in environ[\'tsgi.proxy_addr\']; from any other peer every forwarded header is removed from the environ. On FastCGI, SCGI and CGI the peer is the REMOTE_ADDR the web server passes.' }),
  def({ name: 'trustedProxyHeaders', scope: 'listener', type: 'string', default: DEFAULT_TRUSTED_PROXY_HEADERS, parse: parseTrustedProxyHeaders, cli: '--trusted-proxy-headers', metavar: 'LIST',
    doc: 'Forwarded headers a trusted proxy may set: any of `x-forwarded-for` (REMOTE_ADDR), `x-forwarded-proto` (HTTPS, tsgi.url_scheme), `x-forwarded-host` (HTTP_HOST, SERVER_NAME, SERVER_PORT), `x-forwarded-port` (SERVER_PORT), `x-forwarded-prefix` (prepended to SCRIPT_NAME), `forwarded` (RFC 7239 for/proto/host). The default is the pair every usual proxy config sets; name only headers your proxy sets or overwrites, since a proxy passes the others on from the client unchanged (those are removed). Empty: believe none.' }),
  def({ name: 'proxyProtocol', scope: 'listener', type: 'boolean', default: false, parse: parseBoolean, cli: '--proxy-protocol',
    doc: 'Every connection starts with a PROXY protocol header, v1 or v2 (HAProxy `send-proxy` / `send-proxy-v2`): REMOTE_ADDR and REMOTE_PORT become the client it names. Accepted only from trustedProxies; a connection from another peer, or with a missing or malformed header (within headerTimeout), is closed with a log line. Works with every protocol; with `protocol = auto` the header is read before the protocol is sniffed.' }),

  // Request limits (gateway/core/limits.ts), named and defaulted as gunicorn's; 0 turns one off.
  def({ name: 'limitRequestLine', scope: 'listener', type: 'integer', default: DEFAULT_LIMITS.limitRequestLine, parse: integerIn(0, 1_048_576), cli: '--limit-request-line', metavar: 'BYTES',
    doc: 'Longest request line (`METHOD target HTTP/1.1`, without CRLF) in bytes; a longer one is answered 414 (gunicorn `--limit-request-line`). On FastCGI, SCGI and CGI the line is rebuilt from REQUEST_METHOD, REQUEST_URI and SERVER_PROTOCOL. The HTTP front\'s parser also refuses a whole head over 16 KiB (Node\'s `--max-http-header-size`) with 431 before this check. 0 = no limit.' }),
  def({ name: 'limitRequestFields', scope: 'listener', type: 'integer', default: DEFAULT_LIMITS.limitRequestFields, parse: integerIn(0, 32_768), cli: '--limit-request-fields', metavar: 'N',
    doc: 'Most request header fields; one more is answered 431 (gunicorn `--limit-request-fields`). On FastCGI, SCGI and CGI each HTTP_* variable counts as one field (repeated headers arrive joined; CONTENT_TYPE and CONTENT_LENGTH are not counted). 0 = no limit.' }),
  def({ name: 'limitRequestFieldSize', scope: 'listener', type: 'integer', default: DEFAULT_LIMITS.limitRequestFieldSize, parse: integerIn(0, 1_048_576), cli: '--limit-request-field-size', metavar: 'BYTES',
    doc: 'Longest request header line, counted as gunicorn does: name, `: `, value and CRLF; longer is answered 431 (gunicorn `--limit-request-field-size`). 0 = no limit.' }),
  def({ name: 'limitParamsSize', scope: 'listener', type: 'integer', default: 1_048_576, parse: parseByteSize, cli: '--limit-params-size', metavar: 'BYTES',
    doc: 'FastCGI and SCGI: most bytes of one request\'s FCGI_PARAMS or SCGI header block (all CGI variables and headers), the memory a request may hold before it runs. FastCGI answers a request over it 431 (the params are dropped as they come, not held), and closes a connection that holds more than twice it for requests not yet started; SCGI answers 431 and closes the connection. The default, 1 MiB, leaves room for limitRequestFields x limitRequestFieldSize; sizes as `1048576`, `64k`, `1m`.' }),
  def({ name: 'maxBodySize', scope: 'listener', type: 'integer', default: DEFAULT_LIMITS.maxBodySize, parse: parseByteSize, cli: '--max-body-size', metavar: 'BYTES',
    doc: 'Largest request body in bytes (`1048576`, `512k`, `1m` as nginx\'s client_max_body_size). A declared Content-Length over it is answered 413 before the app runs; a body without one (chunked, HTTP/2) fails the app\'s read at the limit and is answered 413 if the response has not begun. Default 0 = no limit, as gunicorn: tsgi streams the body to the app and never buffers it, so size costs the gateway no memory; behind nginx its client_max_body_size (1m by default) refuses first.' }),
  def({ name: 'bodyTimeout', scope: 'listener', type: 'seconds', default: 60, parse: seconds(false), cli: '--body-timeout', metavar: 'SECONDS',
    doc: 'A request whose body moves no byte for this long (a declared Content-Length never sent) is answered 408 if its response has not begun, else its connection is closed; on HTTP also a request whose app sends nothing for this long. FastCGI: a stalled FCGI_STDIN. 0 = never.' }),
  // Health checks for a load balancer in front of several hosts (gateway/health).
  def({ name: 'readyPath', scope: 'listener', type: 'string', default: undefined, parse: parseStatusPath, cli: '--ready-path', metavar: 'PATH',
    doc: 'Answer a readiness check at this URL path on this listener, for a load balancer\'s health check (HAProxy `option httpchk GET /ready`): `200 ready` while the server takes traffic, `503 draining` once it is stopping (SIGTERM/SIGINT), in every concurrency model. Any method, any client; the app never sees these requests. With scriptName, put it under the mount (`/app/ready`). Unset: off.' }),
  def({ name: 'drainDelay', scope: 'process', type: 'seconds', default: 0, parse: seconds(false), cli: '--drain-delay', metavar: 'SECONDS',
    doc: 'On SIGTERM or Ctrl-C, keep accepting and serving for this long while readyPath answers 503, then stop as gracefulTimeout says. Set it to a little more than the balancer needs to mark the host down (HAProxy: `inter` x `fall`), so no request reaches a host that has stopped accepting. 0 = stop accepting at once.' }),
];

/** Option by name (and by old name). */
export const OPTION_BY_NAME: ReadonlyMap<string, AnyOptionDef> = new Map(
  OPTIONS.flatMap((o) => [[o.name, o] as const, ...(o.aliases ?? []).map((a) => [a, o] as const)]),
);

/** The defaults, as a config. */
export function defaultServerConfig(): ServerConfig {
  const out: Record<string, unknown> = {};
  for (const o of OPTIONS) out[o.name] = o.default;
  return out as unknown as ServerConfig;
}

/** The options that choose a concurrency model; at most one may be set. */
export const MODE_OPTIONS = ['threading', 'forking', 'processPool', 'threadPool'] as const;

/** A concurrency model: `single` (inline on the event loop) or the mode option that is set. */
export type ModeName = 'single' | (typeof MODE_OPTIONS)[number];

/** A mode option counts as set when it is true or a number above 0: `threadPool = 0` means off. */
export function modeIsSet(value: unknown): boolean {
  return value === true || (typeof value === 'number' && value > 0);
}

/** The concurrency model a (validated) config asks for. */
export function modeOf(config: ServerConfig): ModeName {
  for (const m of MODE_OPTIONS) if (modeIsSet(config[m])) return m;
  return 'single';
}

/** True for the options a `[server:NAME]` section may set (scope `listener`). */
export function isListenerOption(name: OptionName): boolean {
  return OPTIONS.find((o) => o.name === name)?.scope === 'listener';
}

/** The `[server:NAME]` section header: NAME is letters, digits, `_` and `-` (a `.` would nest in INI). */
export const LISTENER_SECTION_RE = /^server:([A-Za-z0-9_-]+)$/;
