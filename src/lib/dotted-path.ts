/**
 * Turns a JSON Pointer (ajv's `instancePath`, e.g. `/spans/0/attrs/a~1b`) into the path users write:
 * `spans[0].attrs.a/b`. Shared by config errors and beacon errors, so both name fields the same way.
 */
export function dottedPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('')
    .replace(/^\./, '');
}
