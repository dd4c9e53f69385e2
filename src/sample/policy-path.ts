import { ConfigError } from '../lib/errors.ts';

const POLICY_LIST = /^(policies|and_sub_policy|drop_sub_policy|composite_sub_policy)$/;

/** ` (name "errors")` for a policy with a name: long policy lists are searched by name, not index. */
export function nameOf(policy: unknown): string {
  const name = (policy as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? ` (name ${JSON.stringify(name)})` : '';
}

/**
 * Adds policy names to a config error inside `tail_sampling`: `tail_sampling.policies[2].latency` becomes
 * `tail_sampling.policies[2] (name "slow").latency`. Other errors pass through unchanged.
 */
export function withPolicyNames(tree: unknown, error: ConfigError): ConfigError {
  if (!error.key.startsWith('tail_sampling.')) return error;
  let node: unknown = tree;
  let key = '';
  let previous = '';
  for (const part of error.key.match(/[^.[\]]+|\[\d+\]/g) ?? []) {
    const index = part.startsWith('[') ? Number(part.slice(1, -1)) : undefined;
    node = (node as Record<string | number, unknown> | undefined)?.[index ?? part];
    if (index !== undefined) key += `${part}${POLICY_LIST.test(previous) ? nameOf(node) : ''}`;
    else key += `${key ? '.' : ''}${part}${part === 'not_sub_policy' ? nameOf(node) : ''}`;
    previous = part;
  }
  return new ConfigError(key, error.message.slice(error.key.length + 2));
}
