// The media types the relay reads and writes (OTLP/HTTP's two encodings; beacons come in both), named once.

export const PROTOBUF = 'application/x-protobuf';
export const JSON_TYPE = 'application/json';

/** What `receiver` accepts on both span routes. */
export const SPAN_MEDIA_TYPES = [JSON_TYPE, PROTOBUF] as const;
