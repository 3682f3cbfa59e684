/**
 * README.md cannot drift from the code: its config reference and error-code list are exactly what
 * gateway/docs.ts generates from the option table and app-api/errors.ts, it starts with the two
 * commands a newcomer needs, its links point at files that exist, and its minimal app really works.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { ERROR_CODES } from '../app-api/errors.js';
import { inject } from '../gateway/core/inject.js';
import { lint } from '../app-api/lint.js';
import { loadApp } from '../gateway/app-loader.js';
import { readRegion, regenerate, renderConfigReference, renderErrorCodes } from '../gateway/docs.js';
import { OPTIONS } from '../gateway/config/options.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const STALE = 'README.md is out of date: run `npm run docs:config` and commit README.md';

describe('README.md', () => {
  it('starts with the name, one sentence, and exactly two commands in a code block', () => {
    const lines = README.split('\n');
    expect(lines[0]).to.equal('# tsgi');
    expect(lines[1]).to.equal('');
    expect(lines[2]).to.match(/^tsgi is .*\.$/);
    expect(lines[3]).to.equal('');
    expect(lines.slice(4, 8)).to.deep.equal(['```sh', 'npm install && npm start', 'npm test', '```']);
  });

  it('the config reference is the one generated from the option table', () => {
    expect(readRegion(README, 'config-reference'), STALE).to.equal(renderConfigReference());
    for (const o of OPTIONS) expect(README, o.name).to.include(`| \`${o.name}\` |`);
  });

  it('the error codes are exactly those of app-api/errors.ts', () => {
    expect(readRegion(README, 'error-codes'), STALE).to.equal(renderErrorCodes());
    const listed = [...(readRegion(README, 'error-codes') ?? '').matchAll(/`(TSGI_ERR_[A-Z_]+)`/g)].map((m) => m[1]);
    expect(listed).to.deep.equal(Object.keys(ERROR_CODES));
  });

  it('regenerating changes nothing', () => {
    expect(regenerate(README) === README, STALE).to.equal(true);
  });

  it('links to app-api/SPEC.md and only to files that exist', () => {
    expect(README).to.include('](app-api/SPEC.md)');
    const links = [...README.matchAll(/\]\(([^)#:]+)(?:#[^)]*)?\)/g)].map((m) => m[1]);
    expect(links.length).to.be.greaterThan(2);
    for (const link of links) expect(existsSync(path.join(ROOT, link)), link).to.equal(true);
  });

  it('the minimal app works as written', async () => {
    const m = /```js\n(\/\/ app\.mjs\n[\s\S]*?)```/.exec(README);
    expect(m, 'a ```js block starting with // app.mjs').to.not.equal(null);
    const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-readme-'));
    try {
      const file = path.join(dir, 'app.mjs');
      writeFileSync(file, m![1]);
      const app = await loadApp(file);
      const res = await inject(lint(app), { url: '/hi' }); // lint: the example keeps app-api/SPEC.md
      expect(res.status).to.equal(200);
      expect(res.text).to.equal('Hello from /hi\n');
      expect(res.errors).to.equal('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the reverse-proxy configs are excerpts of the deploy files the integration tests run', () => {
    const files: Record<string, string> = { apache: 'examples/deploy/apache/proxy-https.conf', nginx: 'examples/deploy/nginx/proxy-https.conf', haproxy: 'examples/deploy/haproxy/proxy-protocol.cfg' };
    for (const [lang, file] of Object.entries(files)) {
      const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(README);
      expect(m, `a \`\`\`${lang} block`).to.not.equal(null);
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      for (const line of m![1].split('\n').filter((l) => l.trim() !== '')) expect(text, `${file}: ${line}`).to.include(line);
    }
  });

  it('the config file example is examples/server.cfg as it is', () => {
    const m = /```ini\n(\[server\][\s\S]*?)```/.exec(README)!;
    const cfg = readFileSync(path.join(ROOT, 'examples/server.cfg'), 'utf8');
    // Every line of the README excerpt appears in the example file.
    for (const line of m[1].split('\n').filter((l) => l.trim() !== '')) expect(cfg, line).to.include(line);
  });
});
