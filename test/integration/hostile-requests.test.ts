import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settledAccounting } from '../helpers/accounting.ts';
import { faultConfig } from '../helpers/fault-config.ts';
import { OtlpSink } from '../helpers/otlp-sink.ts';
import { RelayProcess } from '../helpers/relay-process.ts';
import { waitFor } from '../helpers/wait-for.ts';

const hexId = (bytes: number): string => randomBytes(bytes).toString('hex');

/** An OTLP/JSON request of one span, as text; `resource`, `scope` and `span` are spliced in as given. */
function otlpJson(spanId: string, { resource = '{}', scope = '{}', span = '' } = {}): string {
  const spanFields = `"traceId":"${hexId(16)}","spanId":"${spanId}","name":"n"${span ? `,${span}` : ''}`;
  return `{"resourceSpans":[{"resource":${resource},"scopeSpans":[{"scope":${scope},"spans":[{${spanFields}}]}]}]}`;
}

/** An unknown key nested `depth` levels deep: 8.9 KB at the depth that once overflowed the stack. */
const deepUnknown = (depth: number): string => `"unknown":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

// Generous: these start relay processes on a shared 2-core machine.
describe('hostile OTLP/JSON', { timeout: 120_000 }, () => {
  let sink: OtlpSink;
  let relay: RelayProcess;
  beforeAll(async () => {
    sink = await OtlpSink.start();
    relay = await RelayProcess.start(faultConfig(sink.url));
  });
  afterAll(async () => {
    await relay?.stop();
    await sink?.close();
  });

  it('ignores unknown keys nested thousands deep in the resource, the scope or the span', async () => {
    const ids: string[] = [];
    for (const where of ['resource', 'scope', 'span'] as const) {
      const spanId = hexId(8);
      ids.push(spanId);
      const fields = where === 'span' ? deepUnknown(4400) : `{${deepUnknown(4400)}}`;
      const response = await relay.post('/v1/traces', otlpJson(spanId, { [where]: fields }));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({});
    }
    await waitFor(
      () => ids.every((id) => sink.spans().some((s) => s.spanId === id)),
      'the spans at the sink',
    );
  });

  it.each([
    ['intValue', '"attributes":[{"key":"big","value":{"intValue":1e300}}]'],
    ['startTimeUnixNano', '"startTimeUnixNano":1e300'],
    ['endTimeUnixNano', '"endTimeUnixNano":18446744073709551616'],
  ])('refuses a JSON number for %s that cannot be exact with 400 naming the field', async (key, span) => {
    const response = await relay.post('/v1/traces', otlpJson(hexId(8), { span }));
    expect(response.status).toBe(400);
    const status = (await response.json()) as { code: number; message: string };
    expect(status.code).toBe(3);
    expect(status.message).toContain(`resourceSpans[0].scopeSpans[0].spans[0].`);
    expect(status.message).toContain(`${key}: `);
    expect(status.message).toContain('cannot be represented exactly as a JSON number');
  });

  it('has accounted for every span it took', async () => {
    const accounting = await settledAccounting(relay);
    expect(accounting.received).toBe(3);
    expect(accounting.droppedTotal).toBe(0);
    expect(relay.logLines().filter((line) => (line.level as number) >= 50)).toEqual([]);
  });
});
