/**
 * One request from a Node server into the core: CGI variables by cgiFromHttp, the app run by a Dispatcher,
 * the response written by the built-in server's sinks. The piece toNode and the fastify plugin share.
 *
 * `tsgi.client_gone` is wired as on the built-in server (adapters/http/client-gone.ts): an HTTP/1 request's
 * socket 'end' or 'close', an HTTP/2 request's stream 'close', before the response is done; the dispatcher
 * settles it once the response is, so the ordinary close of a finished connection aborts nothing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { isTsgiError } from '../../app-api/errors.js';
import { cgiFromHttp } from '../../gateway/core/environ.js';
import type { Dispatcher } from '../../gateway/core/dispatch.js';
import type { ErrorLog } from '../../gateway/core/log.js';
import type { ResponseSink } from '../../gateway/core/sink.js';
import { http1ClientGone, http2ClientGone } from '../http/client-gone.js';
import { Http1Sink, Http2Sink } from '../http/sink.js';
import { headFromNode, isHttp2Request, nodeHasBody } from '../http/request-head.js';
import { RequestRules } from '../http/request-rules.js';

/** The RFC refusals of the built-in server, and the HTTP/1 connections that end after one (request-rules.ts). */
const rules = new RequestRules();

/** Serve `req` with the dispatcher's app mounted at `scriptName` (a decoded path, '' for the root). */
export function dispatchNode(
  dispatcher: Dispatcher,
  log: ErrorLog,
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
  scriptName: string,
  url?: string,
): void | Promise<void> {
  const http2 = isHttp2Request(req);
  if (rules.followsRefusal(req, http2)) return; // what followed a refused request: the close ends it
  const head = headFromNode(req, url);
  let cgi;
  try {
    rules.check(head, req, res, http2); // as the built-in server: the connection ends after a refusal
    cgi = cgiFromHttp(head, { scriptName });
  } catch (err) {
    if (!isTsgiError(err)) throw err;
    log.log('warn', `refused ${head.method} ${head.url.slice(0, 200)}`, err);
    const body = Buffer.from(err.status === 404 ? 'Not Found\n' : err.status === 505 ? 'HTTP Version Not Supported\n' : 'Bad Request\n');
    res.writeHead(err.status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(body.length) });
    res.end(body);
    return;
  }
  const sink: ResponseSink = http2 ? new Http2Sink(res as Http2ServerResponse) : new Http1Sink(res as ServerResponse);
  const clientGone = http2 ? http2ClientGone(req as Http2ServerRequest) : http1ClientGone(req as IncomingMessage);
  return dispatcher.dispatch({ cgi, body: nodeHasBody(req) ? (req as AsyncIterable<Buffer>) : null, clientGone }, sink);
}
