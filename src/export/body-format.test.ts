import { describe, expect, it } from 'vitest';
import { type BodyFormat, bodyHeaders, formatFlags, formatOf } from './body-format.ts';

describe('body formats', () => {
  it('round-trips every encoding and compression through the stored flags', () => {
    for (const encoding of ['proto', 'json'] as const) {
      for (const compression of ['none', 'gzip', 'zstd', 'deflate'] as const) {
        const format: BodyFormat = { encoding, compression };
        expect(formatOf(formatFlags(format))).toEqual(format);
      }
    }
  });

  it('reads the records of queues written when gzip was the only flag', () => {
    expect(formatOf(1)).toEqual({ encoding: 'proto', compression: 'gzip' });
    expect(formatOf(0)).toEqual({ encoding: 'proto', compression: 'none' });
  });

  it('names the body in its headers, over the configured ones', () => {
    expect(bodyHeaders({ encoding: 'json', compression: 'zstd' }, { 'x-token': 't' })).toEqual({
      'x-token': 't',
      'content-type': 'application/json',
      'content-encoding': 'zstd',
    });
    expect(bodyHeaders({ encoding: 'proto', compression: 'none' }, {})).toEqual({
      'content-type': 'application/x-protobuf',
    });
  });
});
