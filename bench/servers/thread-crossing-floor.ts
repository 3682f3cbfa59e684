/**
 * Bench floor for the thread pool: what the crossing alone costs. A bare node:http server on the main thread
 * posts each request's id to an idle worker thread (the most recently used first, a FIFO queue when all are
 * busy, as gateway/threads/scheduler.ts does) and the thread posts it straight back; the main thread then
 * answers the same bytes as examples/hello. No environ, no app, no validation, no batching: one MessagePort
 * message each way per request, the least a pool whose threads run the app can do with Node's thread
 * primitives (a socket cannot be handed to a worker thread). threadPool=N is measured against it in
 * bench/modes.ts. Prints {"url"} when ready.
 *
 *     node dist/bench/servers/thread-crossing-floor.js THREADS
 */
import http from 'node:http';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { ready, untilSignal } from '../measure.js';

if (!isMainThread) {
  const port = parentPort!;
  port.on('message', (id: number) => port.postMessage(id));
} else {
  const threads = Number(process.argv[2] ?? '2');
  const body = 'Hello, world!\n';
  const head = { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(body.length) };
  const waiting = new Map<number, http.ServerResponse>();
  const idle: Worker[] = [];
  const queue: number[] = [];
  const workers: Worker[] = [];
  let nextId = 1;
  for (let i = 0; i < threads; i++) {
    const w = new Worker(new URL(import.meta.url));
    w.on('message', (id: number) => {
      const res = waiting.get(id)!;
      waiting.delete(id);
      res.writeHead(200, head);
      res.end(body);
      const queued = queue.shift();
      if (queued !== undefined) w.postMessage(queued);
      else idle.push(w);
    });
    await new Promise<void>((resolve) => w.once('online', resolve));
    workers.push(w);
    idle.push(w);
  }
  const server = http.createServer((_req, res) => {
    const id = nextId++;
    waiting.set(id, res);
    const w = idle.pop();
    if (w !== undefined) w.postMessage(id);
    else queue.push(id);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  ready(`http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`);
  await untilSignal();
  server.close();
  await Promise.all(workers.map((w) => w.terminate()));
  process.exit(0);
}
