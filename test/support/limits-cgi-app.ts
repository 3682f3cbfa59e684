/** The limits tests' app as a CGI entry module exports it (examples/cgi/app.cgi loads `app`). */
export { bodyLengthApp as app } from './limits.js';
