/** Hello world: the smallest tsgi app. Serve it with `npm start` (or `tsgi dist/examples/hello/app.js`). */
import type { App } from '../../app-api/types.js';

const body = Buffer.from('Hello, world!\n');

export const app: App = (_environ, startResponse) => {
  startResponse('200 OK', [
    ['Content-Type', 'text/plain; charset=utf-8'],
  ]);
  return [body];
};

export default app;
