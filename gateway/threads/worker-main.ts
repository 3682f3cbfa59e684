/**
 * The entry point of a pool thread. It loads the app (a fresh module graph: that is what makes reload pick
 * up new code), then serves one request at a time with the same InlineDispatcher as single mode -- same
 * environ, same header validation, same framing -- with `tsgi.multithread = true`, a body source fed by the
 * input channel (readSync blocks this thread only) and a sink that posts the response to the main thread.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import type { App } from '../../app-api/types.js';
import { applyFeatures, type FeatureName } from '../features.js';
import { loadApp } from '../app-loader.js';
import { InlineDispatcher } from '../core/dispatch.js';
import { importAppModule, ProcessLifecycle } from '../lifecycle/process-lifecycle.js';
import { ErrorLog } from '../core/log.js';
import { BatchClaim } from './batch-claim.js';
import { decodeCgi, type FromWorker, type RequestSpec, type ToWorker, type WorkerBoot } from './channel.js';
import { ProxySink } from './response-proxy.js';
import { installCachePort, sharedCache } from './shared-cache.js';
import { applyTools } from '../tools/apply.js';
import { InputReader } from './sync-input.js';

const boot = workerData as WorkerBoot;
const port = parentPort!;
const post = (msg: FromWorker, transfer?: ArrayBuffer[]): void => port.postMessage(msg, transfer);

// One error log for the whole server: the thread's lines are written by the main thread's log.
const log = new ErrorLog({ write: (line: string) => post({ t: 'log', line }) }, `tsgi thread ${threadId}`);

installCachePort(boot.cachePort, boot.cacheEpoch);
const input = new InputReader(boot.inputPort, boot.inputSignal, boot.window);

async function load(): Promise<App> {
  // Middleware switched on in the config (xmlRpc, ...) is looked up here by name: functions do not cross threads.
  const app = applyFeatures(await loadApp(boot.app, boot.cwd), boot.features as FeatureName[]);
  // The tools keep per-process state (the response cache) in the pool's shared cache.
  return applyTools(app, boot.tools, { mode: boot.mode === 'perRequest' ? 'threading' : 'threadPool', warn: (m) => log.log('warn', m), sharedCache: sharedCache() });
}

let app: App;
let lifecycle: ProcessLifecycle;
try {
  app = await load();
  // Each thread has its own module instance, so its own setup(engine) and start/stop listeners.
  lifecycle = await ProcessLifecycle.begin(await importAppModule(boot.app, boot.cwd), { log, appConfig: boot.appConfig, multiprocess: boot.multiprocess });
} catch (err) {
  post({ t: 'loadError', message: (err as Error)?.message ?? String(err), code: (err as { code?: string })?.code });
  // Let the message go out before the thread ends.
  setImmediate(() => process.exit(1));
  await new Promise(() => {});
  throw err;
}

const dispatcher = new InlineDispatcher(app, { log, appConfig: boot.appConfig, multiprocess: boot.multiprocess, multithread: true });
const claim = new BatchClaim(boot.batchClaim);
let current: ProxySink | null = null;
let batch: RequestSpec[] = [];

/** Serve request `index` of the batch; when it is done, take the next one unless the main thread took it back. */
function serve(index: number): void {
  const [id, cgi, hasBody, extra] = batch[index];
  const sink = new ProxySink(id, post, boot.window);
  current = sink;
  const source = input.begin(id);
  const done = dispatcher.dispatch({ cgi: decodeCgi(cgi), body: hasBody ? source.body : null, bodySync: hasBody ? source.bodySync : undefined, extra, clientGone: sink.clientGone }, sink);
  if (done === undefined) next(sink, index);
  else done.then(() => next(sink, index), () => next(sink, index));
}

function next(sink: ProxySink, index: number): void {
  // Take the next request before telling the main thread this one is done: once it reads "done" without
  // "more", it may reuse the claim counter for a new batch.
  const more = claim.take(index + 1, batch.length);
  sink.finished(more);
  if (more) serve(index + 1); // recursion depth is bounded by the batch size
}

port.on('message', (m: ToWorker) => {
  if (m.t === 'req') {
    batch = m.batch;
    serve(0);
  } else if (m.t === 'stop') {
    // Only sent to an idle thread: nothing is in flight, so there is nothing to drain.
    void lifecycle.end(m.reason, async () => {}).finally(() => process.exit(0));
  } else if (current !== null && current.id === m.id) {
    current.control(m);
  }
});

post({ t: 'ready' });
