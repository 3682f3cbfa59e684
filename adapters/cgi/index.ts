/** The CGI front: one process per request (Apache mod_cgi, lighttpd mod_cgi, shared hosting). */
export { runCgi, stderrLog, type RunCgiOptions } from './run.js';
export { main } from './main.js';
export { cgiVarsFromEnv, checkPathEncoding, RFC3875_VARS, EXTENSION_VARS } from './env.js';
export { FdBody } from './stdin.js';
export { FdSink } from './sink.js';
export { StdoutWriter, writeAllSync, SYNC_BUDGET } from './stdout.js';
export { cgiResponseHead } from './response-head.js';
