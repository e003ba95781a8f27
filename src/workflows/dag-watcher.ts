/**
 * Watching a dags folder: load it now, and again whenever a file in it changes. fs.watch gives
 * quick notice; a poll of file sizes and times catches what it misses (network and container
 * file systems); a debounce folds an editor's burst of writes into one reload.
 */
import { type FSWatcher, watch } from "node:fs";
import { fingerprintOf } from "./dag-files.js";
import { type DagBag, type LoadOptions, loadDags } from "./loader.js";

export interface WatchOptions extends LoadOptions {
  /** Wait this long after the last change before reloading (editors write files in bursts). */
  debounceMs?: number;
  /** Also compare file times this often, for file systems where fs.watch misses events; 0: never. */
  pollIntervalMs?: number;
  /** How the folder is loaded (default loadDags, in this process; the scheduler parses in a child process). */
  load?: (dir: string) => Promise<DagBag>;
  /** Called when onChange throws or a reload fails; default: a process warning. */
  onError?: (error: unknown) => void;
}

export interface DagWatcher {
  /** The first load. */
  readonly ready: Promise<DagBag>;
  /** The latest load, or null before the first one finished. */
  current(): DagBag | null;
  /** Loads now (also waits for a load in progress). */
  reload(): Promise<DagBag>;
  close(): void;
}

/**
 * Loads `dir` now and again whenever a file in it changes, calling `onChange` with each result
 * (the first load included). Uses fs.watch, with a debounce, and a poll of file times as a fallback.
 */
export function watchDags(
  dir: string,
  onChange: (bag: DagBag) => void,
  options: WatchOptions = {},
): DagWatcher {
  const debounceMs = options.debounceMs ?? 200;
  const pollIntervalMs = options.pollIntervalMs ?? 2000;
  const onError =
    options.onError ?? ((error: unknown) => process.emitWarning(`DAG watcher: ${String(error)}`));
  let closed = false;
  let latest: DagBag | null = null;
  let loadedFingerprint: string | null = null;
  let running: Promise<DagBag> | null = null;
  let queued: Promise<DagBag> | null = null;
  let debounce: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | null = null;

  const loadOnce = async (): Promise<DagBag> => {
    const fingerprint = await fingerprintOf(dir);
    const bag = await (options.load ?? ((folder: string) => loadDags(folder, options)))(dir);
    loadedFingerprint = fingerprint;
    latest = bag;
    if (!closed) {
      try {
        onChange(bag);
      } catch (error) {
        onError(error);
      }
    }
    return bag;
  };
  // One load at a time; changes during a load queue exactly one more.
  const reload = (): Promise<DagBag> => {
    if (running === null) {
      running = loadOnce().finally(() => {
        running = null;
      });
      return running;
    }
    if (queued === null) {
      queued = running
        .catch(() => undefined)
        .then(() => {
          queued = null;
          return reload();
        });
    }
    return queued;
  };
  const changed = () => {
    if (closed) return;
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      void fingerprintOf(dir)
        .then((fingerprint) => (fingerprint === loadedFingerprint ? undefined : reload()))
        .catch(onError);
    }, debounceMs);
    debounce.unref();
  };

  try {
    watcher = watch(dir, { recursive: true }, changed);
    watcher.on("error", (error) => {
      onError(error);
      watcher?.close();
      watcher = null;
    });
    watcher.unref();
  } catch {
    watcher = null; // the poll below still notices changes
  }
  const poll = pollIntervalMs > 0 ? setInterval(changed, pollIntervalMs) : undefined;
  poll?.unref();

  const ready = reload();
  ready.catch(onError);
  return {
    ready,
    current: () => latest,
    reload,
    close() {
      closed = true;
      clearTimeout(debounce);
      if (poll !== undefined) clearInterval(poll);
      watcher?.close();
      watcher = null;
    },
  };
}
