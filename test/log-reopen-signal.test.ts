/**
 * installLogReopen (gateway/tools/apply.ts): SIGUSR1 runs every hook; a signal that came while no hook was
 * installed (a process pool's primary still starting, its workers already serving) is forwarded to the
 * first hook added, once. The signal is emitted on `process` (its listener is what a real SIGUSR1 runs).
 */
import { expect } from 'chai';
import { installLogReopen } from '../gateway/tools/apply.js';

describe('installLogReopen: SIGUSR1 and the forwarding hooks', () => {
  it('a signal before any hook reaches the first hook added, once; later signals reach it each time', () => {
    installLogReopen(); // the handler, as serve() installs it before the mode starts
    process.emit('SIGUSR1', 'SIGUSR1');
    let calls = 0;
    const remove = installLogReopen(() => calls++);
    expect(calls, 'the signal that came before the hook').to.equal(1);
    const second = installLogReopen(() => (calls += 100));
    second();
    expect(calls, 'remembered once, not for every hook').to.equal(1);
    process.emit('SIGUSR1', 'SIGUSR1');
    expect(calls).to.equal(2);
    remove();
    process.emit('SIGUSR1', 'SIGUSR1'); // no hook: remembered again
    const third = installLogReopen(() => calls++);
    expect(calls).to.equal(3);
    third();
  });
});
