/**
 * The entry point of a pool thread. It loads the app (a fresh module graph: that is what makes reload pick
 * up new code), then serves one request at a time with the same InlineDispatcher as single mode -- same
 * environ, same header validation, same framing -- with `tsgi.multithread = true`, a body source fed by the
 * input channel (readSync blocks this thread only) and a sink that posts the response to the main thread.
 * Batches of requests arrive through handoff.ts.
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
import { HandoffReceiver } from './handoff.js';
import { ProxySink } from './response-proxy.js';
import { installCachePort, sharedCache } from './shared-cache.js';
import { applyTools } from '../tools/apply.js';
import { InputReader } from './sync-input.js';

const boot = workerData as WorkerBoot;
const port = parentPort!;
/**
 * While a batch is served synchronously, its messages (responses, "done", log lines) are collected and go
 * to the main thread together when the batch ends (`sendCollected`): the main thread pays one message
 * callback per batch instead of one per response. Anything posted from the event loop goes at once.
 * What is collected goes out at the latest at the first request boundary after the clock's millisecond
 * changed, so a request that hangs the thread (until the pool's time limit ends it) holds back at most
 * about a millisecond of finished responses, and the main thread's view of which request runs (its time
 * limit, its take-back of a stalled batch) lags by no more.
 */
let collected: FromWorker[] | null = null;
let collectedSince = 0;
let collectedTransfer: ArrayBuffer[] | undefined;
const post = (msg: FromWorker, transfer?: ArrayBuffer[]): void => {
  // Log lines go at once: one written just before a request hangs the thread must not die with it.
  if (collected === null || msg.t === 'log') return port.postMessage(msg, transfer);
  collected.push(msg);
  if (transfer !== undefined) (collectedTransfer ??= []).push(...transfer);
};

/** Start collecting (the batch loop), or start again after sending what was collected. */
function collect(): void {
  collected = [];
  collectedSince = Date.now();
}

function sendCollected(): void {
  const parts = collected;
  const transfer = collectedTransfer;
  collected = null;
  collectedTransfer = undefined;
  if (parts === null || parts.length === 0) return;
  port.postMessage(parts.length === 1 ? parts[0] : { t: 'many', parts }, transfer);
}

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
const requests = new HandoffReceiver(boot.requestPort, boot.handoff, boot.handoffWaitMs);
/**
 * While requests keep coming and each finishes synchronously, the thread serves them without going back to
 * its event loop (handoff.ts); it goes back at least this often, so the app's timers and I/O run.
 */
const YIELD_MS = 5;
let current: ProxySink | null = null;
let batch: RequestSpec[] = [];
/** A batch is in progress (a request of it may be waiting for I/O in the event loop). */
let inBatch = false;

/** Take batches and serve them, until none comes in time, one goes asynchronous, or it is time to yield. */
function serveBatches(): void {
  if (inBatch) return; // a doorbell that raced with a batch already taken
  const until = Date.now() + YIELD_MS;
  for (;;) {
    const next = requests.next();
    if (next === undefined) return; // back to the event loop; the next batch rings the doorbell
    batch = next.batch;
    inBatch = true;
    collect();
    const sync = serve(0);
    // Before the next wait: the main thread hands this thread nothing new until it has read "done".
    sendCollected();
    if (!sync) return; // a request went asynchronous: it resumes serving when it is done
    if (Date.now() >= until) {
      setImmediate(serveBatches);
      return;
    }
  }
}

/**
 * Serve the batch from request `index` on. True when the rest of the batch finished synchronously; false
 * when a request went asynchronous (its end takes the batch on, then serving).
 */
function serve(index: number): boolean {
  for (;; index++) {
    if (collected !== null && collected.length > 0 && Date.now() !== collectedSince) {
      sendCollected();
      collect();
    }
    const [id, cgi, hasBody, extra] = batch[index];
    const sink = new ProxySink(id, post, boot.window);
    current = sink;
    const source = input.begin(id);
    const done = dispatcher.dispatch({ cgi: decodeCgi(cgi), body: hasBody ? source.body : null, bodySync: hasBody ? source.bodySync : undefined, extra, clientGone: sink.clientGone }, sink);
    if (done !== undefined) {
      const at = index;
      const after = (): void => {
        if (finish(sink, at) && !serve(at + 1)) return;
        // From a promise's continuation: the next wait belongs in a turn of its own, not in a microtask.
        setImmediate(serveBatches);
      };
      done.then(after, after);
      return false;
    }
    if (!finish(sink, index)) return true;
  }
}

/** Request `index` is done: report it, and take the next one of the batch. True when there is one. */
function finish(sink: ProxySink, index: number): boolean {
  // Take the next request before telling the main thread this one is done: once it reads "done" without
  // "more", it may reuse the claim counter for a new batch.
  const more = claim.take(index + 1, batch.length);
  if (!more) inBatch = false;
  sink.finished(more);
  return more;
}

port.on('message', (m: ToWorker) => {
  if (m.t === 'wake') serveBatches();
  else if (m.t === 'stop') {
    // Only sent to an idle thread: nothing is in flight, so there is nothing to drain.
    void lifecycle.end(m.reason, async () => {}).finally(() => process.exit(0));
  } else if (current !== null && current.id === m.id) {
    current.control(m);
  }
});

post({ t: 'ready' });
