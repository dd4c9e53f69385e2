import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { protoFile } from '../../src/model/proto-files.ts';
import { readBody } from './otlp-sink.ts';

// An OTLP/HTTP metrics endpoint that decodes with its own .proto (test/fixtures/otlp-metrics.proto),
// independent of the SDK that encodes.
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => (isAbsolute(target) ? target : protoFile(target));
root.loadSync(join(fileURLToPath(new URL('../fixtures/', import.meta.url)), 'otlp-metrics.proto'));
const Request = root.lookupType('edgerelay.test.metrics.ExportMetricsServiceRequest');

export interface MetricsRequest {
  headers: IncomingHttpHeaders;
  decoded: Record<string, any>;
}

export class OtlpMetricsSink {
  readonly requests: MetricsRequest[] = [];
  refused = 0;
  /** Answers to give to requests that carry data points, in order; 200 once they run out. */
  readonly statuses: number[] = [];
  #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<OtlpMetricsSink> {
    const sink: OtlpMetricsSink = new OtlpMetricsSink(
      createServer(async (req, res) => {
        // A push the relay abandoned mid-request (it stopped, or its timeout struck) is no request.
        const read = await readBody(req).catch(() => undefined);
        if (!read) return;
        const { body } = read;
        const decoded = Request.toObject(Request.decode(body), {
          longs: Number,
          enums: String,
          defaults: true,
        });
        const points = JSON.stringify(decoded).includes('"dataPoints":[{');
        const status = (points && sink.statuses.shift()) || 200;
        if (status === 200) sink.requests.push({ headers: req.headers, decoded });
        else sink.refused++;
        res.writeHead(status, { 'content-type': 'application/x-protobuf' });
        res.end();
      }),
    );
    sink.#server.listen(0, '127.0.0.1');
    await once(sink.#server, 'listening');
    return sink;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1/metrics`;
  }

  /** Every accepted metric, with its resource attributes. */
  metrics(): { resource: Record<string, unknown>; metric: Record<string, any> }[] {
    return this.requests.flatMap((r) =>
      (r.decoded.resourceMetrics as Record<string, any>[]).flatMap((rm) =>
        (rm.scopeMetrics as Record<string, any>[]).flatMap((sm) =>
          (sm.metrics as Record<string, any>[]).map((metric) => ({
            resource: Object.fromEntries(
              (rm.resource?.attributes ?? []).map((a: any) => [a.key, a.value?.stringValue]),
            ),
            metric,
          })),
        ),
      ),
    );
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }
}
