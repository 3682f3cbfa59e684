/** A throwaway self-signed certificate for HTTPS / HTTP/2 tests, made with the openssl CLI at test time. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Paths and PEM text of a temporary key and certificate for `localhost` / 127.0.0.1. */
export interface TempCert {
  dir: string;
  keyFile: string;
  certFile: string;
  cert: Buffer;
  /** Delete the files. */
  remove(): void;
}

/** Generate a P-256 key and a 1-day self-signed certificate valid for localhost and 127.0.0.1. */
export function makeTempCert(): TempCert {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-cert-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ], { stdio: 'pipe' });
  return { dir, keyFile, certFile, cert: readFileSync(certFile), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
