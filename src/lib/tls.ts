import { readFileSync } from 'node:fs';
import type { SecureVersion } from 'node:tls';
import type { ConfigOf } from './component.ts';
import { ConfigError } from './errors.ts';
import { section } from './schema-keywords.ts';

// The Collector's configtls keys, for the exporter's client side and the receiver's server side. Go's
// cipher suite names are not OpenSSL's, so `cipher_suites` is not taken (docs/configuration.md).

const version = { enum: ['1.0', '1.1', '1.2', '1.3'] } as const;
const common = {
  cert_file: { type: 'string', default: '' },
  cert_pem: { type: 'string', default: '' },
  key_file: { type: 'string', default: '' },
  key_pem: { type: 'string', default: '' },
  min_version: { ...version, default: '1.2' },
  max_version: { ...version, default: '1.3' },
} as const;

export const clientTlsSchema = section({
  ...common,
  // The CA that signs the backend's certificate, instead of the system's.
  ca_file: { type: 'string', default: '' },
  ca_pem: { type: 'string', default: '' },
  // For the Collector's configs: with OTLP/HTTP the URL's scheme decides whether TLS is used.
  insecure: { type: 'boolean', default: false },
  insecure_skip_verify: { type: 'boolean', default: false },
  server_name_override: { type: 'string', default: '' },
  include_system_ca_certs_pool: { type: 'boolean', default: false },
});
export type ClientTlsConfig = ConfigOf<typeof clientTlsSchema>;

export const serverTlsSchema = section({
  ...common,
  // Clients must present a certificate signed by this CA (mutual TLS).
  client_ca_file: { type: 'string', default: '' },
});
export type ServerTlsConfig = ConfigOf<typeof serverTlsSchema>;

const TLS_VERSION: Record<string, SecureVersion> = {
  '1.0': 'TLSv1',
  '1.1': 'TLSv1.1',
  '1.2': 'TLSv1.2',
  '1.3': 'TLSv1.3',
};

/** A PEM given inline, else read from its file, else undefined. */
export const readPem = (inline: string, file: string): string | undefined =>
  inline !== '' ? inline : file !== '' ? readFileSync(file, 'utf8') : undefined;

/** Node's TLS options: certificates (read now), the CA the peer is checked against, and versions. */
export function tlsOptions(config: ClientTlsConfig | ServerTlsConfig) {
  return {
    ca:
      'client_ca_file' in config
        ? readPem('', config.client_ca_file)
        : readPem(config.ca_pem, config.ca_file),
    cert: readPem(config.cert_pem, config.cert_file),
    key: readPem(config.key_pem, config.key_file),
    minVersion: TLS_VERSION[config.min_version],
    maxVersion: TLS_VERSION[config.max_version],
  };
}

/** The files a TLS config reads, to be watched for changes. */
export function tlsFiles(config: ClientTlsConfig | ServerTlsConfig): string[] {
  const ca = 'client_ca_file' in config ? config.client_ca_file : config.ca_file;
  return [config.cert_file, config.key_file, ca].filter((file) => file !== '');
}

/**
 * Throws a ConfigError naming the key of a certificate or key file that cannot be read: at start-up, so that
 * a missing Secret stops the relay with a clear message rather than failing every connection later.
 */
export function checkTlsFilesReadable(prefix: string, config: ClientTlsConfig | ServerTlsConfig): void {
  for (const key of ['cert_file', 'key_file', 'ca_file', 'client_ca_file'] as const) {
    const file = (config as Partial<Record<typeof key, string>>)[key];
    if (file) checkFileReadable(`${prefix}.${key}`, file);
  }
}

/** Reads `file` once, so that a path that cannot be read stops the start naming its key. */
export function checkFileReadable(key: string, file: string): void {
  try {
    readFileSync(file);
  } catch (err) {
    throw new ConfigError(key, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`);
  }
}
