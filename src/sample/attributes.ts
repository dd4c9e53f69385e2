import type { AnyValue, KeyValue } from '../model/span.ts';
import type { Trace } from './policy.ts';

function attributeValue(attributes: readonly KeyValue[], key: string): AnyValue | undefined {
  for (const attribute of attributes) if (attribute.key === key) return attribute.value;
  return undefined;
}

/**
 * True when `test` passes for the value of `key` on any span or on any span's resource, so that resource
 * attributes such as akamai.edge.pop drive policies like span attributes do.
 */
export function anyAttribute(trace: Trace, key: string, test: (value: AnyValue) => boolean): boolean {
  let lastResource: unknown;
  for (const { span, resource } of trace.spans) {
    const own = attributeValue(span.attributes, key);
    if (own !== undefined && test(own)) return true;
    if (resource === lastResource) continue;
    lastResource = resource;
    const shared = attributeValue(resource.attributes, key);
    if (shared !== undefined && test(shared)) return true;
  }
  return false;
}

/** Whether the attribute was found matching, turned into a decision; `invert` samples the traces that do not match. */
export const matched = (found: boolean, invert: boolean): boolean => found !== invert;
