import type { VersionHealthConfig } from '../../src/health/config.ts';
import { resolveConfig } from '../../src/service/load-config.ts';

/** The version_health section with every default filled in, as the relay resolves it. */
export function versionHealthConfig(section: Record<string, unknown> = {}): VersionHealthConfig {
  return resolveConfig({ version_health: section }).version_health as VersionHealthConfig;
}
