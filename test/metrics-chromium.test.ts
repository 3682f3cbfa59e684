/**
 * The status page in a real browser: headless Debian Chromium driven by playwright-core loads the page of a
 * running built-in server while requests are held in flight, finds their paths in the workers table (a
 * hostile `<script>` path shows as text and runs nothing), and saves a screenshot to $TMPDIR (and to
 * $TSGI_STATUS_SCREENSHOT when set, e.g. docs/status-page.png).
 *
 * Skips with a reason when /usr/bin/chromium is missing (apt-get install chromium), except under CI=true,
 * where it fails: .ci/run installs chromium.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { chromium, type Browser } from 'playwright-core';
import { startHttpServer, type HttpServer } from '../adapters/http/server.js';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { withMetrics } from '../gateway/metrics/index.js';
import { sendRequest, type RawResponse } from './support/http-client.js';
import { TestApp, waitUntil } from './fixtures/metrics/harness.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('metrics: the status page in headless Chromium', function () {
  this.timeout(60_000);
  let browser: Browser | undefined;
  let server: HttpServer | undefined;
  let app: TestApp;
  let shots: string | undefined;
  const pending: Array<Promise<RawResponse>> = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      const why = `${CHROMIUM} is missing (install it with: apt-get install -y chromium)`;
      if (process.env.CI === 'true') throw new Error(`CI=true but ${why}`);
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    app = new TestApp();
    const log = new ErrorLog(new MemoryLog());
    server = await startHttpServer(withMetrics(new InlineDispatcher(app.app, { log }), { statusPath: '/server-status', log }), { port: 0, log });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  after(async () => {
    app?.release();
    await Promise.allSettled(pending);
    await browser?.close();
    await server?.close(1000);
    if (shots !== undefined) rmSync(shots, { recursive: true, force: true });
  });

  it('shows the paths of requests in flight in the workers table, as text, and a screenshot of it', async () => {
    const port = server!.port;
    const send = (p: string): Promise<RawResponse> => sendRequest({ port }, { method: 'GET', path: p });
    for (const p of ['/', '/about', '/status/201', '/status/301', '/status/404', '/throw']) await send(p);
    const hostile = '/hold/<script>alert(1)</script>';
    pending.push(send('/hold/reports/2024/q3?format=pdf'), send(hostile));
    await waitUntil('the app holds both requests', () => app.held === 2);

    const page = await browser!.newPage({ viewport: { width: 1000, height: 620 } });
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const res = await page.goto(`http://127.0.0.1:${port}/server-status`);
    expect(res?.status()).to.equal(200);
    expect(await page.title()).to.equal('tsgi server status');

    // No DOM lib in this tsconfig: the little of it used in the page is typed here.
    type Cell = { textContent: string | null };
    type Row = { querySelectorAll(selector: string): ArrayLike<Cell> };
    const rows = await page.locator('#workers tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from((tr as unknown as Row).querySelectorAll('td'), (td) => td.textContent ?? '')));
    const requests = rows.map((cells) => cells[4]);
    expect(requests).to.include('/hold/reports/2024/q3?format=pdf');
    expect(requests).to.include(hostile); // shown as text...
    expect(await page.locator('#workers script').count()).to.equal(0); // ...never as an element
    expect(dialogs).to.deep.equal([]);
    for (const cells of rows) {
      expect(cells[0]).to.equal('event loop');
      expect(cells[1]).to.equal('busy');
      expect(cells[3]).to.equal('GET');
      expect(Number(cells[5])).to.be.at.least(0);
    }
    expect(await page.locator('dl').innerText()).to.match(/2xx 3 · 3xx 1 · 4xx 1 · 5xx 1/);

    shots = mkdtempSync(path.join(tmpdir(), 'tsgi-status-shot-'));
    const file = path.join(shots, 'status-page.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(existsSync(file)).to.equal(true);
    const keep = process.env.TSGI_STATUS_SCREENSHOT;
    if (keep !== undefined && keep !== '') {
      mkdirSync(path.dirname(path.resolve(keep)), { recursive: true });
      await page.screenshot({ path: keep, fullPage: true });
      console.log(`      screenshot saved to ${keep}`);
    }
    await page.close();
  });
});
