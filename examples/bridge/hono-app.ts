/**
 * A Hono app served by tsgi: routing and a streamed response, unchanged. The environ is Hono's `c.env`.
 *
 *     npm run build
 *     npx tsgi dist/examples/bridge/hono-app.js            # `app`: the Hono app through fromFetch
 *     npx tsgi dist/examples/bridge/hono-app.js:hono       # the Hono object itself, detected by its fetch method
 */
import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import { fromFetch } from '../../app-api/bridge/index.js';
import type { Environ } from '../../app-api/types.js';

/** The Hono app, as its authors wrote it. */
export const hono = new Hono<{ Bindings: Environ }>();

// The Request's URL is relative to where tsgi mounts the app; the mount is SCRIPT_NAME in the environ.
hono.get('/', (c) => c.text(`hello from hono at ${c.env.SCRIPT_NAME}${new URL(c.req.url).pathname} (${c.env.REMOTE_ADDR})\n`));

hono.get('/users/:name', (c) => c.json({ name: c.req.param('name') }));

hono.get('/count', (c) =>
  stream(c, async (s) => {
    c.header('content-type', 'text/plain');
    for (let i = 1; i <= 5; i++) {
      await s.write(`${i}\n`);
      await s.sleep(10);
    }
  }),
);

hono.post('/echo', async (c) => c.text(await c.req.text()));

/** The tsgi app. */
export const app = fromFetch(hono);
export default app;
