import { rootCertificates } from 'node:tls';
import { Agent, type Dispatcher, ProxyAgent, fetch as undiciFetch } from 'undici';
import { type ClientTlsConfig, tlsOptions } from './tls.ts';

export interface ClientConfig {
  readonly tls: ClientTlsConfig;
  /** "" for none. */
  readonly proxy_url: string;
}

/** Whether a TLS config asks for anything beyond Node's defaults (system CAs, verified, TLS 1.2+). */
const customTls = (tls: ClientTlsConfig): boolean =>
  tls.ca_file !== '' ||
  tls.ca_pem !== '' ||
  tls.cert_file !== '' ||
  tls.cert_pem !== '' ||
  tls.insecure_skip_verify ||
  tls.server_name_override !== '' ||
  tls.min_version !== '1.2' ||
  tls.max_version !== '1.3';

function dispatcher(config: ClientConfig): Dispatcher {
  const { ca, ...rest } = tlsOptions(config.tls);
  const connect = {
    ...rest,
    // A configured CA replaces Node's list unless the system pool is asked for too, as in the Collector.
    ca: ca !== undefined && config.tls.include_system_ca_certs_pool ? [...rootCertificates, ca] : ca,
    rejectUnauthorized: !config.tls.insecure_skip_verify,
    ...(config.tls.server_name_override !== '' ? { servername: config.tls.server_name_override } : {}),
  };
  return config.proxy_url === ''
    ? new Agent({ connect })
    : new ProxyAgent({ uri: config.proxy_url, requestTls: connect });
}

/**
 * The fetch the exporter sends with: Node's own, or, with TLS settings or a proxy, undici's fetch over a
 * dispatcher that applies them (Node's fetch takes no TLS options). Certificates are read when this is
 * called: a sender made again after a change of the files picks up the new ones.
 */
export function clientFetch(config: ClientConfig): typeof fetch {
  if (!customTls(config.tls) && config.proxy_url === '') return fetch;
  const through = dispatcher(config);
  return ((url: string, init: RequestInit) =>
    undiciFetch(url, { ...(init as object), dispatcher: through })) as unknown as typeof fetch;
}
