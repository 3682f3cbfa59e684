/**
 * `tsgi check` against the real syntax checks: every example INI's snippet passes `nginx -t`, `apache2 -t`,
 * `lighttpd -t` and `haproxy -c` (each inside the minimal main config tsgi check writes), and a snippet
 * broken by hand (--snippet) exits 1 with the front's own message. A missing server skips (fails on CI).
 */
import path from 'node:path';
import { readdirSync, writeFileSync } from 'node:fs';
import { expect } from 'chai';
import { CHECK_FRONTS } from '../gateway/check/fronts.js';
import { findExecutable } from '../gateway/check/syntax.js';
import { FRONT_NAMES, type FrontName } from '../gateway/check/types.js';
import { EXAMPLES_DIR } from '../examples/deploy/check/generate.js';
import { requireInstalled } from './integration/harness/skip.js';
import { check, writeIni } from './support/check-run.js';

const INIS = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.cfg')).sort();

/** A typo in a snippet of each front, and what the front says about it. */
const BREAK: Record<FrontName, { ini: string; from: string | RegExp; to: string; message: RegExp }> = {
  nginx: { ini: '[server]\nprotocol = fastcgi\nsocketPort = 9310\nscriptName = /app\n', from: 'fastcgi_keep_conn on;', to: 'fastcgi_keep_con on;', message: /nginx: \[emerg\] unknown directive "fastcgi_keep_con" in .*broken\.conf:\d+/ },
  apache: { ini: '[server]\nsocketPort = 9311\nscriptName = /app\n', from: /ProxyPass "/, to: 'ProxyPas "', message: /Invalid command 'ProxyPas', perhaps misspelled/ },
  lighttpd: { ini: '[server]\nprotocol = scgi\nsocketPort = 9312\nscriptName = /app\n', from: '"check-local" => "disable",', to: '"check-local" = "disable",', message: /broken\.conf line: \d+ .*use => for assignments in arrays/ },
  haproxy: { ini: '[server]\nsocketPort = 9313\nproxyProtocol = 1\n', from: 'timeout client 60s', to: 'timeout clientt 60s', message: /broken\.conf:\d+\] : 'timeout' supports .*\(got 'clientt'\)/ },
};

for (const name of FRONT_NAMES) {
  describe(`tsgi check --front ${name}: the real syntax check`, function () {
    this.timeout(120_000);
    before(function () {
      requireInstalled(this, CHECK_FRONTS[name].syntax.binary, findExecutable(CHECK_FRONTS[name].syntax.binary));
    });

    it(`passes ${CHECK_FRONTS[name].syntax.binary}'s own check for every example INI it can serve`, async () => {
      let checked = 0;
      for (const ini of INIS) {
        const r = await check(['-C', path.join(EXAMPLES_DIR, ini), '--front', name]);
        if (/error: .*(sends no PROXY header|HAProxy turns HTTP into HTTP)/.test(r.stderr)) continue;
        expect(r.stderr, `${ini}`).to.match(/ok: syntax: \S+ accepts the snippet/);
        expect(r.code, `${ini}: ${r.stderr}`).to.equal(0);
        checked++;
      }
      expect(checked).to.be.at.least(name === 'haproxy' ? 2 : 4);
    });

    it('passes with --front-listen on a loopback port too', async () => {
      const ini = writeIni(BREAK[name].ini);
      const r = await check(['-C', ini, '--front', name, '--front-listen', '127.0.0.1:8765']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.match(/ok: syntax/);
    });

    it('exits 1 with the front\'s own message for a snippet broken by hand (--snippet)', async () => {
      const ini = writeIni(BREAK[name].ini);
      const generated = await check(['-C', ini, '--front', name, '--no-syntax']);
      const broken = generated.stdout.replace(BREAK[name].from, BREAK[name].to);
      expect(broken).to.not.equal(generated.stdout);
      const file = path.join(path.dirname(ini), 'broken.conf');
      writeFileSync(file, broken);
      const r = await check(['-C', ini, '--front', name, '--snippet', file]);
      expect(r.code).to.equal(1);
      expect(r.stdout, 'a checked --snippet is not printed again').to.equal('');
      expect(r.stderr).to.match(/error: syntax: \S+ refuses the snippet/);
      expect(r.stderr).to.match(BREAK[name].message);
    });
  });
}
