import type { Server } from 'node:https';
import { ConfigError } from '../lib/errors.ts';
import { type ServerTlsConfig, tlsFiles, tlsOptions } from '../lib/tls.ts';
import { watchFiles } from '../lib/watch-files.ts';
import type { Logger } from '../telemetry/logger.ts';

/** TLS is on when the receiver has a certificate. */
export const tlsEnabled = (config: ServerTlsConfig): boolean =>
  config.cert_file !== '' || config.cert_pem !== '';

/** What JSON Schema cannot say: a certificate needs its key, and mutual TLS needs TLS. */
export function checkServerTls(config: ServerTlsConfig): void {
  const hasKey = config.key_file !== '' || config.key_pem !== '';
  if (tlsEnabled(config) && !hasKey)
    throw new ConfigError('receiver.tls.key_file', 'required with cert_file');
  if (!tlsEnabled(config) && hasKey)
    throw new ConfigError('receiver.tls.cert_file', 'required with key_file');
  if (!tlsEnabled(config) && config.client_ca_file !== '') {
    throw new ConfigError('receiver.tls.client_ca_file', 'mutual TLS needs cert_file and key_file too');
  }
}

/** The https server options: with `client_ca_file`, every client must present a certificate it signed. */
export function serverTlsOptions(config: ServerTlsConfig) {
  const mutual = config.client_ca_file !== '';
  return { ...tlsOptions(config), requestCert: mutual, rejectUnauthorized: mutual };
}

/**
 * Swaps the server's certificates when their files change (cert-manager renews a Secret in place): new
 * connections get the new ones, open connections keep theirs, nothing restarts. A set of files that
 * cannot be read or does not match keeps the running certificates and says so.
 */
export function reloadTlsOnChange(server: Server, config: ServerTlsConfig, log: Logger): () => void {
  return watchFiles(
    tlsFiles(config),
    () => {
      try {
        server.setSecureContext(serverTlsOptions(config));
        log.info({ files: tlsFiles(config) }, 'receiver TLS certificates reloaded');
      } catch (err) {
        log.error(
          { error: (err as Error).message },
          'receiver TLS reload rejected; the running certificates stay',
        );
      }
    },
    (file, err) =>
      log.warn({ file, error: err.message }, 'cannot watch a receiver TLS file; restart to reload it'),
  );
}
