import { formatFlags } from '../../src/export/body-format.ts';

/** The stored format flags of the two bodies the queue tests write. */
export const GZIP_PROTO = formatFlags({ encoding: 'proto', compression: 'gzip' });
export const PLAIN_PROTO = formatFlags({ encoding: 'proto', compression: 'none' });
