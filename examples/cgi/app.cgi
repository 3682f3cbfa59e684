#!/usr/bin/env node
// tsgi CGI entry point. Copy it into cgi-bin (chmod +x) and say which app it serves:
//   - set APP below to the app module (it exports `app` or a default app function), or
//   - set TSGI_APP in the web server's environment (Apache: `SetEnv TSGI_APP /srv/app/dist/app.js`;
//     lighttpd: `setenv.add-environment = ("TSGI_APP" => "/srv/app/dist/app.js")`).
// The module's `app` (else default) export may be a tsgi app, a Hono app or an express app, told apart by
// shape as `tsgi module.js` does; TSGI_INTERFACE=node|fetch|tsgi in the same environment says it instead
// (a plain node:http (req, res) listener needs TSGI_INTERFACE=node).
// If this file is not inside the tsgi package any more, set TSGI_HOME (or HOME_DIR below) to tsgi's
// package directory.
// CommonJS on purpose: a `.cgi` file is not an ES module to Node, and this file must start fast.
'use strict';
const APP = process.env.TSGI_APP || '';
const HOME_DIR = process.env.TSGI_HOME || require('node:path').join(__dirname, '..', '..');

// The runtime is one CommonJS file (dist/adapters/cgi/bundle.cjs, made by `npm run build`): a CGI request
// is a whole Node process, and loading one file is ~25 ms faster than loading tsgi's ES modules one by one.
const fail = (err) => {
  process.stderr.write(`tsgi-cgi: cannot load tsgi from ${HOME_DIR} (set TSGI_HOME to the tsgi package directory): ${err && err.stack}\n`);
  process.stdout.write('Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nInternal Server Error\n', () => process.exit(0));
};
const path = require('node:path');
let runtime = null;
try {
  runtime = require(path.join(HOME_DIR, 'dist', 'adapters', 'cgi', 'bundle.cjs'));
} catch (err) {
  if (!err || err.code !== 'MODULE_NOT_FOUND') fail(err);
  // No bundle (tsgi built with tsc alone): the same runtime as ES modules, slower to start.
  else import(require('node:url').pathToFileURL(path.join(HOME_DIR, 'dist', 'adapters', 'cgi', 'main.js')).href).then((m) => m.main(APP), fail);
}
if (runtime !== null) runtime.main(APP);
