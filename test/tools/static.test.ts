/**
 * staticDir / staticFile through inject() under lint(): types, validators and 304, ranges, HEAD, index and
 * redirect, fall-through to the wrapped app, the traversal table (encoded and not, symlinks out of the root),
 * and the core's file hook (a sink with sendFile gets the range, not chunks).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { FileBody, fileRangeOf, type FileRange } from '../../app-api/file-body.js';
import { inject } from '../../gateway/core/inject.js';
import { lint } from '../../app-api/lint.js';
import type { App, HeaderList } from '../../app-api/types.js';
import { staticDir, staticDirTool } from '../../app-api/tools/staticdir.js';
import { staticFile } from '../../app-api/tools/staticfile.js';
import { buildEnviron } from '../../gateway/core/environ.js';
import { serveApp } from '../../gateway/core/serve-app.js';
import { emptyInput } from '../../app-api/input.js';
import { ErrorLog, MemoryLog } from '../../gateway/core/log.js';
import type { ResponseSink } from '../../gateway/core/sink.js';

const fallback: App = (environ, startResponse) => {
  startResponse('404 Not Found', [['Content-Type', 'text/plain']]);
  return [`app: ${environ.PATH_INFO}`];
};

describe('tools: staticDir / staticFile', () => {
  let dir: string;
  let root: string;
  let app: App;
  const bytes = Buffer.alloc(300_000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) & 0xff;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tsgi-static-'));
    root = path.join(dir, 'public');
    mkdirSync(path.join(root, 'sub'), { recursive: true });
    mkdirSync(path.join(root, 'noindex'));
    writeFileSync(path.join(root, 'hello.txt'), 'hello\n');
    writeFileSync(path.join(root, 'style.css'), 'a{}');
    writeFileSync(path.join(root, 'blob.bin'), bytes);
    writeFileSync(path.join(root, 'unknown.zzqx'), 'x');
    writeFileSync(path.join(root, 'sub', 'index.html'), '<p>sub</p>');
    writeFileSync(path.join(root, '.htpasswd'), 'secret');
    writeFileSync(path.join(dir, 'secret.txt'), 'SECRET');
    writeFileSync(path.join(dir, 'public-evil.txt'), 'SIBLING');
    symlinkSync(path.join(dir, 'secret.txt'), path.join(root, 'out-link.txt'));
    symlinkSync(dir, path.join(root, 'out-dir'));
    symlinkSync(path.join(root, 'hello.txt'), path.join(root, 'in-link.css'));
    utimesSync(path.join(root, 'hello.txt'), new Date('2026-01-02T03:04:05Z'), new Date('2026-01-02T03:04:05Z'));
    app = lint(staticDir(fallback, { dir: 'public', root: dir, index: 'index.html', mount: '/static' }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('serves a file with its MIME type, length, ETag, Last-Modified and Accept-Ranges', async () => {
    const res = await inject(app, '/static/hello.txt');
    expect(res.status).to.equal(200);
    expect(res.text).to.equal('hello\n');
    expect(res.headers['content-type']).to.equal('text/plain; charset=utf-8');
    expect(res.headers['content-length']).to.equal('6');
    expect(res.headers['last-modified']).to.equal('Fri, 02 Jan 2026 03:04:05 GMT');
    expect(res.headers['etag']).to.match(/^"[0-9a-f]+-6"$/);
    expect(res.headers['accept-ranges']).to.equal('bytes');
    expect((await inject(app, '/static/style.css')).headers['content-type']).to.equal('text/css; charset=utf-8');
    expect((await inject(app, '/static/unknown.zzqx')).headers['content-type']).to.equal('application/octet-stream');
    const blob = await inject(app, '/static/blob.bin');
    expect(blob.body.equals(bytes)).to.equal(true);
  });

  it('answers 304 to If-None-Match (weak or strong) and If-Modified-Since; a changed file is 200 again', async () => {
    const first = await inject(app, '/static/hello.txt');
    const etag = first.headers['etag'];
    const inm = await inject(app, { url: '/static/hello.txt', headers: { 'if-none-match': `"nope", W/${etag}` } });
    expect(inm.status).to.equal(304);
    expect(inm.body.length).to.equal(0);
    expect(inm.headers['etag']).to.equal(etag);
    const ims = await inject(app, { url: '/static/hello.txt', headers: { 'if-modified-since': 'Fri, 02 Jan 2026 03:04:05 GMT' } });
    expect(ims.status).to.equal(304);
    const older = await inject(app, { url: '/static/hello.txt', headers: { 'if-modified-since': 'Fri, 02 Jan 2026 03:04:04 GMT' } });
    expect(older.status).to.equal(200);
    // If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
    const both = await inject(app, { url: '/static/hello.txt', headers: { 'if-none-match': '"other"', 'if-modified-since': 'Fri, 02 Jan 2026 03:04:05 GMT' } });
    expect(both.status).to.equal(200);
    const failed = await inject(app, { url: '/static/hello.txt', headers: { 'if-match': '"other"' } });
    expect(failed.status).to.equal(412);
  });

  it('answers a single Range with 206, a range past the end with 416, several ranges with the whole file', async () => {
    const r = await inject(app, { url: '/static/blob.bin', headers: { range: 'bytes=1000-1999' } });
    expect(r.status).to.equal(206);
    expect(r.headers['content-range']).to.equal(`bytes 1000-1999/${bytes.length}`);
    expect(r.headers['content-length']).to.equal('1000');
    expect(r.body.equals(bytes.subarray(1000, 2000))).to.equal(true);
    const suffix = await inject(app, { url: '/static/blob.bin', headers: { range: 'bytes=-10' } });
    expect(suffix.body.equals(bytes.subarray(bytes.length - 10))).to.equal(true);
    const past = await inject(app, { url: '/static/blob.bin', headers: { range: `bytes=${bytes.length}-` } });
    expect(past.status).to.equal(416);
    expect(past.headers['content-range']).to.equal(`bytes */${bytes.length}`);
    const multi = await inject(app, { url: '/static/blob.bin', headers: { range: 'bytes=0-1,10-11' } });
    expect(multi.status).to.equal(200);
    expect(multi.body.length).to.equal(bytes.length);
    const stale = await inject(app, { url: '/static/blob.bin', headers: { range: 'bytes=0-1', 'if-range': '"old"' } });
    expect(stale.status).to.equal(200);
    const malformed = await inject(app, { url: '/static/blob.bin', headers: { range: 'bytes=x-y' } });
    expect(malformed.status).to.equal(200);
  });

  it('HEAD: the headers of a GET, no body', async () => {
    const res = await inject(app, { method: 'HEAD', url: '/static/blob.bin' });
    expect(res.status).to.equal(200);
    expect(res.headers['content-length']).to.equal(String(bytes.length));
    expect(res.body.length).to.equal(0);
  });

  it('folders: index served with a slash, redirected without, no index falls through', async () => {
    const sub = await inject(app, '/static/sub/');
    expect(sub.status).to.equal(200);
    expect(sub.text).to.equal('<p>sub</p>');
    expect(sub.headers['content-type']).to.equal('text/html; charset=utf-8');
    const redirect = await inject(app, '/static/sub?x=1');
    expect(redirect.status).to.equal(301);
    expect(redirect.headers['location']).to.equal('/static/sub/?x=1');
    const none = await inject(app, '/static/noindex/');
    expect(none.status).to.equal(404);
    expect(none.text).to.equal('app: /static/noindex/');
  });

  it('falls through to the app: missing files, other methods, paths outside the mount, dot-files', async () => {
    for (const [method, url] of [['GET', '/static/missing.txt'], ['POST', '/static/hello.txt'], ['GET', '/hello.txt'], ['GET', '/staticx/hello.txt'], ['GET', '/static/.htpasswd']]) {
      const res = await inject(app, { method, url });
      expect(res.status, `${method} ${url}`).to.equal(404);
      expect(res.text).to.match(/^app: /);
    }
  });

  // Every row: nothing outside the root is served (no SECRET, no SIBLING): 403 (refused) or 404 (fell through/refused by the server).
  const TRAVERSAL: Array<[string, number]> = [
    ['/static/../secret.txt', 403],
    ['/static/sub/../../secret.txt', 403],
    ['/static/%2e%2e/secret.txt', 403],
    ['/static/%2E%2E/secret.txt', 403],
    ['/static/..%2fsecret.txt', 403],
    ['/static/..%2Fsecret.txt', 403],
    ['/static/%2e%2e%2fsecret.txt', 403],
    ['/static/..%5csecret.txt', 403],
    ['/static/..\\secret.txt', 403],
    ['/static/%5c..%5csecret.txt', 403],
    ['/static//../secret.txt', 403],
    ['/static/%2F%2E%2E%2Fsecret.txt', 403],
    ['/static/hello.txt%00.css', 400],
    ['/static/out-link.txt', 403],
    ['/static/out-dir/secret.txt', 403],
    ['/static/../public-evil.txt', 403],
    ['/static/%252e%252e/secret.txt', 404],
  ];
  for (const [url, status] of TRAVERSAL) {
    it(`traversal: ${url} -> ${status}, nothing outside the root`, async () => {
      const res = await inject(app, url);
      expect(res.status).to.equal(status);
      expect(res.text).to.not.match(/SECRET|SIBLING/);
      if (status === 403) expect(res.errors).to.match(/staticdir: refused/);
    });
  }

  it('a symlink pointing inside the root is served, typed by the name asked for', async () => {
    const res = await inject(app, '/static/in-link.css');
    expect(res.status).to.equal(200);
    expect(res.text).to.equal('hello\n');
    expect(res.headers['content-type']).to.equal('text/css; charset=utf-8');
  });

  it('staticFile answers exactly its path; a missing file falls through', async () => {
    const one = lint(staticFile(fallback, { filename: path.join(root, 'hello.txt'), mount: '/favicon.ico' }));
    const hit = await inject(one, '/favicon.ico');
    expect(hit.status).to.equal(200);
    expect(hit.text).to.equal('hello\n');
    expect((await inject(one, '/favicon.ico/x')).status).to.equal(404);
    expect((await inject(one, { method: 'DELETE', url: '/favicon.ico' })).status).to.equal(404);
    const range = await inject(one, { url: '/favicon.ico', headers: { range: 'bytes=1-2' } });
    expect(range.status).to.equal(206);
    expect(range.text).to.equal('el');
    const gone = lint(staticFile(fallback, { filename: path.join(root, 'nope'), mount: '/favicon.ico' }));
    expect((await inject(gone, '/favicon.ico')).text).to.equal('app: /favicon.ico');
  });

  it('the ToolDef declares dir/root/index and mounts at the section path', async () => {
    expect(Object.keys(staticDirTool.options).sort()).to.deep.equal(['dir', 'index', 'root']);
    const tooled = lint(staticDirTool.create(fallback, { dir: 'public', root: '', index: '' }, { baseDir: dir, mountPath: '/files', multiprocess: false, warn: () => {} }));
    expect((await inject(tooled, '/files/hello.txt')).text).to.equal('hello\n');
    expect((await inject(tooled, '/files/sub/')).status).to.equal(404);
  });

  describe('the core file hook', () => {
    class FileSink implements ResponseSink {
      closed = false;
      code = 0;
      headers: HeaderList = [];
      files: FileRange[] = [];
      chunks: Buffer[] = [];
      ended = false;
      start(code: number, _r: string, headers: HeaderList): void {
        this.code = code;
        this.headers = headers;
      }
      write(chunk: Buffer): void {
        this.chunks.push(Buffer.from(chunk));
      }
      end(last?: Buffer): void {
        if (last !== undefined) this.chunks.push(last);
        this.ended = true;
      }
      abort(): void {}
      async sendFile(file: FileRange): Promise<void> {
        this.files.push(file);
        this.ended = true;
      }
    }
    const environ = (path: string) =>
      buildEnviron(
        { REQUEST_METHOD: 'GET', SCRIPT_NAME: '', PATH_INFO: path, QUERY_STRING: '', SERVER_NAME: 'localhost', SERVER_PORT: '80', SERVER_PROTOCOL: 'HTTP/1.1', HTTP_RANGE: 'bytes=5-9' },
        { input: emptyInput(), errors: new ErrorLog(new MemoryLog()), multithread: false, multiprocess: false, runOnce: false, appConfig: {} },
      );

    it('a sink with sendFile gets the file range (through lint too), with Content-Length from the range', async () => {
      const sink = new FileSink();
      await serveApp(app, environ('/static/blob.bin'), sink, { log: new ErrorLog(new MemoryLog()) });
      expect(sink.code).to.equal(206);
      expect(sink.chunks).to.have.length(0);
      expect(sink.files).to.have.length(1);
      expect(sink.files[0].start).to.equal(5);
      expect(sink.files[0].end).to.equal(9);
      expect(sink.files[0].path).to.equal(path.join(root, 'blob.bin'));
      expect(sink.headers).to.deep.include(['Content-Length', '5']);
    });

    it('FileBody is an ordinary async iterable for fronts without sendFile, and carries its range', async () => {
      const body = new FileBody({ path: path.join(root, 'blob.bin'), start: 10, end: 70_009 });
      expect(fileRangeOf(body)).to.deep.equal({ path: path.join(root, 'blob.bin'), start: 10, end: 70_009 });
      const parts: Buffer[] = [];
      for await (const c of body) parts.push(c);
      expect(parts.length).to.be.greaterThan(1); // streamed in chunks, not one whole-file buffer
      expect(Buffer.concat(parts).equals(bytes.subarray(10, 70_010))).to.equal(true);
      expect(fileRangeOf({ 'tsgi.file': { path: 'x', start: -1, end: 3 } })).to.equal(undefined);
    });
  });
});
