import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EdgeGridSigner } from './edgegrid.ts';

// The library's own logger switch (what AKAMAI_LOG_LEVEL turns on when it loads), by file: the package
// exports only its entry point.
const require = createRequire(import.meta.url);
const logger = require(join(dirname(require.resolve('akamai-edgegrid')), 'src/logger.js')) as {
  enableLogging(option: boolean): void;
  getLogger(): { level: string };
};

describe('EdgeGridSigner', () => {
  it('signs with a fresh nonce each time, and keeps the library from logging the signing key', () => {
    logger.enableLogging(true);
    const signer = new EdgeGridSigner({
      host: 'akab-x.luna.akamaiapis.net',
      client_token: 'akab-c',
      client_secret: 'secret',
      access_token: 'akab-a',
    });
    const first = signer.sign('POST', '/edgeworkers/v1/ids/1/activations', '{"version":"1"}');
    const second = signer.sign('POST', '/edgeworkers/v1/ids/1/activations', '{"version":"1"}');
    expect(first.url).toBe('https://akab-x.luna.akamaiapis.net/edgeworkers/v1/ids/1/activations');
    expect(first.headers.Authorization).toMatch(
      /^EG1-HMAC-SHA256 client_token=akab-c;access_token=akab-a;timestamp=\d{8}T\d\d:\d\d:\d\d\+0000;nonce=[0-9a-f-]{36};signature=[A-Za-z0-9+/]+=*$/,
    );
    expect(second.headers.Authorization).not.toBe(first.headers.Authorization);
    expect(logger.getLogger().level).toBe('silent');
  });
});
