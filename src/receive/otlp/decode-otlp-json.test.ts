import { describe, expect, it } from 'vitest';
import type { SpanRecord } from '../../model/span.ts';
import { decodeOtlpJson } from './decode-otlp-json.ts';

const TRACE = '0AF7651916CD43DD8448EB211C80319C';
const SPAN = 'b7ad6b7169203331';

const request = (span: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  resourceSpans: [
    {
      resource: {
        attributes: [{ key: 'service.name', value: { stringValue: 'api' } }],
        droppedAttributesCount: 1,
      },
      schemaUrl: 'https://r',
      scopeSpans: [{ scope: { name: 'lib', version: '2' }, schemaUrl: 'https://s', spans: [span] }],
      ...extra,
    },
  ],
});
const decode = (body: unknown) =>
  decodeOtlpJson(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)));
const first = (body: unknown) => decode(body).records[0] as SpanRecord;
/** Matches the 400 a refused body throws. */
const refused = (message: RegExp) =>
  expect.objectContaining({ statusCode: 400, message: expect.stringMatching(message) });

describe('decodeOtlpJson', () => {
  it('reads OTLP/JSON: hex ids, enum integers, 64-bit integers as strings or numbers, base64 bytes', () => {
    const { span, resource, scope } = first(
      request({
        traceId: TRACE,
        spanId: SPAN,
        parentSpanId: '',
        traceState: 'a=1',
        flags: 257,
        name: 'n',
        kind: 3,
        startTimeUnixNano: '1764000000123456789',
        endTimeUnixNano: 1764000000223456,
        attributes: [
          { key: 's', value: { stringValue: 'x' } },
          { key: 'i', value: { intValue: '-9223372036854775808' } },
          { key: 'n', value: { intValue: 7 } },
          { key: 'd', value: { doubleValue: 'Infinity' } },
          { key: 'b', value: { boolValue: false } },
          { key: 'y', value: { bytesValue: 'AP8=' } },
          { key: 'a', value: { arrayValue: { values: [{ intValue: '1' }, {}] } } },
          { key: 'k', value: { kvlistValue: { values: [{ key: 'in', value: { stringValue: 'v' } }] } } },
          { key: 'e' },
        ],
        droppedAttributesCount: 2,
        events: [{ timeUnixNano: '5', name: 'ev', attributes: [], droppedAttributesCount: 3 }],
        droppedEventsCount: 4,
        links: [{ traceId: TRACE, spanId: SPAN, traceState: 't', flags: 1, droppedAttributesCount: 5 }],
        droppedLinksCount: 6,
        status: { code: 2, message: 'm' },
        someFutureField: { ignored: true },
      }),
    );
    expect(span).toEqual({
      traceId: TRACE.toLowerCase(),
      spanId: SPAN,
      parentSpanId: '',
      traceState: 'a=1',
      flags: 257,
      name: 'n',
      kind: 3,
      startTimeUnixNano: 1764000000123456789n,
      endTimeUnixNano: 1764000000223456n,
      attributes: [
        { key: 's', value: { type: 'string', value: 'x' } },
        { key: 'i', value: { type: 'int', value: -9223372036854775808n } },
        { key: 'n', value: { type: 'int', value: 7 } },
        { key: 'd', value: { type: 'double', value: Number.POSITIVE_INFINITY } },
        { key: 'b', value: { type: 'bool', value: false } },
        { key: 'y', value: { type: 'bytes', value: new Uint8Array([0, 255]) } },
        { key: 'a', value: { type: 'array', value: [{ type: 'int', value: 1 }, { type: 'empty' }] } },
        {
          key: 'k',
          value: { type: 'kvlist', value: [{ key: 'in', value: { type: 'string', value: 'v' } }] },
        },
        { key: 'e', value: { type: 'empty' } },
      ],
      droppedAttributesCount: 2,
      events: [{ timeUnixNano: 5n, name: 'ev', attributes: [], droppedAttributesCount: 3 }],
      droppedEventsCount: 4,
      links: [
        {
          traceId: TRACE.toLowerCase(),
          spanId: SPAN,
          traceState: 't',
          attributes: [],
          droppedAttributesCount: 5,
          flags: 1,
        },
      ],
      droppedLinksCount: 6,
      status: { code: 2, message: 'm' },
    });
    expect(resource).toMatchObject({ droppedAttributesCount: 1, schemaUrl: 'https://r' });
    expect(scope).toMatchObject({ name: 'lib', version: '2', schemaUrl: 'https://s' });
  });

  it('accepts the proto field names and enum names too', () => {
    const { span } = first({
      resource_spans: [
        {
          scope_spans: [
            {
              spans: [
                {
                  trace_id: TRACE,
                  span_id: SPAN,
                  start_time_unix_nano: '10',
                  kind: 'SPAN_KIND_CONSUMER',
                  status: { code: 'STATUS_CODE_OK' },
                },
              ],
            },
          ],
        },
      ],
    });
    expect(span).toMatchObject({ startTimeUnixNano: 10n, kind: 5, status: { code: 1, message: '' } });
  });

  it('rejects spans with unusable ids alone', () => {
    const batch = decode(request({ traceId: 'xyz', spanId: SPAN }));
    expect(batch.records).toHaveLength(0);
    expect(batch.problem).toMatch(/spans\[0\]: trace_id must be 16 bytes \(32 hex digits\), got "xyz"/);
  });

  it.each([
    ['not JSON', '{', /^body is not valid JSON/],
    [
      'spans not a list',
      request({}, { scopeSpans: [{ spans: {} }] }),
      /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans: expected an array, got a object/,
    ],
    [
      'a time that is not an integer',
      request({ traceId: TRACE, spanId: SPAN, endTimeUnixNano: 1.5 }),
      /spans\[0\]\.endTimeUnixNano: expected an unsigned 64-bit integer/,
    ],
    [
      'an int beyond 64 bits',
      request({ attributes: [{ key: 'x', value: { intValue: '99999999999999999999' } }] }),
      /spans\[0\]\.attributes\[0\]\.intValue: 99999999999999999999 is out of the 64-bit range/,
    ],
    ['a name that is a number', request({ name: 5 }), /spans\[0\]\.name: expected a string, got a number/],
    [
      'bytes that are not base64',
      request({ attributes: [{ key: 'x', value: { bytesValue: '%%' } }] }),
      /bytesValue: expected base64 bytes/,
    ],
    [
      'an unknown kind name',
      request({ kind: 'SPAN_KIND_SIDEWAYS' }),
      /kind: expected an integer or one of SPAN_KIND_UNSPECIFIED/,
    ],
    [
      'an int as a JSON number too large to be exact',
      request({ attributes: [{ key: 'x', value: { intValue: 1e300 } }] }),
      /spans\[0\]\.attributes\[0\]\.intValue: 1e\+300 cannot be represented exactly as a JSON number; send 64-bit integers as decimal strings/,
    ],
    [
      'an int just past 2^53 as a JSON number',
      request({ attributes: [{ key: 'x', value: { intValue: 2 ** 53 } }] }),
      /intValue: 9007199254740992 cannot be represented exactly/,
    ],
    [
      'a time as a JSON number too large to be exact',
      request({ traceId: TRACE, spanId: SPAN, startTimeUnixNano: 1e300 }),
      /spans\[0\]\.startTimeUnixNano: 1e\+300 cannot be represented exactly/,
    ],
    [
      'an event time past 2^53 as a JSON number',
      request({ events: [{ timeUnixNano: 2 ** 60 }] }),
      /spans\[0\]\.events\[0\]\.timeUnixNano: 1152921504606847000 cannot be represented exactly/,
    ],
    [
      'a double too large for a double',
      // As text: JSON.stringify would write Infinity as null.
      '{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"x","value":{"doubleValue":1e400}}]}]}]}]}',
      /doubleValue: the number is out of the range of a double/,
    ],
    ['a kind beyond int32', request({ kind: 1e300 }), /kind: expected an integer or one of/],
  ])('refuses %s, naming where', (_what, body, message) => {
    expect(() => decode(body)).toThrow(refused(message));
  });

  it('ignores unknown keys however deep they nest, in the resource, the scope and the span', () => {
    const deep = `${'{"x":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const body = JSON.stringify(request({ traceId: TRACE, spanId: SPAN, unknown: 0 }))
      .replace('"droppedAttributesCount":1', `"droppedAttributesCount":1,"unknown":${deep}`)
      .replace('"version":"2"', `"version":"2","unknown":${deep}`)
      .replace('"unknown":0', `"unknown":${deep}`);
    const { span, resource, scope } = first(body);
    expect(span.spanId).toBe(SPAN);
    expect(resource.attributes).toEqual([{ key: 'service.name', value: { type: 'string', value: 'api' } }]);
    expect(scope.name).toBe('lib');
    // The interning keys come from what was decoded: the unknown keys make no difference.
    const plain = first(request({ traceId: TRACE, spanId: SPAN }));
    expect(resource.key).toBe(plain.resource.key);
    expect(scope.key).toBe(plain.scope.key);
    expect(resource.key).not.toBe(
      first(request({ traceId: TRACE, spanId: SPAN }, { schemaUrl: 'https://other' })).resource.key,
    );
  });

  it('refuses values nested deeper than the limit, however deep the JSON goes', () => {
    // Built as text: far deeper than JSON.stringify (or a recursive walk) could handle.
    const depth = 100_000;
    const value = `${'{"kvlistValue":{"values":[{"key":"k","value":'.repeat(depth)}{}${'}]}}'.repeat(depth)}`;
    const body = JSON.stringify(request({ attributes: [{ key: 'deep', value: 0 }] })).replace(
      '"value":0',
      `"value":${value}`,
    );
    expect(() => decode(body)).toThrow(refused(/nest deeper than 32 levels/));
  });
});
