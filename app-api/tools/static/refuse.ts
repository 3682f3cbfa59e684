/** The one answer for a static path that must never be served: 403, logged with the reason to tsgi.errors. */
import type { Body, Environ, StartResponse } from '../../types.js';

const TEXT = 'Forbidden\n';

/** Answer 403 and say in the error log which path was refused and why (traversal attempts are worth seeing). */
export function refuse(environ: Environ, startResponse: StartResponse, tool: string, reason: string): Body {
  environ['tsgi.errors'].write(`${tool}: refused ${JSON.stringify(environ.PATH_INFO)}: ${reason}\n`);
  startResponse('403 Forbidden', [['Content-Type', 'text/plain; charset=utf-8'], ['Content-Length', String(TEXT.length)]]);
  return [TEXT];
}
