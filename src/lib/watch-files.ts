import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Editors and Kubernetes volumes replace a file in several steps; wait for them to settle. */
const SETTLE_MS = 200;
/** A ConfigMap or Secret volume swaps this symlink when its content changes. */
const VOLUME_LINK = '..data';

/**
 * Calls `changed` (once per burst of events, with the last path that changed: a file, or the directory
 * whose volume link was swapped) when any of `files` changes on disk, including by the swap of a
 * Kubernetes volume's `..data` link. Directories are watched rather than files, since a file
 * replaced by rename is a new inode a file watch would lose. Returns a function that stops watching;
 * `unwatchable` hears of a directory that cannot be watched (the caller says how else to reload).
 */
export function watchFiles(
  files: readonly string[],
  changed: (path: string) => void,
  unwatchable: (file: string, error: Error) => void,
): () => void {
  let settle: NodeJS.Timeout | undefined;
  const byDir = Map.groupBy(files, (file) => dirname(file));
  const watchers: FSWatcher[] = [];
  for (const [dir, inDir] of byDir) {
    const names = new Set(inDir.map((file) => basename(file)));
    try {
      watchers.push(
        watch(dir, (_event, name) => {
          if (name !== null && !names.has(name) && name !== VOLUME_LINK) return;
          const path = name === null || name === VOLUME_LINK ? dir : join(dir, name);
          clearTimeout(settle);
          settle = setTimeout(() => changed(path), SETTLE_MS);
        }),
      );
    } catch (err) {
      unwatchable(inDir[0] as string, err as Error);
    }
  }
  return () => {
    for (const watcher of watchers) watcher.close();
    clearTimeout(settle);
  };
}
