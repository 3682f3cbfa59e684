/**
 * app-api/until-drain.ts: the one backpressure wait of the HTTP and SCGI response writers and the
 * compression tool. It must resume the writer when the reader catches up, and also when the stream closes
 * (a client that left never drains), and leave no listener behind either way.
 */
import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { untilDrain } from '../app-api/until-drain.js';

const settled = (p: Promise<void>): Promise<boolean> => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 50))]);

describe('untilDrain', () => {
  it("resolves on 'drain' and removes both of its listeners", async () => {
    const e = new EventEmitter();
    const p = untilDrain(e);
    expect(await settled(p)).to.equal(false);
    e.emit('drain');
    expect(await settled(p)).to.equal(true);
    expect(e.listenerCount('drain')).to.equal(0);
    expect(e.listenerCount('close')).to.equal(0);
  });

  it("resolves on 'close' (a stream that closes never drains) and removes both of its listeners", async () => {
    const e = new EventEmitter();
    const p = untilDrain(e);
    e.emit('close');
    expect(await settled(p)).to.equal(true);
    expect(e.listenerCount('drain')).to.equal(0);
    expect(e.listenerCount('close')).to.equal(0);
  });

  it('waits on a real socket whose reader is paused, and resumes when the reader reads', async () => {
    let serverSide!: net.Socket;
    const server = net.createServer((s) => {
      serverSide = s;
      s.pause();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
    try {
      await new Promise<void>((r) => client.once('connect', r));
      while (serverSide === undefined) await new Promise((r) => setTimeout(r, 5));
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let writes = 0;
      while (client.write(chunk) && writes < 10_000) writes++;
      expect(writes, 'the paused reader made write() answer false').to.be.below(10_000);
      const p = untilDrain(client);
      expect(await settled(p)).to.equal(false);
      serverSide.resume();
      await p;
      expect(client.writableNeedDrain).to.equal(false);
    } finally {
      client.destroy();
      serverSide?.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
