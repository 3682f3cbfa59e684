/**
 * The config-driven starters of the SCGI and auto fronts (what gateway/serve.ts FRONTS takes): they fit the
 * FrontStarter type and listen where a default `[server]` section says, on an ephemeral port here.
 */
import { expect } from 'chai';
import { autoFront } from '../gateway/fronts/auto.js';
import { scgiFront } from '../gateway/fronts/scgi.js';
import { app as echoEnviron } from '../examples/echo-environ/app.js';
import { defaultServerConfig } from '../gateway/config/options.js';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import type { FrontStarter } from '../gateway/serve.js';
import { nginxVars, scgiRequest } from './support/scgi-client.js';

describe('SCGI and auto front starters (for gateway/serve.ts)', () => {
  const starters: Array<[string, FrontStarter]> = [
    ['scgi', scgiFront.start],
    ['auto', autoFront.start],
  ];
  for (const [name, starter] of starters) {
    it(`protocol = ${name}: listens from the [server] section and serves SCGI with its scriptName`, async () => {
      const log = new ErrorLog(new MemoryLog());
      const config = { ...defaultServerConfig(), socketPort: 0, scriptName: '/app' };
      const front = await starter(new InlineDispatcher(echoEnviron, { log }), config, log);
      try {
        const port = Number(/:(\d+)$/.exec(front.url)?.[1]);
        expect(port).to.be.greaterThan(0);
        const res = await scgiRequest(port, { vars: nginxVars('GET', '/app/x', { SCRIPT_NAME: '/app/x', PATH_INFO: '' }) });
        expect(JSON.parse(res.body.toString()).environ).to.include({ SCRIPT_NAME: '/app', PATH_INFO: '/x' });
      } finally {
        await front.close(1000);
      }
    });

    it(`protocol = ${name}: without scriptName the web server's SCRIPT_NAME/PATH_INFO split is kept`, async () => {
      const log = new ErrorLog(new MemoryLog());
      const config = { ...defaultServerConfig(), socketPort: 0 };
      const front = await starter(new InlineDispatcher(echoEnviron, { log }), config, log);
      try {
        const port = Number(/:(\d+)$/.exec(front.url)?.[1]);
        const res = await scgiRequest(port, { vars: nginxVars('GET', '/app/x', { SCRIPT_NAME: '/app', PATH_INFO: '/x' }) });
        expect(JSON.parse(res.body.toString()).environ).to.include({ SCRIPT_NAME: '/app', PATH_INFO: '/x' });
      } finally {
        await front.close(1000);
      }
    });
  }
});
