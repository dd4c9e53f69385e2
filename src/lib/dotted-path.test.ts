import { describe, expect, it } from 'vitest';
import { dottedPath } from './dotted-path.ts';

describe('dottedPath', () => {
  it.each([
    ['', ''],
    ['/receiver/endpoint', 'receiver.endpoint'],
    ['/spans/0/attrs/http.route', 'spans[0].attrs.http.route'],
    ['/spans/12/attrs/a~1b~0c', 'spans[12].attrs.a/b~c'],
  ])('%j → %j', (pointer, path) => {
    expect(dottedPath(pointer)).toBe(path);
  });
});
