import type { Resource, Scope, SpanRecord } from '../model/span.ts';

/** Spans of one resource, by scope: one ResourceSpans and its ScopeSpans in an export request. */
export interface Group {
  resource: Resource;
  /** Spans by index into the records. */
  scopes: Map<string, { scope: Scope; spans: number[] }>;
}

export function groupByResourceAndScope(records: readonly SpanRecord[]): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (let i = 0; i < records.length; i++) {
    const { resource, scope } = records[i] as SpanRecord;
    let group = groups.get(resource.key);
    if (!group) {
      group = { resource, scopes: new Map() };
      groups.set(resource.key, group);
    }
    let scoped = group.scopes.get(scope.key);
    if (!scoped) {
      scoped = { scope, spans: [] };
      group.scopes.set(scope.key, scoped);
    }
    scoped.spans.push(i);
  }
  return groups;
}
