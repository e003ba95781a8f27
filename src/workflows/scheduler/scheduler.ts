/**
 * The scheduler: one loop, one injected clock. Each tick
 *
 * 1. ends orphaned tries (workers that stopped heartbeating) and reschedules them;
 * 2. creates the due scheduled runs of every active, unpaused DAG (create-runs.ts);
 * 3. starts and completes backfills, and announces their progress (backfills.ts);
 * 4. admits queued runs and moves running ones on (advance-runs.ts).
 *
 * A tick runs every `tickMs` of real time and at once when something happened (a task ended, a
 * run was triggered, a DAG was unpaused): `wake()`. Everything it decides is in the metadata DB,
 * so a scheduler that crashed and restarts carries on where the DB says, with nothing to rebuild.
 * "Now" always comes from `clockMs`, so tests move time forward without waiting.
 */

import type { ParseOptions } from "../dag-processor.js";
import type { LoadedDag } from "../loader.js";
import type { DagRun, MetadataStore } from "../metadata/index.js";
import { advanceDag } from "./advance-runs.js";
import { BackfillManager, type StaleIntervalSource } from "./backfills.js";
import { createDueRuns } from "./create-runs.js";
import { SchedulerDagBag } from "./dag-bag.js";
import { DeferredEvents, WorkflowEvents } from "./events.js";
import { defaultMaxLostWorkers, sweepOrphans } from "./orphans.js";
import { createReexportRuns, type LateDataSource } from "./reexports.js";
import type { RetentionSource } from "./retention.js";

export interface SchedulerOptions {
  metadata: MetadataStore;
  /** DAG folders: the config's dagsDir first, then extra ones (examples/dags). */
  dagsDirs: readonly string[];
  clockMs?: () => number;
  events?: WorkflowEvents;
  /** Real time between ticks when nothing wakes the loop (default 1000); 0: only wake() and tick(). */
  tickMs?: number;
  /** A running try whose heartbeat is older than this is orphaned (default 30 s). */
  heartbeatTimeoutMs?: number;
  /** Lost workers a task instance survives before it fails for good (default 3). */
  maxLostWorkers?: number;
  /** DAG ids that start unpaused when first seen (the demo). */
  unpauseOnLoad?: readonly string[];
  /** Only schedule these DAGs (a CLI running one backfill in-process); default all. */
  dagIds?: readonly string[];
  /** Reload DAG folders when their files change (default true). */
  watch?: boolean;
  /** The watcher's poll of file times (default 2000 ms). */
  pollIntervalMs?: number;
  /** For backfill retention warnings. */
  retention?: RetentionSource;
  /** Limits of the DAG processor's parse process (import time, memory). */
  parse?: ParseOptions;
  /**
   * Export freshness: for backfills with reprocess "stale" (absent: they are refused), and for
   * DAGs with `freshness.reexportLateData` (absent: nothing is re-exported).
   */
  freshness?: StaleIntervalSource & Partial<LateDataSource>;
}

export const defaultTickMs = 1000;
export const defaultHeartbeatTimeoutMs = 30_000;
/** Real time between looks at every running run when nothing else asks for one. */
const fullPassEveryMs = 1000;
/** Real time between two ticks asked for by events. */
const minTickGapMs = 10;
/** Real time between two looks for settled late data (DAGs with freshness.reexportLateData). */
const reexportCheckMs = 5000;

export class Scheduler {
  readonly events: WorkflowEvents;
  readonly bag: SchedulerDagBag;
  readonly backfills: BackfillManager;
  readonly metadata: MetadataStore;
  readonly clockMs: () => number;
  readonly #options: SchedulerOptions;
  readonly #tickMs: number;
  readonly #dagIds: ReadonlySet<string> | undefined;
  #running = false;
  #stopped = false;
  #loop: Promise<void> | null = null;
  #tickChain: Promise<unknown> = Promise.resolve();
  #wakeRequested = false;
  #wakeUp: (() => void) | null = null;
  #lastSweepMs = Number.NEGATIVE_INFINITY;
  /** Runs with news since the last tick; every running run is looked at in a full pass now and then. */
  #changedRuns = new Set<number>();
  #lastFullPassMs = Number.NEGATIVE_INFINITY;
  #lastFullPassClockMs = Number.NaN;
  #lastReexportCheck = { realMs: Number.NEGATIVE_INFINITY, clockMs: Number.NaN };
  readonly #queuedAhead = new Map<number, DagRun[]>();

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.metadata = options.metadata;
    this.clockMs = options.clockMs ?? Date.now;
    this.events = options.events ?? new WorkflowEvents();
    this.#tickMs = options.tickMs ?? defaultTickMs;
    this.#dagIds = options.dagIds === undefined ? undefined : new Set(options.dagIds);
    this.bag = new SchedulerDagBag({
      dirs: options.dagsDirs,
      metadata: options.metadata,
      clockMs: this.clockMs,
      events: this.events,
      unpauseOnLoad: options.unpauseOnLoad,
      watch: options.watch,
      pollIntervalMs: options.pollIntervalMs,
      parse: options.parse,
    });
    this.backfills = new BackfillManager({
      metadata: options.metadata,
      events: this.events,
      clockMs: this.clockMs,
      findDag: (dagId) => this.findDag(dagId),
      retention: options.retention,
      wake: () => this.wake(),
      ...(options.freshness === undefined ? {} : { freshness: options.freshness }),
    });
    // A change anywhere is a reason to look again at once; a task's end, at its run first.
    this.events.on("dags:loaded", () => this.wake());
    for (const event of ["task:succeeded", "task:failed", "task:retry"] as const) {
      this.events.on(event, ({ dagRunId }) => this.markRunChanged(dagRunId));
    }
  }

  /** The loaded DAG, if this scheduler schedules it. */
  findDag(dagId: string): LoadedDag | undefined {
    if (this.#dagIds !== undefined && !this.#dagIds.has(dagId)) return undefined;
    return this.bag.get(dagId);
  }

  /** Loads the DAG folders (and watches them), then starts the loop. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    await this.bag.start();
    this.#loop = this.#runLoop();
  }

  /**
   * One tick now (serialized with the loop's own ticks); `fullPass` looks at every running run
   * and counts every backfill's progress, skipping none of the loop's economies.
   */
  tick(options: { fullPass?: boolean } = {}): Promise<void> {
    const next = this.#tickChain.then(() => this.#tickOnce(options.fullPass === true));
    this.#tickChain = next.catch(() => undefined);
    return next;
  }

  /** A run's task instances changed (a task ended, a user cleared some): look at it in the next tick. */
  markRunChanged(dagRunId: number): void {
    this.#changedRuns.add(dagRunId);
    this.wake();
  }

  wake(): void {
    this.#wakeRequested = true;
    this.#wakeUp?.();
  }

  /** Stops the loop after the tick in progress (and the DAG watchers). Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.bag.close();
    this.#wakeUp?.();
    await this.#loop;
    await this.#tickChain;
  }

  async #runLoop(): Promise<void> {
    while (!this.#stopped) {
      this.#wakeRequested = false;
      const startedMs = performance.now();
      try {
        await this.tick();
      } catch (error) {
        this.events.emit("error", { where: "scheduler tick", error });
      }
      if (this.#stopped) break;
      if (!this.#wakeRequested) await this.#sleep();
      if (this.#stopped) break;
      // Let the news of a busy moment (tasks ending one after another) gather into one tick: ticks
      // start at least minTickGapMs apart, so under load each tick (and its one commit) serves
      // several runs. A wake after a quiet spell still ticks at once.
      const gapMs = startedMs + minTickGapMs - performance.now();
      if (this.#tickMs > 0 && gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
  }

  #sleep(): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        this.#wakeUp = null;
        resolve();
      };
      if (this.#tickMs > 0) timer = setTimeout(done, this.#tickMs);
      this.#wakeUp = done;
    });
  }

  /**
   * Re-exports of settled late data. Judging freshness reads the store and the metadata DB, so it
   * runs every reexportCheckMs of real time, or at once when the clock moved a minute or more (a
   * test clock, a machine that slept), or on a full pass.
   */
  async #reexportLateData(
    rows: ReadonlyArray<{ dagId: string; isActive: boolean; isPaused: boolean }>,
    nowMs: number,
    force: boolean,
  ): Promise<void> {
    const source = this.#options.freshness;
    if (source?.settledLateData === undefined) return;
    const last = this.#lastReexportCheck;
    const due =
      force ||
      performance.now() - last.realMs >= reexportCheckMs ||
      Number.isNaN(last.clockMs) ||
      Math.abs(nowMs - last.clockMs) >= 60_000;
    if (!due) return;
    this.#lastReexportCheck = { realMs: performance.now(), clockMs: nowMs };
    for (const row of rows) {
      const loaded = this.findDag(row.dagId);
      if (loaded?.dag.freshness.reexportLateData == null || !row.isActive || row.isPaused) continue;
      try {
        await createReexportRuns(this.metadata, this.events, loaded, source as LateDataSource, nowMs);
      } catch (error) {
        this.events.emit("error", { where: `re-exporting late data of ${row.dagId}`, error });
      }
    }
  }

  async #tickOnce(forceFullPass: boolean): Promise<void> {
    const { metadata } = this;
    const events = this.events;
    const nowMs = this.clockMs();
    const heartbeatTimeoutMs = this.#options.heartbeatTimeoutMs ?? defaultHeartbeatTimeoutMs;
    // Orphans are looked for a few times per heartbeat timeout, not at every tick: a tick runs
    // after every finished task, and the sweep's write would cost each one an fsync.
    const sweepEveryMs = Math.min(5000, heartbeatTimeoutMs / 3);
    if (nowMs - this.#lastSweepMs >= sweepEveryMs || nowMs < this.#lastSweepMs) {
      this.#lastSweepMs = nowMs;
      await sweepOrphans({
        metadata,
        events,
        nowMs,
        heartbeatTimeoutMs,
        maxLostWorkers: this.#options.maxLostWorkers ?? defaultMaxLostWorkers,
      });
    }
    const rows = (await metadata.listDags()).filter(
      (row) => this.#dagIds === undefined || this.#dagIds.has(row.dagId),
    );
    for (const row of rows) {
      const loaded = this.findDag(row.dagId);
      if (loaded === undefined || !row.isActive || row.isPaused) continue;
      try {
        await createDueRuns(metadata, events, loaded, row, nowMs);
      } catch (error) {
        events.emit("error", { where: `creating runs of ${row.dagId}`, error });
      }
    }
    await this.#reexportLateData(rows, nowMs, forceFullPass);
    const backfills = await this.backfills.update(nowMs, this.#dagIds, { force: forceFullPass });
    // A full pass (every running run) at least every fullPassEveryMs, of real time or of the
    // clock (retry delays and run timeouts come due); otherwise only the runs with news.
    const fullPass =
      forceFullPass ||
      performance.now() - this.#lastFullPassMs >= fullPassEveryMs ||
      Math.abs(nowMs - this.#lastFullPassClockMs) >= fullPassEveryMs ||
      Number.isNaN(this.#lastFullPassClockMs);
    if (fullPass) {
      this.#lastFullPassMs = performance.now();
      this.#lastFullPassClockMs = nowMs;
    }
    const onlyRuns = fullPass ? undefined : this.#changedRuns;
    this.#changedRuns = new Set();
    for (const row of rows) {
      // Everything the tick decides for one DAG (admitting runs, queueing their tasks, ending runs)
      // commits as one transaction: one fsync per DAG per tick rather than one per change. Events
      // wait for the commit, so whoever acts on them (the worker pool) finds the change.
      const deferred = new DeferredEvents(events);
      try {
        await metadata.transaction(async (tx) => {
          deferred.discard(); // a transaction run again (PostgreSQL deadlock) decides afresh
          return advanceDag({
            metadata: tx,
            events: deferred,
            nowMs,
            // Fresh row: run creation moved the bookkeeping, and the DAG's state may have changed.
            row: (await tx.getDag(row.dagId)) ?? row,
            loaded: row.isActive ? this.findDag(row.dagId) : undefined,
            backfills: backfills.filter((b) => b.dagId === row.dagId),
            queuedAhead: this.#queuedAhead,
            ...(onlyRuns === undefined ? {} : { onlyRuns }),
          });
        });
        deferred.flush();
      } catch (error) {
        deferred.discard();
        events.emit("error", { where: `moving runs of ${row.dagId} on`, error });
      }
    }
    // A cleared or reprocessed run is queued again: read ahead afresh now and then.
    if (backfills.length === 0) this.#queuedAhead.clear();
  }
}
