/** Bench baseline: raw fastify answering the same bytes as examples/hello. Prints {"url"} when ready. */
import Fastify from 'fastify';
import { ready, untilSignal } from '../measure.js';

const body = Buffer.from('Hello, world!\n');
const fastify = Fastify({ logger: false });
fastify.get('/', (_request, reply) => {
  reply.header('Content-Type', 'text/plain; charset=utf-8').send(body);
});
await fastify.listen({ host: '127.0.0.1', port: 0 });
const addr = fastify.server.address();
ready(`http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`);
await untilSignal();
await fastify.close();
process.exit(0);
