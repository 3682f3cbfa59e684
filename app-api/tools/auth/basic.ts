/**
 * `basicAuth(app, { realm, users })` / `tools.auth_basic.*`: HTTP Basic authentication (RFC 7617). Users come
 * from an htpasswd file (see ./htpasswd.ts for the hashes) or a function in code. On success the app sees
 * REMOTE_USER and AUTH_TYPE=Basic; otherwise the answer is 401 with `WWW-Authenticate: Basic realm=...,
 * charset="UTF-8"`, and a failed attempt is logged to tsgi.errors (user name only, never the password).
 * Basic sends the password in clear: serve it over HTTPS.
 */
import type { App, Environ } from '../../types.js';
import type { ToolContext, ToolDef } from '../tool-def.js';
import { authenticated, quote, unauthorized } from './challenge.js';
import { loadHtpasswd, verifyHash } from './htpasswd.js';

/** Checks a user's password; true lets the request through. */
export type BasicCheck = (user: string, password: string) => boolean | Promise<boolean>;

/** Options of basicAuth(). */
export interface BasicAuthOptions {
  realm: string;
  /** An htpasswd file path, or a function that checks a user's password. */
  users: string | BasicCheck;
  /** Startup warnings (plain-text passwords in the file). Default: console.warn. */
  warn?: (message: string) => void;
}

/** The user name and password of a Basic Authorization header, or null when it is not one. */
export function parseBasic(header: string | undefined): { user: string; password: string } | null {
  if (header === undefined) return null;
  const m = /^Basic[ \t]+([A-Za-z0-9+/]+=*)[ \t]*$/i.exec(header);
  if (m === null) return null;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return null;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Wrap `app` so only users who give a valid password reach it. */
export function basicAuth(app: App, opts: BasicAuthOptions): App {
  const warn = opts.warn ?? ((m: string) => console.warn(m));
  let check: BasicCheck;
  if (typeof opts.users === 'string') {
    const table = loadHtpasswd(opts.users, warn);
    check = (user, password) => {
      const hash = table.get(user);
      return hash === undefined ? false : verifyHash(hash, password);
    };
  } else check = opts.users;
  const challenge = [`Basic realm=${quote(opts.realm)}, charset="UTF-8"`];

  async function guarded(environ: Environ, startResponse: Parameters<App>[1]) {
    const creds = parseBasic(typeof environ.HTTP_AUTHORIZATION === 'string' ? environ.HTTP_AUTHORIZATION : undefined);
    if (creds === null) return unauthorized(startResponse, challenge);
    if (!(await check(creds.user, creds.password))) {
      environ['tsgi.errors'].write(`auth_basic: wrong password or unknown user ${JSON.stringify(creds.user)} for ${environ.SCRIPT_NAME}${environ.PATH_INFO}\n`);
      return unauthorized(startResponse, challenge);
    }
    return app(authenticated(environ, creds.user, 'Basic'), startResponse);
  }
  return function basicAuthApp(environ, startResponse) {
    return guarded(environ, startResponse);
  };
}

/** `tools.auth_basic.*` options as the INI reads them. */
export interface BasicAuthToolOptions {
  realm: string;
  users_file: string;
}

/** The INI tool `tools.auth_basic.*`. */
export const basicAuthTool: ToolDef<BasicAuthToolOptions> = {
  name: 'auth_basic',
  doc: 'HTTP Basic authentication against an htpasswd file (bcrypt, $apr1$, {SHA}, plain); sets REMOTE_USER.',
  options: {
    realm: { type: 'string', doc: 'The realm the browser shows in its login prompt.' },
    users_file: { type: 'path', doc: 'An htpasswd file: user:hash lines (bcrypt $2y$, $apr1$, {SHA}, or plain text with a warning).' },
  },
  create(app, o, ctx: ToolContext) {
    return basicAuth(app, { realm: o.realm, users: o.users_file, warn: (m) => ctx.warn(m) });
  },
};
