import { JSON_TYPE, PROTOBUF } from '../lib/media-types.ts';

/** What the exporter may compress request bodies with (`exporter.compression`; "" means none, as in the Collector). */
export type CompressionName = 'gzip' | 'zstd' | 'deflate' | 'none';
export type EncodingName = 'proto' | 'json';

/**
 * How a queued batch's body is encoded and compressed. It is stored with the batch, so that a batch replayed
 * from disk is sent as it was written even when the configuration has changed since.
 */
export interface BodyFormat {
  readonly encoding: EncodingName;
  readonly compression: CompressionName;
}

// As flags in the persistent queue's record header: the compression in the low two bits (gzip is 1, the
// value records had when gzip was the only flag, so older queues replay unchanged), JSON in the third.
const COMPRESSIONS: readonly CompressionName[] = ['none', 'gzip', 'zstd', 'deflate'];
const JSON_FLAG = 4;

export const formatFlags = (format: BodyFormat): number =>
  COMPRESSIONS.indexOf(format.compression) | (format.encoding === 'json' ? JSON_FLAG : 0);

export const formatOf = (flags: number): BodyFormat => ({
  encoding: flags & JSON_FLAG ? 'json' : 'proto',
  compression: COMPRESSIONS[flags & 3] as CompressionName,
});

const CONTENT_TYPE: Record<EncodingName, string> = {
  proto: PROTOBUF,
  json: JSON_TYPE,
};

/** The request headers of a body in `format`, on top of the configured ones. */
export function bodyHeaders(format: BodyFormat, headers: Record<string, string>): Record<string, string> {
  const out = { ...headers, 'content-type': CONTENT_TYPE[format.encoding] };
  return format.compression === 'none' ? out : { ...out, 'content-encoding': format.compression };
}
