/**
 * Admission control of the thread dispatcher (gateway/threads/admission.ts), alone: when a request may wait
 * for a thread, and the answer when not: 503 with Retry-After made from a TSGI_ERR_OVERLOAD error, logged
 * once per burst, not once per request. The answer runs the real gateway core into a recording sink.
 */
import { expect } from 'chai';
import { isTsgiError } from '../app-api/errors.js';
import { Admission, type QueueView } from '../gateway/threads/admission.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { FakeSink } from './support/fake-sink.js';

const CGI = { REQUEST_METHOD: 'GET', SCRIPT_NAME: '', PATH_INFO: '/', QUERY_STRING: '', SERVER_NAME: 'x', SERVER_PORT: '80', SERVER_PROTOCOL: 'HTTP/1.1', REQUEST_URI: '/' };

function view(v: Partial<QueueView> & { oldest?: number } = {}): QueueView {
  return { closing: v.closing ?? false, waiting: v.waiting ?? 0, idle: v.idle ?? 0, oldestEnqueuedAt: () => v.oldest ?? 0 };
}

describe('thread dispatcher admission', () => {
  const log = new ErrorLog(new MemoryLog());

  it('admits while fewer than maxQueue wait, counting idle threads as room', () => {
    const a = new Admission({ maxQueue: 2, maxQueueWaitMs: 0, retryAfterSeconds: 1 }, log);
    expect(a.check(view({ waiting: 0 }), 1000)).to.equal(null);
    expect(a.check(view({ waiting: 1 }), 1000)).to.equal(null);
    expect(a.check(view({ waiting: 2 }), 1000)).to.equal('queueFull');
    expect(a.check(view({ waiting: 2, idle: 1 }), 1000), 'an idle thread takes one at once').to.equal(null);
    expect(a.check(view({ waiting: 3, idle: 1 }), 1000)).to.equal('queueFull');
  });

  it('maxQueue = 0: a request is admitted only when a thread is idle', () => {
    const a = new Admission({ maxQueue: 0, maxQueueWaitMs: 0, retryAfterSeconds: 1 }, log);
    expect(a.check(view({ waiting: 0, idle: 0 }), 1000)).to.equal('queueFull');
    expect(a.check(view({ waiting: 0, idle: 1 }), 1000)).to.equal(null);
  });

  it('sheds on queue wait only while something waits longer than maxQueueWaitMs, and not at all when it is 0', () => {
    const a = new Admission({ maxQueue: 100, maxQueueWaitMs: 50, retryAfterSeconds: 1 }, log);
    expect(a.check(view({ waiting: 3, oldest: 960 }), 1000)).to.equal(null);
    expect(a.check(view({ waiting: 3, oldest: 949 }), 1000)).to.equal('queueWait');
    expect(a.check(view({ waiting: 0, oldest: 0 }), 1000), 'nothing waits').to.equal(null);
    const off = new Admission({ maxQueue: 100, maxQueueWaitMs: 0, retryAfterSeconds: 1 }, log);
    expect(off.check(view({ waiting: 3, oldest: 0 }), 1_000_000)).to.equal(null);
  });

  it('sheds everything while closing', () => {
    const a = new Admission({ maxQueue: 100, maxQueueWaitMs: 0, retryAfterSeconds: 1 }, log);
    expect(a.check(view({ closing: true, idle: 4 }), 1000)).to.equal('unavailable');
  });

  it('overload raises TSGI_ERR_OVERLOAD with status 503', () => {
    const a = new Admission({ maxQueue: 1, maxQueueWaitMs: 0, retryAfterSeconds: 1 }, log);
    for (const cause of ['queueFull', 'queueWait'] as const) {
      const err = a.overloadError(cause);
      expect(isTsgiError(err, 'TSGI_ERR_OVERLOAD')).to.equal(true);
      expect(err.status).to.equal(503);
    }
  });

  it('answers a shed request 503 with Retry-After and the error message, and logs the overload once per burst', async () => {
    const mem = new MemoryLog();
    const a = new Admission({ maxQueue: 1, maxQueueWaitMs: 0, retryAfterSeconds: 7 }, new ErrorLog(mem));
    const sinks: FakeSink[] = [];
    for (let i = 0; i < 5; i++) {
      const sink = new FakeSink();
      sinks.push(sink);
      await a.refuse('queueFull', { cgi: { ...CGI }, body: null }, sink);
    }
    for (const sink of sinks) {
      expect(sink.status).to.equal(503);
      expect(sink.header('Retry-After')).to.equal('7');
      expect(sink.ended).to.equal(true);
      expect(sink.body.toString()).to.equal(`Service Unavailable: ${a.overloadError('queueFull').message}\n`);
    }
    const lines = mem.lines.filter((l) => l.includes('TSGI_ERR_OVERLOAD'));
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/\[warn\].*TSGI_ERR_OVERLOAD: every thread is busy/);
  });

  it('answers a request refused while closing 503 with Retry-After, not as overload', async () => {
    const mem = new MemoryLog();
    const a = new Admission({ maxQueue: 1, maxQueueWaitMs: 0, retryAfterSeconds: 2 }, new ErrorLog(mem));
    const sink = new FakeSink();
    await a.refuse('unavailable', { cgi: { ...CGI }, body: null }, sink);
    expect(sink.status).to.equal(503);
    expect(sink.header('Retry-After')).to.equal('2');
    expect(mem.text).to.not.include('TSGI_ERR_OVERLOAD');
  });
});
