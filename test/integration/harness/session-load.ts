/**
 * A bounded session-writing load for the scale-out deployment: `users` virtual users, each with its own
 * session cookie, send `PUT /session?seq=N` one after another (N = 1, 2, ...) until `requests` were sent in
 * all. A failed request (network error or non-200) is counted and the same N is sent again, as a client
 * would. A session is lost when the server stops knowing it: a new session cookie for a user who had one, or
 * a session whose count is not the number of writes the user saw acknowledged. The check at the end reads
 * every session back.
 */
import http from 'node:http';

/** Options of runSessionLoad. */
export interface LoadOptions {
  /** Base URL (nginx or HAProxy). */
  url: string;
  users: number;
  /** Requests in all (the bound). */
  requests: number;
  /** No new request after this many ms (a bound in time besides the count). Default: none. */
  deadlineMs?: number;
  /** Per-request limit, ms (above the session lock's stale time). Default 60 s. */
  timeoutMs?: number;
  /** Called after each answered request (for kill/term triggers and "first served by" times). */
  onResponse?: (sent: number, host: string | undefined) => void;
}

/** What a run measured. */
export interface LoadResult {
  sent: number;
  ok: number;
  failed: number;
  /** The first few failure reasons, for the report. */
  failures: string[];
  /** Users whose session was lost (new cookie, or a count that skipped acknowledged writes). */
  lostSessions: number;
  lost: string[];
  /** Answered requests by host label. */
  byHost: Record<string, number>;
  ms: number;
}

interface Reply {
  status: number;
  body: string;
  setCookie: string | undefined;
}

function send(agent: http.Agent, url: string, method: string, cookie: string | undefined, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, timeout: timeoutMs, headers: cookie === undefined ? {} : { Cookie: cookie } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, setCookie: res.headers['set-cookie']?.[0] }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Run the load; resolves when every request is answered or failed, and every session was read back. */
export async function runSessionLoad(opts: LoadOptions): Promise<LoadResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.users });
  const r: LoadResult = { sent: 0, ok: 0, failed: 0, failures: [], lostSessions: 0, lost: [], byHost: {}, ms: 0 };
  const t0 = Date.now();
  const lose = (user: number, why: string): void => {
    r.lostSessions++;
    if (r.lost.length < 10) r.lost.push(`user ${user}: ${why}`);
  };
  const user = async (u: number): Promise<{ cookie: string | undefined; acked: number; lost: boolean }> => {
    let cookie: string | undefined;
    let acked = 0;
    let lost = false;
    while (r.sent < opts.requests && (opts.deadlineMs === undefined || Date.now() - t0 < opts.deadlineMs)) {
      r.sent++;
      const seq = acked + 1;
      let reply: Reply;
      try {
        reply = await send(agent, `${opts.url}/session?seq=${seq}`, 'PUT', cookie, timeoutMs);
      } catch (err) {
        r.failed++;
        if (r.failures.length < 10) r.failures.push(`PUT seq ${seq}: ${(err as Error).message}`);
        continue;
      }
      if (reply.status !== 200) {
        r.failed++;
        if (r.failures.length < 10) r.failures.push(`PUT seq ${seq}: ${reply.status} ${reply.body.slice(0, 200)}`);
        opts.onResponse?.(r.sent, undefined);
        continue;
      }
      const body = JSON.parse(reply.body) as { host: string; last: number; count: number };
      r.ok++;
      r.byHost[body.host] = (r.byHost[body.host] ?? 0) + 1;
      if (reply.setCookie !== undefined) {
        if (cookie !== undefined && !lost) {
          lost = true;
          lose(u, `a new session id at write ${seq} (from ${body.host})`);
        }
        cookie = reply.setCookie.split(';')[0];
      }
      if (!lost && (body.last !== seq || body.count !== seq)) {
        lost = true;
        lose(u, `write ${seq} on ${body.host} found last ${body.last}, count ${body.count}`);
      }
      acked = seq;
      opts.onResponse?.(r.sent, body.host);
    }
    return { cookie, acked, lost };
  };
  const users = await Promise.all(Array.from({ length: opts.users }, (_x, u) => user(u)));
  // Read every session back (any host): each must hold every acknowledged write.
  for (const [u, s] of users.entries()) {
    if (s.lost || s.cookie === undefined) continue;
    let ok = false;
    let why = '';
    for (let attempt = 0; attempt < 3 && !ok; attempt++) {
      try {
        const reply = await send(agent, `${opts.url}/session`, 'GET', s.cookie, timeoutMs);
        const body = JSON.parse(reply.body) as { last: number; count: number };
        ok = reply.status === 200 && reply.setCookie === undefined && body.last === s.acked && body.count === s.acked;
        why = `read back: ${reply.status}, last ${body.last}, count ${body.count}, ${s.acked} acknowledged${reply.setCookie !== undefined ? ', new cookie' : ''}`;
      } catch (err) {
        why = `read back failed: ${(err as Error).message}`;
      }
    }
    if (!ok) lose(u, why);
  }
  agent.destroy();
  r.ms = Date.now() - t0;
  return r;
}
