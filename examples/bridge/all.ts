/**
 * The three bridged apps of this folder under one tsgi app, by urlmap: /express, /hono and /node. Each app
 * sees its own mount as SCRIPT_NAME (express as `req.baseUrl`), below whatever mount the server adds.
 * One module for every front: the CLI (HTTP, FastCGI, SCGI) and CGI (`TSGI_APP=dist/examples/bridge/all.js`).
 */
import { urlmap } from '../../app-api/urlmap.js';
import { app as expressApp } from './express-app.js';
import { app as honoApp } from './hono-app.js';
import { app as nodeApp } from './node-listener.js';

/** express, Hono and node:http side by side. */
export const app = urlmap({ '/express': expressApp, '/hono': honoApp, '/node': nodeApp });
export default app;
