/**
 * One fastify server with three apps side by side: a fastify route, a tsgi app mounted with the tsgiFastify
 * plugin at /tsgi (SCRIPT_NAME=/tsgi), and the express app of express-app.ts mounted at /express (through
 * fromNode, then the same plugin).
 *
 *     npm run build && node dist/examples/bridge/fastify-mount.js     # then curl localhost:8080/tsgi/x
 */
import Fastify from 'fastify';
import { tsgiFastify } from '../../bridge.js';
import type { App } from '../../app-api/types.js';
import { app as expressApp } from './express-app.js';

/** A tsgi app that says where it is mounted. */
export const hello: App = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [`tsgi app: SCRIPT_NAME=${environ.SCRIPT_NAME} PATH_INFO=${environ.PATH_INFO}\n`];
};

/** Build the fastify server (not listening). */
export async function build(): Promise<ReturnType<typeof Fastify>> {
  const fastify = Fastify();
  fastify.get('/', async () => ({ from: 'fastify' }));
  await fastify.register(tsgiFastify, { app: hello, prefix: '/tsgi' });
  await fastify.register(tsgiFastify, { app: expressApp, prefix: '/express' });
  return fastify;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const fastify = await build();
  await fastify.listen({ port: Number(process.env.PORT ?? 8080) });
  process.stderr.write(`fastify with tsgi and express mounted on ${fastify.server.address() !== null ? JSON.stringify(fastify.server.address()) : ''}\n`);
}
