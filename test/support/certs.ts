import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM files of a test CA and of certificates it signed, made with the machine's openssl. */
export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  readonly ca: string;
  /** Issues a certificate for 127.0.0.1 (server or client); returns its cert and key files and its serial. */
  issue(name: string): { certFile: string; keyFile: string; serial: string };
}

const openssl = (...args: string[]): string => execFileSync('openssl', args, { encoding: 'utf8' });

export function testPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'edge-relay-pki-'));
  const caKey = join(dir, 'ca.key');
  const caFile = join(dir, 'ca.pem');
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=edge-relay test CA',
    '-keyout',
    caKey,
    '-out',
    caFile,
  );
  const ext = join(dir, 'ext.cnf');
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  return {
    dir,
    caFile,
    ca: readFileSync(caFile, 'utf8'),
    issue(name) {
      const keyFile = join(dir, `${name}.key`);
      const csr = join(dir, `${name}.csr`);
      const certFile = join(dir, `${name}.pem`);
      openssl(
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-subj',
        `/CN=${name}`,
        '-keyout',
        keyFile,
        '-out',
        csr,
      );
      openssl(
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        caFile,
        '-CAkey',
        caKey,
        '-CAcreateserial',
        '-days',
        '2',
        '-extfile',
        ext,
        '-out',
        certFile,
      );
      const serial = openssl('x509', '-in', certFile, '-noout', '-serial')
        .trim()
        .replace(/^serial=/, '');
      return { certFile, keyFile, serial };
    },
  };
}
