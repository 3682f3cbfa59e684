/**
 * `tsgi --reload` (development): the command supervises a child server and starts a new one when a source
 * file under the working directory changes; a child that fails to load waits for the next change; SIGTERM
 * stops the whole thing with exit 0. Spawned for real, in a temporary project folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { freePort } from './integration/harness/ports.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../gateway/cli.js');

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
    }).on('error', reject);
  });
}

/** Poll until the server answers `want` (bounded: 40 tries, 250 ms apart). */
async function until(port: number, want: string): Promise<string> {
  let last = '';
  for (let i = 0; i < 40; i++) {
    last = await get(port).catch((err: Error) => `(${err.message})`);
    if (last === want) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  return last;
}

const app = (text: string): string => `export function app(environ, startResponse) {\n  startResponse('200 OK', [['Content-Type', 'text/plain']]);\n  return [${JSON.stringify(text)}];\n}\n`;

describe('tsgi --reload', function () {
  this.timeout(60_000);
  let dir: string;
  let proc: ChildProcess | undefined;
  let stderr = '';

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tsgi-reload-'));
    stderr = '';
  });
  afterEach(() => {
    proc?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the new code after a change, waits out a broken save, and stops with exit 0 on SIGTERM', async () => {
    writeFileSync(path.join(dir, 'app.mjs'), app('v1'));
    const port = await freePort();
    proc = spawn(process.execPath, [CLI, 'app.mjs', '--bind', `127.0.0.1:${port}`, '--reload'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => proc!.once('exit', (code) => resolve(code)));

    expect(await until(port, 'v1'), stderr).to.equal('v1');
    writeFileSync(path.join(dir, 'app.mjs'), app('v2'));
    expect(await until(port, 'v2'), stderr).to.equal('v2');

    // A save that does not load: the old child is gone, the supervisor says so and waits.
    writeFileSync(path.join(dir, 'app.mjs'), 'export function app( {\n');
    for (let i = 0; i < 40 && !/waiting for a change/.test(stderr); i++) await new Promise((r) => setTimeout(r, 250));
    expect(stderr).to.match(/waiting for a change/);
    writeFileSync(path.join(dir, 'app.mjs'), app('v3'));
    expect(await until(port, 'v3'), stderr).to.equal('v3');

    // Files outside the watched kinds and node_modules do not restart it.
    expect((stderr.match(/changed: restarting/g) ?? []).length).to.equal(3);

    proc.kill('SIGTERM');
    expect(await exited).to.equal(0);
  });

  it('without --reload the command serves in its own process (no supervisor line)', async () => {
    writeFileSync(path.join(dir, 'app.mjs'), app('plain'));
    const port = await freePort();
    proc = spawn(process.execPath, [CLI, 'app.mjs', '--bind', `127.0.0.1:${port}`], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    expect(await until(port, 'plain')).to.equal('plain');
    expect(stderr).to.not.match(/--reload/);
    expect(stderr).to.match(new RegExp(`pid ${proc.pid}\\)`));
  });
});
