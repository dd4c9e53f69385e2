import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveConfig } from '../service/load-config.ts';

// Every YAML example in docs/sampling.md must be a valid relay config or a valid policy list.
const doc = readFileSync(new URL('../../docs/sampling.md', import.meta.url), 'utf8');
const examples = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);

describe('docs/sampling.md', () => {
  it('has examples', () => expect(examples.length).toBeGreaterThan(15));
  it.each(examples.map((text, i) => [i, text]))('example %i validates', (_, text) => {
    const tree = parse(text as string);
    const config = Array.isArray(tree) ? { tail_sampling: { policies: tree } } : tree;
    expect(() => resolveConfig(config)).not.toThrow();
  });
});
