/** The front renderers of `tsgi check`, by name: one file per web server. */
import { apacheFront } from './apache.js';
import { haproxyFront } from './haproxy.js';
import { lighttpdFront } from './lighttpd.js';
import { nginxFront } from './nginx.js';
import type { FrontName, FrontRenderer } from './types.js';

/** Every front `--front` accepts. */
export const CHECK_FRONTS: Readonly<Record<FrontName, FrontRenderer>> = {
  nginx: nginxFront,
  apache: apacheFront,
  lighttpd: lighttpdFront,
  haproxy: haproxyFront,
};
