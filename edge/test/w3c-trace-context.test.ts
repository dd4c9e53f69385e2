/**
 * The W3C Trace Context test suite (github.com/w3c/trace-context, test/test.py at acab820), ported as
 * data: each case is a request the harness sends and what it asserts of the traceparent and tracestate
 * the service sends on. The service is an EdgeWorker that is only the tracer, under the shim; what it
 * sends on is the forward request to the origin (and, for the suite's multiple-callback cases, the
 * worker's own sub-requests). The suite runs at STRICT_LEVEL 2, which expects an invalid tracestate to
 * be discarded: the tracer runs with dropInvalidTracestate, and with continueTraces, as the harness is
 * a caller the service trusts.
 */
import { describe, expect, test, vi } from 'vitest';
import { BEACONS, exampleProperty, SITE, tracerOnly, useStubs } from './edge-fixture.ts';
import { EdgeServer } from './shim/edge-server.ts';

vi.mock('http-request', () => import('./shim/http-request.ts'));
vi.mock('crypto', () => import('./shim/crypto.ts'));
vi.mock('log', () => import('./shim/log.ts'));

const ID = '12345678901234567890123456789012';
const PARENT = '1234567890123456';
const tp = (flags = '00') => `00-${ID}-${PARENT}-${flags}`;

type Lines = [string, string][];

/** What the harness asserts of one request; absent fields are not asserted. */
interface Expect {
  /** The trace id sent on: the one sent in ('continued'), or a new one, different from all of `not`. */
  trace?: 'continued' | { readonly not: readonly string[] };
  /** The parent id sent on differs from the one sent in. */
  newParent?: true;
  /** W3C level 2: the random-trace-id flag is set. */
  random?: true;
  /** Members of the tracestate sent on, and their values. */
  members?: Readonly<Record<string, string>>;
  /** Keys the tracestate sent on does not have (the harness's KeyError). */
  absent?: readonly string[];
  /** How many members it has. */
  size?: number;
  /** Substrings of the tracestate, in this order. */
  order?: readonly string[];
  /** At least one of these substrings (a duplicated key may be kept once or as sent). */
  oneOf?: readonly string[];
}

interface Case {
  test: string;
  send: Lines;
  expect: Expect;
}

const NEW = { trace: { not: [ID] } } as const;
const CONTINUED = { trace: 'continued' } as const;
const key = 'abcdefghijklmnopqrstuvwxyz0123456789_-*/';
const value = [
  [0x20, 0x2b],
  [0x2d, 0x3c],
  [0x3e, 0x7e],
]
  .flatMap(([from = 0, to = 0]) =>
    Array.from({ length: to - from + 1 }, (_, i) => String.fromCharCode(from + i)),
  )
  .join('');
const members = (from: number, to: number) =>
  Array.from(
    { length: to - from + 1 },
    (_, i) => `bar${String(from + i).padStart(2, '0')}=${String(from + i).padStart(2, '0')}`,
  ).join(',');

/** A valid traceparent, then these tracestate header lines. */
const states = (...lines: string[]): Lines => [
  ['traceparent', tp()],
  ...lines.map((s): [string, string] => ['tracestate', s]),
];

const TRACEPARENT: Case[] = [
  { test: 'both_traceparent_and_tracestate_missing', send: [], expect: {} },
  {
    test: 'traceparent_included_tracestate_missing',
    send: [['traceparent', tp('01')]],
    expect: { ...CONTINUED, newParent: true },
  },
  {
    test: 'traceparent_duplicated',
    send: [
      ['traceparent', `00-12345678901234567890123456789011-${PARENT}-01`],
      ['traceparent', tp('01')],
    ],
    expect: { trace: { not: ['12345678901234567890123456789011', ID] } },
  },
  { test: 'traceparent_header_name', send: [['trace-parent', tp('01')]], expect: NEW },
  { test: 'traceparent_header_name', send: [['trace.parent', tp('01')]], expect: NEW },
  { test: 'traceparent_header_name_valid_casing', send: [['TraceParent', tp('01')]], expect: CONTINUED },
  { test: 'traceparent_header_name_valid_casing', send: [['TrAcEpArEnT', tp('01')]], expect: CONTINUED },
  { test: 'traceparent_header_name_valid_casing', send: [['TRACEPARENT', tp('01')]], expect: CONTINUED },
  { test: 'traceparent_version_0x00', send: [['traceparent', `${tp('01')}.`]], expect: NEW },
  {
    test: 'traceparent_version_0x00',
    send: [['traceparent', `${tp('01')}-what-the-future-will-be-like`]],
    expect: NEW,
  },
  { test: 'traceparent_version_0xcc', send: [['traceparent', `cc-${ID}-${PARENT}-01`]], expect: CONTINUED },
  {
    test: 'traceparent_version_0xcc',
    send: [['traceparent', `cc-${ID}-${PARENT}-01-what-the-future-will-be-like`]],
    expect: CONTINUED,
  },
  {
    test: 'traceparent_version_0xcc',
    send: [['traceparent', `cc-${ID}-${PARENT}-01.what-the-future-will-be-like`]],
    expect: NEW,
  },
  { test: 'traceparent_version_0xff', send: [['traceparent', `ff-${ID}-${PARENT}-01`]], expect: NEW },
  {
    test: 'traceparent_version_illegal_characters',
    send: [['traceparent', `.0-${ID}-${PARENT}-01`]],
    expect: NEW,
  },
  {
    test: 'traceparent_version_illegal_characters',
    send: [['traceparent', `0.-${ID}-${PARENT}-01`]],
    expect: NEW,
  },
  { test: 'traceparent_version_too_long', send: [['traceparent', `000-${ID}-${PARENT}-01`]], expect: NEW },
  { test: 'traceparent_version_too_long', send: [['traceparent', `0000-${ID}-${PARENT}-01`]], expect: NEW },
  { test: 'traceparent_version_too_short', send: [['traceparent', `0-${ID}-${PARENT}-01`]], expect: NEW },
  {
    test: 'traceparent_trace_id_all_zero',
    send: [['traceparent', `00-${'0'.repeat(32)}-${PARENT}-01`]],
    expect: { trace: { not: ['0'.repeat(32)] } },
  },
  {
    test: 'traceparent_trace_id_illegal_characters',
    send: [['traceparent', `00-.${ID.slice(1)}-${PARENT}-01`]],
    expect: { trace: { not: [`.${ID.slice(1)}`] } },
  },
  {
    test: 'traceparent_trace_id_illegal_characters',
    send: [['traceparent', `00-${ID.slice(0, -1)}.-${PARENT}-01`]],
    expect: { trace: { not: [`${ID.slice(0, -1)}.`] } },
  },
  {
    test: 'traceparent_trace_id_too_long',
    send: [['traceparent', `00-${ID}3-${PARENT}-01`]],
    expect: { trace: { not: [`${ID}3`, ID, `${ID.slice(1)}3`] } },
  },
  {
    test: 'traceparent_trace_id_too_short',
    send: [['traceparent', `00-${ID.slice(0, -1)}-${PARENT}-01`]],
    expect: { trace: { not: [ID.slice(0, -1)] } },
  },
  {
    test: 'traceparent_parent_id_all_zero',
    send: [['traceparent', `00-${ID}-${'0'.repeat(16)}-01`]],
    expect: NEW,
  },
  {
    test: 'traceparent_parent_id_illegal_characters',
    send: [['traceparent', `00-${ID}-.${PARENT.slice(1)}-01`]],
    expect: NEW,
  },
  {
    test: 'traceparent_parent_id_illegal_characters',
    send: [['traceparent', `00-${ID}-${PARENT.slice(0, -1)}.-01`]],
    expect: NEW,
  },
  { test: 'traceparent_parent_id_too_long', send: [['traceparent', `00-${ID}-${PARENT}7-01`]], expect: NEW },
  {
    test: 'traceparent_parent_id_too_short',
    send: [['traceparent', `00-${ID}-${PARENT.slice(0, -1)}-01`]],
    expect: NEW,
  },
  {
    test: 'traceparent_trace_flags_illegal_characters',
    send: [['traceparent', `00-${ID}-${PARENT}-.0`]],
    expect: NEW,
  },
  {
    test: 'traceparent_trace_flags_illegal_characters',
    send: [['traceparent', `00-${ID}-${PARENT}-0.`]],
    expect: NEW,
  },
  {
    test: 'traceparent_trace_flags_too_long',
    send: [['traceparent', `00-${ID}-${PARENT}-001`]],
    expect: NEW,
  },
  { test: 'traceparent_trace_flags_too_short', send: [['traceparent', `00-${ID}-${PARENT}-1`]], expect: NEW },
  { test: 'traceparent_ows_handling', send: [['traceparent', ` ${tp('01')}`]], expect: CONTINUED },
  { test: 'traceparent_ows_handling', send: [['traceparent', `\t${tp('01')}`]], expect: CONTINUED },
  { test: 'traceparent_ows_handling', send: [['traceparent', `${tp('01')} `]], expect: CONTINUED },
  { test: 'traceparent_ows_handling', send: [['traceparent', `${tp('01')}\t`]], expect: CONTINUED },
  { test: 'traceparent_ows_handling', send: [['traceparent', `\t ${tp('01')} \t`]], expect: CONTINUED },
  // TraceContext2Test (SPEC_LEVEL 2)
  {
    test: 'propagates_random_flag',
    send: [['traceparent', tp('02')]],
    expect: { ...CONTINUED, newParent: true, random: true },
  },
];

const TRACESTATE: Case[] = [
  {
    test: 'tracestate_included_traceparent_included',
    send: states('foo=1,bar=2'),
    expect: { ...CONTINUED, members: { foo: '1', bar: '2' } },
  },
  ...['trace-state', 'trace.state'].map((name) => ({
    test: 'tracestate_header_name',
    send: [
      ['traceparent', tp()],
      [name, 'foo=1'],
    ] as Lines,
    expect: { absent: ['foo'] },
  })),
  ...['TraceState', 'TrAcEsTaTe', 'TRACESTATE'].map((name) => ({
    test: 'tracestate_header_name_valid_casing',
    send: [
      ['traceparent', tp()],
      [name, 'foo=1'],
    ] as Lines,
    expect: { members: { foo: '1' } },
  })),
  ...[[''], ['foo=1', ''], ['', 'foo=1']].map((lines) => ({
    test: 'tracestate_empty_header',
    send: states(...lines),
    expect: { ...CONTINUED, ...(lines.includes('foo=1') ? { members: { foo: '1' } } : { size: 0 }) },
  })),
  {
    test: 'tracestate_multiple_headers_different_keys',
    send: states('foo=1,bar=2', 'rojo=1,congo=2', 'baz=3'),
    expect: { ...CONTINUED, order: ['foo=1', 'bar=2', 'rojo=1', 'congo=2', 'baz=3'] },
  },
  ...(
    [
      [['foo=1,foo=1'], ['foo=1']],
      [['foo=1,foo=2'], ['foo=1', 'foo=2']],
      [['foo=1', 'foo=1'], ['foo=1']],
      [
        ['foo=1', 'foo=2'],
        ['foo=1', 'foo=2'],
      ],
    ] as const
  ).map(([lines, oneOf]) => ({
    test: 'tracestate_duplicated_keys',
    send: states(...lines),
    expect: { ...CONTINUED, oneOf },
  })),
  ...[key, `${key}@a-z0-9_-*/`].map((k) => ({
    test: 'tracestate_all_allowed_characters',
    send: states(`${k}=${value}`),
    expect: { members: { [k]: value } },
  })),
  ...['foo=1 \t , \t bar=2, \t baz=3', 'foo=1\t \t,\t \tbar=2,\t \tbaz=3'].map((state) => ({
    test: 'tracestate_ows_handling',
    send: states(state),
    expect: { members: { foo: '1', bar: '2', baz: '3' } },
  })),
  ...[' foo=1', '\tfoo=1', 'foo=1 ', 'foo=1\t', '\t foo=1 \t'].map((state) => ({
    test: 'tracestate_ows_handling',
    send: states(state),
    expect: { ...CONTINUED, members: { foo: '1' } },
  })),
  ...[
    ['foo =1', 'foo '],
    ['FOO=1', 'FOO'],
    ['foo.bar=1', 'foo.bar'],
  ].map(([state = '', absent = '']) => ({
    test: 'tracestate_key_illegal_characters',
    send: states(state),
    expect: { absent: [absent] },
  })),
  ...(
    [
      ['foo@=1,bar=2', { members: { 'foo@': '1', bar: '2' } }],
      ['@foo=1,bar=2', { absent: ['bar'] }],
      ['foo@@bar=1,bar=2', { members: { 'foo@@bar': '1', bar: '2' } }],
      ['foo@bar@baz=1,bar=2', { members: { 'foo@bar@baz': '1', bar: '2' } }],
    ] as const
  ).map(([state, expected]) => ({
    test: 'tracestate_key_illegal_vendor_format',
    send: states(state),
    expect: expected as Expect,
  })),
  {
    test: 'tracestate_member_count_limit',
    send: states(members(1, 10), members(11, 20), members(21, 30), members(31, 32)),
    expect: { members: { bar01: '01' }, size: 32 },
  },
  {
    test: 'tracestate_member_count_limit',
    send: states(members(1, 10), members(11, 20), members(21, 30), members(31, 33)),
    expect: { absent: ['bar01'] },
  },
  ...[
    ['z'.repeat(256), true],
    ['z'.repeat(257), false],
    [`${'t'.repeat(241)}@${'v'.repeat(14)}`, true],
    [`${'t'.repeat(242)}@v`, true],
    [`t@${'v'.repeat(15)}`, true],
  ].map(([k, valid]) => ({
    test: 'tracestate_key_length_limit',
    send: states('foo=1', `${k}=1`),
    expect: valid ? { members: { foo: '1', [`${k}`]: '1' } } : { absent: ['foo'] },
  })),
  ...['foo=bar=baz', 'foo=,bar=3'].map((state) => ({
    test: 'tracestate_value_illegal_characters',
    send: states(state),
    expect: { absent: ['foo', 'bar'] },
  })),
];

// The harness's parsers of what the service sent on (test/tracecontext/*.py), in their strictness.
const TRACEPARENT_FORMAT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const MEMBER_FORMAT =
  /^([0-9a-z][_0-9a-z\-*/@]{0,255})=([\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e])$/;

interface Sent {
  traceId: string;
  parentId: string;
  flags: number;
  tracestate: Map<string, string>;
  tracestateText: string;
}

/**
 * Reads the headers a callback carried, as the harness does, failing where its parsers raise. They are
 * taken before they travel: trimmed here as HTTP delivers a field value, without its leading and
 * trailing whitespace.
 */
function parse(sent: Record<string, string>): Sent {
  const headers = Object.entries(sent).map(([name, text]) => [name, text.trim()] as const);
  const traceparents = headers.filter(([name]) => /^traceparent$/i.test(name));
  expect(traceparents, 'one traceparent header').toHaveLength(1);
  const m = TRACEPARENT_FORMAT.exec(traceparents[0]?.[1] ?? '');
  if (!m) throw new Error(`traceparent ${traceparents[0]?.[1]} is not version 00's format`);
  const [, version, traceId = '', parentId = '', flags = ''] = m;
  expect(version).toBe('00');
  expect(traceId).not.toBe('0'.repeat(32));
  expect(parentId).not.toBe('0'.repeat(16));
  const tracestate = new Map<string, string>();
  const texts: string[] = [];
  for (const [name, text] of headers) {
    if (!/^tracestate$/i.test(name)) continue;
    texts.push(text);
    for (const member of text.split(/[ \t]*,[ \t]*/)) {
      if (!member) continue;
      const parsed = MEMBER_FORMAT.exec(member);
      if (!parsed) throw new Error(`tracestate member ${JSON.stringify(member)} is not well formed`);
      const [, k = '', v = ''] = parsed;
      if (!tracestate.has(k)) tracestate.set(k, v);
    }
  }
  return {
    traceId,
    parentId,
    flags: Number.parseInt(flags, 16),
    tracestate,
    tracestateText: texts.join(','),
  };
}

function check(sent: Sent, expected: Expect): void {
  if (expected.trace === 'continued') expect(sent.traceId).toBe(ID);
  else if (expected.trace) for (const id of expected.trace.not) expect(sent.traceId).not.toBe(id);
  if (expected.newParent) expect(sent.parentId).not.toBe(PARENT);
  if (expected.random) expect(sent.flags & 2).toBe(2);
  for (const [k, v] of Object.entries(expected.members ?? {})) expect(sent.tracestate.get(k)).toBe(v);
  for (const k of expected.absent ?? []) expect(sent.tracestate.has(k)).toBe(false);
  if (expected.size !== undefined) expect(sent.tracestate.size).toBe(expected.size);
  if (expected.order) {
    const at = expected.order.map((s) => sent.tracestateText.indexOf(s));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  }
  if (expected.oneOf) expect(expected.oneOf.some((s) => sent.tracestateText.includes(s))).toBe(true);
}

const stubs = useStubs();

const service = (callbacks = 0) =>
  tracerOnly({ continueTraces: true, dropInvalidTracestate: true }, (tracer) => ({
    ...tracer,
    async onClientRequest(request: EW.IngressClientRequest) {
      tracer.onClientRequest(request);
      const { httpRequest } = await import('http-request');
      for (let i = 0; i < callbacks; i++)
        await httpRequest(`https://${SITE}/callback/${i}`, {
          headers: { traceparent: tracer.traceparent(request) ?? '' },
        });
    },
  }));

/** What the service sent on for one request of the harness's: the forward request, and any callbacks. */
async function serve(send: Lines, callbacks = 0) {
  const edge = new EdgeServer(service(callbacks), exampleProperty(stubs.origin.url, stubs.relay.url));
  const exchange = await edge.handle({ url: `https://${SITE}/`, headers: send });
  await edge.settled();
  expect(exchange.errors).toEqual([]);
  expect(edge.subRequests.records.filter((r) => r.url === `https://${BEACONS}/v1/beacons`)).toHaveLength(1);
  return {
    forwarded: exchange.originHeaders ?? {},
    callbacks: edge.subRequests.records.filter((r) => r.url.includes('/callback/')).map((r) => r.headers),
  };
}

describe('W3C Trace Context test suite: traceparent', () => {
  test.each(TRACEPARENT.map((c, i) => [`${i + 1}. ${c.test}`, c] as const))('%s', async (_name, c) => {
    check(parse((await serve(c.send)).forwarded), c.expect);
  });

  // AdvancedTest: the harness asks the service to call back three times.
  test.each([
    ['multiple_requests_with_valid_traceparent', [['traceparent', tp('01')]] as Lines, true],
    ['multiple_requests_without_traceparent', [] as Lines, false],
    [
      'multiple_requests_with_illegal_traceparent',
      [['traceparent', `00-${'0'.repeat(32)}-${PARENT}-01`]] as Lines,
      false,
    ],
  ])('%s', async (_name, send, continued) => {
    const sent = (await serve(send, 3)).callbacks.map(parse);
    expect(sent).toHaveLength(3);
    expect(new Set(sent.map((s) => s.parentId)).size).toBe(3);
    const traceIds = new Set(sent.map((s) => s.traceId));
    if (continued) expect([...traceIds]).toEqual([ID]);
    expect(traceIds.has('0'.repeat(32))).toBe(false);
  });
});

describe('W3C Trace Context test suite: tracestate', () => {
  test('tracestate_included_traceparent_missing', async () => {
    const one = parse((await serve([['tracestate', 'foo=1']])).forwarded);
    const two = parse((await serve([['tracestate', 'foo=1,bar=2']])).forwarded);
    expect(one.tracestate.size).toBe(two.tracestate.size);
  });

  test.each(TRACESTATE.map((c, i) => [`${i + 1}. ${c.test}`, c] as const))('%s', async (_name, c) => {
    check(parse((await serve(c.send)).forwarded), c.expect);
  });
});
