/** gateway/input.ts: tsgi.input over an async source: read(n), read(), readline, iteration, readSync. */
import { expect } from 'chai';
import { isTsgiError } from '../app-api/errors.js';
import { BodyInput, emptyInput } from '../app-api/input.js';

/** An async source yielding the given chunks, recording how many were pulled. */
function source(chunks: Array<string | Buffer | Uint8Array>): AsyncIterable<Buffer | Uint8Array | string> & { pulled: number } {
  const s = {
    pulled: 0,
    async *[Symbol.asyncIterator]() {
      for (const c of chunks) {
        s.pulled++;
        await new Promise((r) => setImmediate(r));
        yield c;
      }
    },
  };
  return s;
}

describe('tsgi.input (BodyInput)', () => {
  it('read(n) returns at most n bytes across chunk boundaries, then EOF as an empty buffer', async () => {
    const input = new BodyInput(source(['ab', 'cde', 'f']));
    expect((await input.read(4)).toString()).to.equal('abcd');
    expect((await input.read(1)).toString()).to.equal('e');
    expect((await input.read(10)).toString()).to.equal('f');
    expect((await input.read(10)).length).to.equal(0);
    expect((await input.read()).length).to.equal(0);
  });

  it('read() and read(-1) return everything that is left', async () => {
    const input = new BodyInput(source(['ab', Buffer.from('cd'), new Uint8Array([0x65])]));
    expect((await input.read(1)).toString()).to.equal('a');
    expect((await input.read()).toString()).to.equal('bcde');
    const again = new BodyInput(source(['xy', 'z']));
    expect((await again.read(-1)).toString()).to.equal('xyz');
  });

  it('read(0) returns an empty buffer without pulling', async () => {
    const src = source(['ab']);
    const input = new BodyInput(src);
    expect((await input.read(0)).length).to.equal(0);
    expect(src.pulled).to.equal(0);
  });

  it('nothing is pulled until the app reads', async () => {
    const src = source(['a', 'b', 'c']);
    const input = new BodyInput(src);
    await new Promise((r) => setImmediate(r));
    expect(src.pulled).to.equal(0);
    await input.read(1);
    expect(src.pulled).to.equal(1);
  });

  it('readline() returns lines including the newline, across chunks, the last line without one', async () => {
    const input = new BodyInput(source(['one\ntw', 'o\n', 'three']));
    const lines: string[] = [];
    for (;;) {
      const line = await input.readline();
      if (line.length === 0) break;
      lines.push(line.toString());
    }
    expect(lines).to.deep.equal(['one\n', 'two\n', 'three']);
  });

  it('readline(limit) stops at the limit', async () => {
    const input = new BodyInput(source(['abcdef\n']));
    expect((await input.readline(4)).toString()).to.equal('abcd');
    expect((await input.readline(10)).toString()).to.equal('ef\n');
  });

  it('async iteration yields every byte once, after partial reads too', async () => {
    const input = new BodyInput(source(['ab', 'cd', 'ef']));
    const first = await input.read(3);
    const rest: Buffer[] = [];
    for await (const c of input) rest.push(c);
    expect(first.toString() + Buffer.concat(rest).toString()).to.equal('abcdef');
  });

  it('concurrent reads are refused instead of interleaving bytes', async () => {
    const input = new BodyInput(source(['ab', 'cd']));
    const a = input.read(1);
    let err: unknown;
    try {
      await input.read(1);
    } catch (e) {
      err = e;
    }
    await a;
    expect(isTsgiError(err)).to.equal(true);
  });

  it('readSync on an unbuffered body throws TSGI_ERR_SYNC_INPUT naming the fix', () => {
    const input = new BodyInput(source(['ab']));
    let err: unknown;
    try {
      input.readSync(1);
    } catch (e) {
      err = e;
    }
    expect(isTsgiError(err, 'TSGI_ERR_SYNC_INPUT')).to.equal(true);
    expect((err as Error).message).to.match(/await .*read\(\)|threadPool/);
  });

  it('readSync works on BodyInput.fromBuffer', () => {
    const input = BodyInput.fromBuffer(Buffer.from('hello\nworld'));
    expect(input.readSync(3).toString()).to.equal('hel');
    expect(input.readSync().toString()).to.equal('lo\nworld');
    expect(input.readSync().length).to.equal(0);
  });

  it('fromBuffer also reads asynchronously', async () => {
    const input = BodyInput.fromBuffer(Buffer.from('a\nb'));
    expect((await input.readline()).toString()).to.equal('a\n');
    expect((await input.read()).toString()).to.equal('b');
  });

  it('readSync uses a blocking reader when the runtime has one', () => {
    const parts = [Buffer.from('abc'), Buffer.from('de')];
    const input = new BodyInput(source([]), () => parts.shift() ?? Buffer.alloc(0));
    expect(input.readSync(4).toString()).to.equal('abcd');
    expect(input.readSync().toString()).to.equal('e');
    expect(input.readSync().length).to.equal(0);
  });

  it('emptyInput is EOF everywhere, readSync included', async () => {
    const input = emptyInput();
    expect((await input.read()).length).to.equal(0);
    expect((await input.readline()).length).to.equal(0);
    expect(input.readSync().length).to.equal(0);
    const chunks: Buffer[] = [];
    for await (const c of input) chunks.push(c);
    expect(chunks).to.deep.equal([]);
  });
});
