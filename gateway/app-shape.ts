/**
 * Which interface an app module speaks, and the tsgi app made of it: the detection is app-api/bridge/shape.ts
 * (shared with the CGI entry, which may not import the gateway); this module keeps the CLI's import path.
 */
export { adaptApp, appShape, detectShape, type AppShape } from '../app-api/bridge/shape.js';
