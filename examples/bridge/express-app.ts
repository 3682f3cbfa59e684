/**
 * An express 5 app served by tsgi: routing, JSON body parsing, a middleware (helmet) and a cookie, unchanged.
 *
 *     npm run build
 *     npx tsgi dist/examples/bridge/express-app.js                  # `app`: the express app through fromNode
 *     npx tsgi dist/examples/bridge/express-app.js:web              # the express app itself, detected by shape
 *     npx tsgi dist/examples/bridge/express-app.js -C fcgi.cfg      # the same app as FastCGI behind nginx
 */
import express from 'express';
import helmet from 'helmet';
import { fromNode } from '../../app-api/bridge/index.js';

/** The express app, as its authors wrote it. */
export const web = express();
web.use(helmet());
web.use(express.json());

web.get('/', (req, res) => {
  res.cookie('seen', '1');
  res.cookie('lang', 'en');
  res.type('text/plain').send(`hello from express at ${req.baseUrl}${req.path} (${req.ip})\n`);
});

web.get('/items/:id', (req, res) => {
  res.json({ id: req.params.id, query: req.query });
});

web.post('/items', (req, res) => {
  res.status(201).json({ created: req.body });
});

/** The tsgi app: what every tsgi front (HTTP, FastCGI, SCGI, CGI) serves. */
export const app = fromNode(web);
export default app;
