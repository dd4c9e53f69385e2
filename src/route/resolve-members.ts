import { Resolver } from 'node:dns/promises';
import type { ClusterConfig } from './config.ts';

/** Candidate members: the static list, or every address the headless Service name resolves to. */
export type CandidateSource = () => Promise<string[]>;

/** Resolves A and AAAA records, as the Collector's dns resolver does, into receiver base URLs. */
export function dnsCandidates(config: ClusterConfig['dns'], servers?: string[]): CandidateSource {
  return async () => {
    const resolver = new Resolver({ timeout: config.timeout, tries: 1 });
    if (servers) resolver.setServers(servers);
    const [v4, v6] = await Promise.all([
      resolver.resolve4(config.hostname).catch(() => [] as string[]),
      resolver.resolve6(config.hostname).catch(() => [] as string[]),
    ]);
    if (v4.length + v6.length === 0) throw new Error(`${config.hostname} resolved to no address`);
    return [
      ...v4.map((ip) => `http://${ip}:${config.port}`),
      ...v6.map((ip) => `http://[${ip}]:${config.port}`),
    ];
  };
}

export function candidateSource(config: ClusterConfig): CandidateSource {
  if (config.dns.hostname !== '') return dnsCandidates(config.dns);
  return async () => config.peers;
}
