/**
 * The layers of tsgi, checked by `npm run lint:deps` (run by `npm test`). Arrows point one way:
 *
 *   app-api/        the application side: types, SPEC rules, lint, header rules, body input, tools, bridge
 *   gateway/core/   the transport-neutral core: environ, serveApp, dispatch, sink, log, inject
 *   adapters/       wire protocols on plain options (http, fastcgi, scgi, cgi, auto, proxy, connections)
 *   gateway/*       the server runtime (config, fronts registry, listeners, modes, threads, processes,
 *                   metrics, lifecycle, CLI): the one composition root that knows every adapter
 *
 * A module may import its own layer and the layers below it, never above, and no import circle anywhere.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle makes load order matter (a value used before its module finished initialising).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'app-api-imports-no-server',
      severity: 'error',
      comment: 'app-api is what an app author uses: it must not pull in the gateway core, the adapters or the runtime.',
      from: { path: '^app-api/' },
      to: { path: '^(gateway|adapters)/' },
    },
    {
      name: 'core-imports-app-api-only',
      severity: 'error',
      comment: 'The core is transport-neutral: it knows app-api and itself, no wire protocol and no runtime.',
      from: { path: '^gateway/core/' },
      to: { path: '^(adapters/|gateway/(?!core/))' },
    },
    {
      name: 'adapters-import-no-runtime',
      severity: 'error',
      comment: 'Adapters take plain options; the runtime maps the config onto them (gateway/fronts). Below the runtime.',
      from: { path: '^adapters/' },
      to: { path: '^gateway/(?!core/)' },
    },
    {
      name: 'library-imports-no-tests',
      severity: 'error',
      comment: 'Shipped code never imports test code.',
      from: { path: '^(app-api|gateway|adapters)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
