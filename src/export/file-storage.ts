import { type ConfigOf, component } from '../lib/component.ts';
import { ConfigError } from '../lib/errors.ts';
import { duration, section } from '../lib/schema-keywords.ts';

/**
 * The Collector's `extensions:` block, for its one extension that means something here: `file_storage`
 * (and `file_storage/<name>`), which `exporter.sending_queue.storage` names to keep batches on disk. The
 * relay's queue writes one file per batch and deletes it once settled, so there is nothing to compact, and
 * it creates its directory itself (docs/configuration.md).
 */
export const extensionsComponent = component({
  key: 'extensions',
  schema: {
    type: 'object',
    additionalProperties: false,
    default: {},
    patternProperties: {
      '^file_storage(/[^\\s]+)?$': section({
        directory: { type: 'string', minLength: 1, default: '/var/lib/edge-relay/file_storage' },
        timeout: duration('1s'),
        create_directory: { type: 'boolean', default: true },
        // Accepted for the Collector's configs; see above.
        compaction: { type: 'object', default: {} },
      }),
    },
  },
});
export type ExtensionsConfig = ConfigOf<typeof extensionsComponent.schema>;

/**
 * The directory `exporter.sending_queue.storage` means: "" for memory, the directory of the extension it
 * names, else a path. A bare word that names no extension is refused: in the Collector it would name one,
 * and quietly making a directory of that name in the working directory would lose the queue on restart.
 */
export function storageDirectory(storage: string, extensions: ExtensionsConfig): string {
  if (storage === '') return '';
  const extension = extensions[storage];
  if (extension) return extension.directory;
  const key = 'exporter.sending_queue.storage';
  if (/^file_storage(\/|$)/.test(storage)) {
    throw new ConfigError(key, `"${storage}" names no extension; define extensions.${storage}.directory`);
  }
  if (!storage.includes('/')) {
    throw new ConfigError(
      key,
      `"${storage}" is neither a defined extension nor a directory path; write a path such as /var/lib/edge-relay/queue or ./queue`,
    );
  }
  return storage;
}
