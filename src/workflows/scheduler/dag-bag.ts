/**
 * The scheduler's DAG bag: loads the DAG folders (in the DAG processor's parse process, so no DAG
 * file runs code in the server: dag-processor.ts), keeps the loaded DAGs in memory (the scheduler
 * needs their tasks, which the metadata DB does not hold), and mirrors them into the metadata DB:
 * definitions (new DAGs start paused, as in Airflow), import errors per file (with line), and
 * DAGs whose file is gone marked inactive.
 *
 * A file that breaks keeps its DAGs' last good definition, flagged with the error: the DAG keeps
 * running on the code that last loaded while the other files are unaffected (Airflow does the same).
 */
import fs from "node:fs";
import path from "node:path";
import { resolveStartDate } from "../dag.js";
import { type ParseOptions, parseDags } from "../dag-processor.js";
import { type DagWatcher, watchDags } from "../dag-watcher.js";
import type { DagBag, LoadedDag } from "../loader.js";
import type { DagUpsert, ImportErrorInput, MetadataStore } from "../metadata/index.js";
import type { WorkflowEvents } from "./events.js";

export interface DagBagOptions {
  dirs: readonly string[];
  metadata: MetadataStore;
  clockMs: () => number;
  events: WorkflowEvents;
  /** DAG ids that start unpaused when first seen (the demo); every other new DAG starts paused. */
  unpauseOnLoad?: readonly string[];
  /** Reload on file changes (default true). Without it, reload() loads on demand. */
  watch?: boolean;
  /** The watcher's poll of file times, for file systems where fs.watch misses events. */
  pollIntervalMs?: number;
  /** Limits of the DAG processor's parse process (import time, memory). */
  parse?: ParseOptions;
}

interface DirState {
  /** DAGs defined by this folder, by id (last good definitions of broken files included). */
  dags: Map<string, LoadedDag>;
  /** Import errors last recorded per file, as JSON, so unchanged ones cost no write. */
  recordedErrors: Map<string, string>;
  loaded: boolean;
}

export class SchedulerDagBag {
  readonly #options: DagBagOptions;
  readonly #dirs = new Map<string, DirState>();
  readonly #watchers: DagWatcher[] = [];
  /** Definitions last written to the metadata DB, as JSON. */
  readonly #upserted = new Map<string, string>();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: DagBagOptions) {
    this.#options = options;
    for (const dir of options.dirs) {
      this.#dirs.set(path.resolve(dir), { dags: new Map(), recordedErrors: new Map(), loaded: false });
    }
  }

  /** Loads every folder once (and starts watching them); resolves when the metadata DB is in sync. */
  async start(): Promise<void> {
    const firstLoads: Promise<unknown>[] = [];
    for (const dir of this.#dirs.keys()) {
      if (this.#options.watch === false) {
        // A one-off load (the CLI without a server) creates nothing: a missing folder holds no DAGs.
        if (fs.existsSync(dir)) firstLoads.push(this.#loadDir(dir));
        else this.#dirs.get(dir)!.loaded = true;
        continue;
      }
      // A running scheduler owns its dags folder: an empty one is where the user drops DAG files.
      fs.mkdirSync(dir, { recursive: true });
      let first = true;
      let settleFirst!: (value: unknown) => void;
      firstLoads.push(
        new Promise((resolve) => {
          settleFirst = resolve;
        }),
      );
      const watcher = watchDags(
        dir,
        (bag) => {
          const synced = this.#serial(() => this.#sync(dir, bag));
          if (first) {
            first = false;
            synced.then(settleFirst, settleFirst);
          }
        },
        {
          pollIntervalMs: this.#options.pollIntervalMs,
          load: (folder) => parseDags(folder, this.#options.parse),
          onError: (error) => {
            if (first) {
              first = false;
              settleFirst(undefined);
            }
            this.#options.events.emit("error", { where: `loading DAGs from ${dir}`, error });
          },
        },
      );
      this.#watchers.push(watcher);
    }
    await Promise.all(firstLoads);
  }

  /** Loads every folder now (tests, and callers that do not watch). */
  async reload(): Promise<void> {
    await Promise.all([...this.#dirs.keys()].map((dir) => this.#loadDir(dir)));
  }

  get(dagId: string): LoadedDag | undefined {
    for (const state of this.#dirs.values()) {
      const found = state.dags.get(dagId);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  all(): LoadedDag[] {
    const seen = new Map<string, LoadedDag>();
    for (const state of this.#dirs.values()) {
      for (const [id, loaded] of state.dags) if (!seen.has(id)) seen.set(id, loaded);
    }
    return [...seen.values()].sort((a, b) => (a.dag.id < b.dag.id ? -1 : 1));
  }

  close(): void {
    this.#closed = true;
    for (const watcher of this.#watchers) watcher.close();
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch((error: unknown) => {
      this.#options.events.emit("error", { where: "syncing DAGs", error });
    });
    return next;
  }

  async #loadDir(dir: string): Promise<void> {
    const bag = await parseDags(dir, this.#options.parse);
    await this.#serial(() => this.#sync(dir, bag));
  }

  async #sync(dir: string, bag: DagBag): Promise<void> {
    if (this.#closed) return;
    const state = this.#dirs.get(dir)!;
    const { metadata, clockMs } = this.#options;
    const now = clockMs();

    const errorsByFile = new Map<string, ImportErrorInput[]>();
    for (const error of bag.importErrors) {
      const list = errorsByFile.get(error.file) ?? [];
      list.push({ message: error.message, line: error.line ?? null, column: error.column ?? null });
      errorsByFile.set(error.file, list);
    }
    const broken = new Set(errorsByFile.keys());

    const dags = new Map<string, LoadedDag>();
    for (const [id, loaded] of bag.dags) dags.set(id, loaded);
    // A broken file keeps its DAGs' last good definitions (unless another file now defines them).
    for (const [id, previous] of state.dags) {
      if (broken.has(previous.file) && !dags.has(id) && fs.existsSync(previous.file)) dags.set(id, previous);
    }
    state.dags = dags;

    for (const loaded of dags.values()) await this.#upsert(loaded, now);

    const files = new Set([...bag.files, ...errorsByFile.keys()]);
    for (const file of new Set([...files, ...state.recordedErrors.keys()])) {
      const errors = files.has(file) ? (errorsByFile.get(file) ?? []) : [];
      const key = JSON.stringify(errors);
      if (state.recordedErrors.get(file) === key && state.loaded) continue;
      await metadata.recordImportErrors(file, errors, now);
      if (files.has(file)) state.recordedErrors.set(file, key);
      else state.recordedErrors.delete(file);
    }
    state.loaded = true;

    if ([...this.#dirs.values()].every((s) => s.loaded)) {
      const present = this.all().map((loaded) => loaded.dag.id);
      const gone = await metadata.deactivateMissingDags(present, now);
      for (const id of gone) this.#upserted.delete(id);
    }
    this.#options.events.emit("dags:loaded", {
      dagIds: [...dags.keys()].sort(),
      importErrors: bag.importErrors.length,
    });
  }

  async #upsert(loaded: LoadedDag, now: number): Promise<void> {
    const { dag } = loaded;
    const startDate = resolveStartDate(dag, new Date(now));
    const definition: DagUpsert = {
      dagId: dag.id,
      filePath: loaded.file,
      codeVersion: loaded.codeVersion,
      schedule: dag.schedule.expression,
      timezone: dag.timezone,
      startDate: startDate === null ? null : startDate.getTime(),
      endDate: dag.endDate === null ? null : dag.endDate.getTime(),
      catchup: dag.catchup,
      maxActiveRuns: dag.maxActiveRuns,
      maxActiveTasks: dag.maxActiveTasks,
    };
    const key = JSON.stringify(definition);
    if (this.#upserted.get(dag.id) === key) return;
    await this.#options.metadata.upsertDag(
      { ...definition, pausedOnCreate: !(this.#options.unpauseOnLoad ?? []).includes(dag.id) },
      now,
    );
    this.#upserted.set(dag.id, key);
  }
}
