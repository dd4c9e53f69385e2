/** Names a field as users write it from its path's segments: `['spans', 0, 'attrs', 'a/b']` is `spans[0].attrs.a/b`. */
export function fieldPath(segments: readonly (string | number)[]): string {
  let path = '';
  for (const segment of segments) {
    if (typeof segment === 'number' || /^\d+$/.test(segment)) path += `[${segment}]`;
    else path += path === '' ? segment : `.${segment}`;
  }
  return path;
}

/**
 * Turns a JSON Pointer (ajv's `instancePath`, e.g. `/spans/0/attrs/a~1b`) into the path users write:
 * `spans[0].attrs.a/b`. Shared by config errors and beacon errors, so both name fields the same way.
 */
export function dottedPath(pointer: string): string {
  return fieldPath(
    pointer
      .split('/')
      .slice(1)
      .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~')),
  );
}
