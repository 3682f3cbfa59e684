/**
 * `tsgi check --probe URL`: serve the INI's listener for one request with the probe app (probe-app.ts),
 * send a request to URL through the running front, and report what tsgi saw next to what the client sent:
 * REMOTE_ADDR, scheme, Host, the SCRIPT_NAME / PATH_INFO split, the protocol, and whether the front
 * buffered the response. The probe listens where the INI says, so the real server must be stopped (or the
 * INI copied with the front's upstream address) while it runs; it answers nothing but the one request
 * carrying its random nonce, and sends none of what it saw back over the wire.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { compileTrust } from '../../adapters/proxy/trust.js';
import { ErrorLog } from '../core/log.js';
import type { Config, Listener } from '../config/resolve.js';
import { serve, type Running } from '../serve.js';
import { app as probeApp, expectProbe, FIRST_PART, type ProbeSeen } from './probe-app.js';
import type { CheckTarget, Finding, FrontRenderer } from './types.js';

/** The path appended to the probe URL: the request the app must see under the mount. */
export const PROBE_PATH = 'tsgi-check-probe';

/** Options of runProbe. */
export interface ProbeOptions {
  config: Config;
  target: CheckTarget;
  front: FrontRenderer;
  url: string;
  /** The listener to serve (`server` for `[server]`). */
  listener: string;
  /** Local address to send from; default: 127.0.0.2 for a loopback URL, so the client is not the front. */
  from?: string;
  /** How long the app waits for the client to get the first part before deciding the front buffers. */
  bufferWaitMs?: number;
  /** Bound on the whole request. */
  timeoutMs?: number;
}

/** What the probe found. */
export interface ProbeReport {
  /** The report lines (`probe: ...`, `tsgi saw: ...`). */
  lines: string[];
  findings: Finding[];
  seen?: ProbeSeen;
  /** tsgi's own log lines while the probe ran (a refused PROXY header, a malformed record...). */
  log: string;
}

/** The config of the probe server: the one listener, inline (the app must run in this process), no side effects. */
function probeConfig(config: Config, listener: Listener): Config {
  const server = { ...listener.server, threading: false, forking: false, processPool: 0, threadPool: 0, pidFile: undefined, reload: false, errorLog: '-', statusPath: undefined, metricsListen: undefined, middleware: '', xmlRpc: false, interface: 'tsgi' as const, gracefulTimeout: 1 };
  return { server, app: config.app, sources: listener.sources, file: config.file, listeners: [{ ...listener, server }] };
}

function defaultFrom(url: URL): string | undefined {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // A client on 127.0.0.2 tells the client apart from a front that connects to tsgi from 127.0.0.1.
  return /^127\./.test(host) && host !== '127.0.0.2' ? '127.0.0.2' : undefined;
}

interface Sent {
  status: number;
  clientAddr: string;
}

/** Send the probe request; `arrived` is called when the first part of the answer is in. */
function send(url: URL, nonce: string, from: string | undefined, timeoutMs: number, arrived: () => void): Promise<Sent> {
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { method: 'GET', headers: { 'X-Tsgi-Probe': nonce }, localAddress: from, timeout: timeoutMs, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (text.includes(FIRST_PART)) arrived();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, clientAddr: res.socket?.localAddress ?? req.socket?.localAddress ?? '' }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function decodedPath(url: URL): string {
  try {
    return decodeURIComponent(url.pathname);
  } catch {
    return url.pathname;
  }
}

/** Compare what tsgi saw with what the client sent. */
function compare(t: CheckTarget, front: FrontRenderer, url: URL, sent: Sent, seen: ProbeSeen, streamed: boolean, waitMs: number): Finding[] {
  const out: Finding[] = [];
  const path = decodedPath(url);
  const split = `SCRIPT_NAME ${JSON.stringify(seen.SCRIPT_NAME)} and PATH_INFO ${JSON.stringify(seen.PATH_INFO)}`;
  const whole = seen.SCRIPT_NAME + seen.PATH_INFO;
  // With fastcgi/scgi and no scriptName, the front's split is the mount; otherwise scriptName is.
  const mountKnown = t.mount !== '' || t.protocol === 'http';
  if (mountKnown && seen.SCRIPT_NAME !== t.mount) {
    let why: string;
    if (seen.SCRIPT_NAME === path && seen.PATH_INFO === '') why = `the front sends the whole path as SCRIPT_NAME; set scriptName = ${t.mount === '' ? '/PREFIX' : t.mount} in ${t.section} so tsgi splits it`;
    else if (whole !== path) why = 'the front changed the path (a proxy_pass / ProxyPass with another path); pass the path unchanged, or strip the prefix and trust x-forwarded-prefix';
    else why = `the front splits the path at ${JSON.stringify(seen.SCRIPT_NAME)}; make it split at the mount`;
    out.push({ level: 'error', text: `wrong SCRIPT_NAME split: for the path ${path} the app got ${split}, but it is mounted at ${JSON.stringify(t.mount)} (scriptName of ${t.section}); ${why}` });
  } else if (!seen.PATH_INFO.endsWith(`/${PROBE_PATH}`)) {
    // The probe's last segment is inside the app whatever the mount: it belongs in PATH_INFO.
    const prefix = path.slice(0, -(PROBE_PATH.length + 1)) || '/PREFIX';
    const why = seen.SCRIPT_NAME.endsWith(`/${PROBE_PATH}`) ? `the front sends the whole path as SCRIPT_NAME (PHP's $fastcgi_script_name?); pass PATH_INFO, or set scriptName = ${prefix} in ${t.section} so tsgi splits it` : 'the front changed the path';
    out.push({ level: 'error', text: `wrong SCRIPT_NAME split: for the path ${path} the app got ${split}; ${why}` });
  } else if (whole !== path) {
    out.push({ level: 'error', text: `wrong SCRIPT_NAME split: for the path ${path} the app got ${split}, which do not add up to the path; the front changed it` });
  } else out.push({ level: 'ok', text: `SCRIPT_NAME split: ${split} for ${path}` });

  if (seen.REMOTE_ADDR === sent.clientAddr) out.push({ level: 'ok', text: `REMOTE_ADDR: ${seen.REMOTE_ADDR}, the client` });
  else if (t.protocol === 'http' || t.proxyProtocol) {
    if (seen.proxyAddr === undefined && !compileTrust(t.trustedProxies)(seen.REMOTE_ADDR)) {
      out.push({ level: 'error', text: `proxy not trusted: tsgi got the request from ${seen.REMOTE_ADDR || 'a unix socket'}, which is not in trustedProxies (${t.trustedProxies}) of ${t.section}, so REMOTE_ADDR is the front, not the client ${sent.clientAddr}; add ${seen.REMOTE_ADDR || 'unix'} to trustedProxies` });
    } else if (seen.proxyAddr === undefined) {
      out.push({ level: 'error', text: `forwarded headers missing: the front ${seen.REMOTE_ADDR} is trusted but sent no client address tsgi reads (trustedProxyHeaders: ${[...t.trustedHeaders].join(', ') || 'none'}), so REMOTE_ADDR is the front, not the client ${sent.clientAddr}; ${front.hint.forwardedFor ?? 'set X-Forwarded-For'}` });
    } else {
      out.push({ level: 'error', text: `REMOTE_ADDR is ${seen.REMOTE_ADDR}, not the client ${sent.clientAddr} (the front ${seen.proxyAddr} forwards another address: is a second proxy in between? add it to trustedProxies)` });
    }
  } else {
    out.push({ level: 'error', text: `REMOTE_ADDR is ${seen.REMOTE_ADDR}, not the client ${sent.clientAddr}: the front passes another address; ${front.hint.remoteAddr ?? 'pass REMOTE_ADDR from the client connection'}` });
  }

  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  if (seen.urlScheme === scheme) out.push({ level: 'ok', text: `scheme: ${scheme}` });
  else out.push({ level: 'error', text: `scheme: the client used ${scheme} but the app sees ${seen.urlScheme}; ${front.hint.forwardedProto ?? 'forward the scheme'}${t.protocol === 'http' ? ', with x-forwarded-proto in trustedProxyHeaders' : ''}` });

  if (seen.HTTP_HOST === url.host) out.push({ level: 'ok', text: `Host: ${url.host}` });
  else out.push({ level: 'warn', text: `Host: the client asked for ${url.host} but the app sees HTTP_HOST ${JSON.stringify(seen.HTTP_HOST ?? '')}; links the app builds point elsewhere; ${front.hint.host ?? 'pass the Host header on'}` });

  if (t.protocolWritten !== 'auto' && seen.protocol !== t.protocol) out.push({ level: 'error', text: `protocol: the request came in over ${seen.protocol}, but ${t.section} speaks ${t.protocol}` });

  if (streamed) out.push({ level: 'ok', text: 'buffering: off (the first part of the answer reached the client while the app waited)' });
  else out.push({ level: 'warn', text: `buffering: on: the front held the first part of the answer until the app finished (waited ${waitMs / 1000} s), so streamed responses and server-sent events arrive at once; ${front.hint.buffering ?? 'turn response buffering off'}` });
  return out;
}

/** Run the probe (see the module comment). Never throws for what it can report; the server is always stopped. */
export async function runProbe(o: ProbeOptions): Promise<ProbeReport> {
  const url = new URL(o.url);
  url.pathname = url.pathname.replace(/\/?$/, '/') + PROBE_PATH;
  const from = o.from ?? defaultFrom(url);
  const waitMs = o.bufferWaitMs ?? 5000;
  const listener = (o.config.listeners ?? []).find((l) => l.name === o.listener);
  let logText = '';
  const log = new ErrorLog({ write: (s: string) => (logText += s) }, 'tsgi-check');
  const lines: string[] = [];
  if (listener === undefined) return { lines, findings: [{ level: 'error', text: `no listener ${o.listener}` }], log: logText };
  let running: Running | undefined;
  try {
    running = await serve({ config: probeConfig(o.config, listener), app: { spec: 'tsgi check probe', module: fileURLToPath(new URL('./probe-app.js', import.meta.url)), exportName: 'app', factory: false }, log });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const busy = e.code === 'EADDRINUSE' || /in use|answers/.test(e.message);
    return {
      lines,
      findings: [{ level: 'error', text: `probe: cannot serve ${o.target.section} for the probe (${e.code ?? ''} ${e.message})${busy ? '; the probe listens where the INI says: stop the tsgi server for the check (the front stays up)' : ''}` }],
      log: logText,
    };
  }
  const nonce = randomBytes(16).toString('hex');
  let seen: ProbeSeen | undefined;
  // What the app found: did the first part reach the client while the app waited?
  let streamed = false;
  let arrived!: () => void;
  const arrival = new Promise<boolean>((resolve) => (arrived = () => resolve(true)));
  const stop = expectProbe(nonce, {
    saw: (s) => (seen = s),
    firstPartArrived: () => {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), waitMs)));
      return Promise.race([arrival, waited]).then((got) => {
        clearTimeout(timer);
        streamed = got;
        return got;
      });
    },
  });
  try {
    const sent = await send(url, nonce, from, o.timeoutMs ?? 30_000, () => arrived());
    lines.push(`probe: GET ${url.href} from ${sent.clientAddr || '(unknown)'} through ${o.front.name} -> ${sent.status}`);
    if (seen === undefined) {
      const why = sent.status === 502 || sent.status === 503 ? `: the front could not reach tsgi at ${o.target.upstream.kind === 'unix' ? o.target.upstream.path : `${o.target.upstream.host}:${o.target.upstream.port}`} (see tsgi's log below; a PROXY header missing or a protocol the listener does not speak closes the connection)` : ': the URL does not lead to this listener (another location, host or port?)';
      return { lines, findings: [{ level: 'error', text: `probe: the request never reached the app, the front answered ${sent.status}${why}` }], log: logText };
    }
    lines.push(`tsgi saw: protocol=${seen.protocol} REMOTE_ADDR=${seen.REMOTE_ADDR} scheme=${seen.urlScheme} SCRIPT_NAME=${JSON.stringify(seen.SCRIPT_NAME)} PATH_INFO=${JSON.stringify(seen.PATH_INFO)} HTTP_HOST=${seen.HTTP_HOST ?? ''}${seen.proxyAddr !== undefined ? ` proxy=${seen.proxyAddr || 'unix'}` : ''}`);
    const findings = compare(o.target, o.front, url, sent, seen, streamed, waitMs);
    if (sent.status !== 200) findings.push({ level: 'error', text: `probe: the front answered ${sent.status} where the app answered 200` });
    return { lines, findings, seen, log: logText };
  } catch (err) {
    return { lines, findings: [{ level: 'error', text: `probe: ${url.href}${from !== undefined && isIP(from) !== 0 ? ` from ${from}` : ''}: ${(err as Error).message}` }], log: logText };
  } finally {
    stop();
    await running.close(1000);
  }
}
