/**
 * The lifecycle bus: the Engine's ordering and error rules, the app's `setup(engine)` hook, and the
 * channels an app sees through the real `tsgi` command in single mode.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { Engine, CHANNELS, type LifecycleEvent } from '../gateway/lifecycle/engine.js';
import { runAppSetup } from '../gateway/lifecycle/app-setup.js';
import { ProcessLifecycle } from '../gateway/lifecycle/process-lifecycle.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { CliServer, waitFor } from './fixtures/process/harness.js';

describe('lifecycle Engine', () => {
  it('runs listeners by priority (lower first), then in subscription order, awaiting each', async () => {
    const engine = new Engine();
    const order: string[] = [];
    engine.subscribe('start', async () => {
      await new Promise((r) => setTimeout(r, 20));
      order.push('b50');
    });
    engine.subscribe('start', () => void order.push('c50'));
    engine.subscribe('start', () => void order.push('a10'), 10);
    engine.subscribe('stop', () => void order.push('stop'));
    await engine.publish('start');
    expect(order).to.deep.equal(['a10', 'b50', 'c50']);
  });

  it('tells listeners the channel, the pid and the reason', async () => {
    const engine = new Engine();
    const seen: LifecycleEvent[] = [];
    for (const c of CHANNELS) engine.subscribe(c, (e) => void seen.push(e));
    await engine.publish('graceful', 'signal');
    expect(seen).to.deep.equal([{ channel: 'graceful', pid: process.pid, reason: 'signal' }]);
    expect(engine.hasPublished('graceful')).to.equal(true);
    expect(engine.hasPublished('stop')).to.equal(false);
  });

  it('logs a failing listener, still runs the others, and returns the failure', async () => {
    const mem = new MemoryLog();
    const engine = new Engine(new ErrorLog(mem));
    const ran: string[] = [];
    engine.subscribe('stop', () => {
      throw new Error('pool.end failed');
    });
    engine.subscribe('stop', () => void ran.push('second'));
    const failures = await engine.publish('stop');
    expect(ran).to.deep.equal(['second']);
    expect(failures).to.have.length(1);
    expect((failures[0].error as Error).message).to.equal('pool.end failed');
    expect(mem.text).to.contain("a 'stop' lifecycle listener failed").and.contain('pool.end failed');
  });

  it('unsubscribes (also from inside a listener) and rejects unknown channels', async () => {
    const engine = new Engine();
    let calls = 0;
    const off = engine.subscribe('reload', () => {
      calls++;
      off();
    });
    await engine.publish('reload');
    await engine.publish('reload');
    expect(calls).to.equal(1);
    expect(() => engine.subscribe('restart' as never, () => {})).to.throw(/unknown channel "restart"; use one of start, reload, graceful, stop, exit/);
  });

  it('runAppSetup calls the module\'s setup(engine, context), and names the fix when setup is not a function', async () => {
    const engine = new Engine();
    let got: unknown;
    const called = await runAppSetup({ setup: (e: Engine, ctx: unknown) => void (got = [e, ctx]) }, engine, { appConfig: { a: '1' }, multiprocess: true });
    expect(called).to.equal(true);
    expect(got).to.deep.equal([engine, { appConfig: { a: '1' }, multiprocess: true }]);
    expect(await runAppSetup({}, engine, { appConfig: {}, multiprocess: false })).to.equal(false);
    let err: Error | undefined;
    await runAppSetup({ setup: 42 }, engine, { appConfig: {}, multiprocess: false }).catch((e: Error) => (err = e));
    expect(err?.message).to.match(/exports 'setup' but it is a number; export a function setup\(engine\)/);
  });

  it('ProcessLifecycle: a failing start listener fails begin() with TSGI_ERR_APP_LOAD; end() publishes reload, graceful (while draining), stop, exit once', async () => {
    const log = new ErrorLog(new MemoryLog());
    const failing = { setup: (e: Engine) => e.subscribe('start', () => Promise.reject(new Error('db down'))) };
    let err: { code?: string; message: string } | undefined;
    await ProcessLifecycle.begin(failing, { log, appConfig: {}, multiprocess: false }).catch((e: { code?: string; message: string }) => (err = e));
    expect(err?.code).to.equal('TSGI_ERR_APP_LOAD');
    expect(err?.message).to.contain("a 'start' lifecycle listener failed: db down");

    const order: string[] = [];
    const mod = { setup: (e: Engine) => CHANNELS.forEach((c) => e.subscribe(c, () => void order.push(c))) };
    const lc = await ProcessLifecycle.begin(mod, { log, appConfig: {}, multiprocess: false });
    const drain = async (): Promise<void> => {
      order.push('drain-begin');
      await new Promise((r) => setTimeout(r, 20));
      order.push('drain-end');
    };
    await Promise.all([lc.end('reload', drain), lc.end('reload', drain)]);
    expect(order).to.deep.equal(['start', 'reload', 'drain-begin', 'graceful', 'drain-end', 'stop', 'exit']);
  });
});

describe('lifecycle through the tsgi command', function () {
  this.timeout(60_000);
  let server: CliServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('single mode: the app\'s subscribers see start, then graceful, stop, exit on SIGTERM', async () => {
    server = await CliServer.start({ gracefulTimeout: 10 });
    const s = server;
    expect((await s.get()).pid).to.equal(s.pid);
    expect(s.eventsOf(s.pid)).to.deep.equal(['start -']);
    const slow = s.get('/slow?ms=500');
    await waitFor('the slow request to start', () => s.events().some((e) => e.what === 'request-begin'));
    s.signal('SIGTERM');
    await slow;
    expect(await s.exited).to.deep.equal({ code: 0, signal: null });
    expect(s.eventsOf(s.pid)).to.deep.equal(['start -', 'request-begin /slow', 'graceful signal', 'stop signal', 'exit signal']);
    // setup() was told this process is the only one serving the app.
    expect(readFileSync(s.eventLog, 'utf8')).to.match(new RegExp(`^${s.pid} start - multiprocess=false$`, 'm'));
  });

  for (const [mode, server] of [
    ['single', {}],
    ['processPool', { processPool: 2 }],
    ['forking', { forking: 1 }],
  ] as const) {
    it(`${mode}: a failing start listener stops the start with exit 1 and the listener's error`, async () => {
      const { code, stderr } = await CliServer.failing(server, { failStart: '1' });
      expect(code).to.equal(1);
      expect(stderr).to.match(/TSGI_ERR_APP_LOAD: .*a 'start' lifecycle listener failed: the database is down \(failStart\)/);
    });
  }
});
