import { createHash } from 'node:crypto';

/** Hex SHA-256 of a text (UTF-8). */
export const sha256Hex = (text: string | Uint8Array): string =>
  createHash('sha256').update(text).digest('hex');

/**
 * JSON with object keys sorted at every level, so that two equal configs have one text (and one digest)
 * whatever order their YAML listed the keys in.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

const join = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

/**
 * The dotted paths (as config errors name keys: `a.b[2].c`) of the leaves that differ between two trees;
 * a key present on one side only is one path. Names only: never the values.
 */
export function changedPaths(before: unknown, after: unknown, path = ''): string[] {
  const isTree = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';
  if (!isTree(before) || !isTree(after) || Array.isArray(before) !== Array.isArray(after)) {
    return canonicalJson(before) === canonicalJson(after) ? [] : [path];
  }
  const keys = Array.isArray(before)
    ? Array.from({ length: Math.max(before.length, (after as unknown as unknown[]).length) }, (_, i) => i)
    : [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return keys.flatMap((key) =>
    changedPaths(
      (before as Record<string | number, unknown>)[key],
      (after as Record<string | number, unknown>)[key],
      join(path, key),
    ),
  );
}
