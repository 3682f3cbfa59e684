/**
 * `tsgiFastify`: a fastify plugin that mounts a tsgi app at the plugin's prefix inside an existing fastify
 * server, beside the server's own routes (and, through fromNode, beside an express app):
 *
 *     fastify.register(tsgiFastify, { app, prefix: '/legacy' });
 *
 * The prefix becomes SCRIPT_NAME, the rest of the path PATH_INFO. The plugin is encapsulated (not wrapped
 * with fastify-plugin): its "no body parsing" rule (the raw request stream is tsgi.input) holds for its own
 * routes only, and the parent's content-type parsers stay as they were.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../app-api/types.js';
import { decodePath } from '../../gateway/core/environ.js';
import { InlineDispatcher } from '../../gateway/core/dispatch.js';
import { ErrorLog } from '../../gateway/core/log.js';
import { dispatchNode } from './dispatch-node.js';

/** Options of the plugin (besides fastify's own `prefix`). */
export interface TsgiFastifyOptions {
  /** The tsgi app to mount. */
  app: App;
  /** Where errors of the app are logged (default stderr). */
  log?: ErrorLog;
  /** `tsgi.app_config`. */
  appConfig?: Readonly<Record<string, string>>;
}

/** The plugin. Register it with a `prefix`; without one the app takes every path of the server. */
export async function tsgiFastify(fastify: FastifyInstance, opts: TsgiFastifyOptions): Promise<void> {
  const log = opts.log ?? new ErrorLog();
  const dispatcher = new InlineDispatcher(opts.app, { log, appConfig: opts.appConfig });
  const scriptName = decodePath(fastify.prefix);
  fastify.addHook('onClose', () => dispatcher.close());

  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (_req, _payload, done) => done(null));

  const handler = (request: FastifyRequest, reply: FastifyReply): void | Promise<void> => {
    reply.hijack();
    return dispatchNode(dispatcher, log, request.raw, reply.raw, scriptName);
  };
  const methods = (fastify as unknown as { supportedMethods: string[] }).supportedMethods;
  fastify.route({ method: methods, url: '/', handler });
  fastify.route({ method: methods, url: '/*', handler });
}
