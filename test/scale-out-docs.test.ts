/**
 * README's "Three hosts" snippets are excerpts of the files the scale-out test renders and runs
 * (examples/deploy/scale-out/), so the README cannot drift from what is tested.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

describe('README: the three-host deployment', () => {
  it('its INI, nginx and HAProxy snippets are excerpts of examples/deploy/scale-out', () => {
    const start = README.indexOf('### Three hosts');
    expect(start, 'a "### Three hosts" section').to.be.greaterThan(-1);
    const section = README.slice(start, README.indexOf('\n## ', start));
    const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)];
    const files = ['server.cfg', 'nginx.conf', 'haproxy.cfg'];
    expect(blocks.map((b) => b[1])).to.deep.equal(['ini', 'conf', 'conf']);
    blocks.forEach((b, i) => {
      const text = readFileSync(path.join(ROOT, 'examples/deploy/scale-out', files[i]), 'utf8');
      for (const line of b[2].split('\n').filter((l) => l.trim() !== '')) expect(text, `${files[i]}: ${line}`).to.include(line);
    });
  });
});
