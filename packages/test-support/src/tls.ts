import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface SelfSignedCert {
  /** PEM certificate (also the CA to trust: it signs itself). */
  certFile: string;
  /** PEM private key. */
  keyFile: string;
}

/**
 * A fresh self-signed certificate for `localhost` and 127.0.0.1 (P-256, one day), written to
 * `<dir>/<name>.crt` and `<dir>/<name>.key` with openssl(1).
 */
export function makeSelfSignedCert(dir: string, name = 'server'): SelfSignedCert {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 },
  );
  return { certFile, keyFile };
}
