/**
 * The app every integration front serves: the conformance app plus the probe routes (harness/probes.ts).
 * Loaded by the CLI (`tsgi dist/test/integration/bin/app.js`), the CGI entry and the fd-0 FastCGI entry.
 */
import { conformanceApp } from '../../conformance/apps.js';
import { withProbes } from '../harness/probes.js';

export const app = withProbes(conformanceApp);
export default app;
