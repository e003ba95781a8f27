/**
 * Backfills as objects (Airflow 3): a backfill of a DAG over [from, to] (interval starts, both
 * ends included: the seed's hourly 2021-09-21..2021-09-22 is 25 runs) is created with all its
 * runs at once, then run by the scheduler under its own `maxActiveRuns`, with lower task priority
 * than scheduled runs. It can be paused, resumed and cancelled; its progress is done/total.
 */
import { conflict, notFound, validationError } from "../../errors.js";
import { runIdFor } from "../context.js";
import type { LoadedDag } from "../loader.js";
import {
  type Backfill,
  type BackfillIntervalResult,
  type BackfillProgress,
  type BackfillState,
  type MetadataStore,
  type ReprocessBehavior,
  reprocessBehaviors,
} from "../metadata/index.js";
import { resolveParams } from "../params.js";
import { parseDateInZone, planIntervalsBetween } from "../schedule.js";
import type { WorkflowEvents } from "./events.js";
import { type RetentionSource, retentionWarnings } from "./retention.js";
import { taskSpecsOf } from "./task-specs.js";
import { type BackfillView, backfillView } from "./views.js";

export interface BackfillRequest {
  dagId: string;
  /** The first interval start to run: ISO text (a date without a time is midnight in the DAG's zone) or a Date. */
  from: string | Date;
  /** The last interval start to run, included. */
  to: string | Date;
  /**
   * What to do with intervals that already have a run: none (default), failed, all; or stale: run
   * only the intervals whose export is stale (by data or by code), and re-run those.
   */
  reprocess?: BackfillReprocess;
  /** Runs of this backfill at once; default the DAG's maxActiveRuns. */
  maxActiveRuns?: number;
  conf?: Record<string, unknown>;
  /** Only plan: list the intervals and warnings, create nothing. */
  dryRun?: boolean;
}

/** The metadata DB's behaviours, and "stale" (which the manager narrows to the stale intervals). */
export type BackfillReprocess = ReprocessBehavior | "stale";
const backfillReprocessChoices: readonly BackfillReprocess[] = [...reprocessBehaviors, "stale"];

/** Which intervals' exports are stale (the freshness service, wired in by the runtime). */
export interface StaleIntervalSource {
  staleIntervals(dagId: string, from: Date, to: Date): Promise<Array<{ startMs: number; endMs: number }>>;
}

export interface PlannedBackfillInterval {
  start: string;
  end: string;
  runId: string;
}

export interface BackfillPlan {
  dagId: string;
  from: string;
  to: string;
  reprocess: BackfillReprocess;
  maxActiveRuns: number;
  intervals: PlannedBackfillInterval[];
  warnings: string[];
}

export interface BackfillCreated {
  plan: BackfillPlan;
  /** Absent for a dry run. */
  backfill?: BackfillView;
  /** One result per interval: created, reprocessed, or skipped with the reason. */
  results?: Array<Omit<BackfillIntervalResult, "start" | "end"> & { start: string; end: string }>;
}

export interface BackfillManagerOptions {
  metadata: MetadataStore;
  events: WorkflowEvents;
  clockMs: () => number;
  findDag: (dagId: string) => LoadedDag | undefined;
  /** For retention warnings (the store, or its HTTP client). */
  retention?: RetentionSource;
  /** Called after a change the scheduler should act on at once. */
  wake?: () => void;
  /** For `reprocess: "stale"`. */
  freshness?: StaleIntervalSource;
}

const unfinished: BackfillState[] = ["queued", "running", "paused"];
/** Progress of an unchanged backfill is counted again after this long (real time). */
const progressRecheckMs = 1000;
/** …and at most this often while its runs are ending. */
const dirtyRecheckMs = 200;

export class BackfillManager {
  readonly #options: BackfillManagerOptions;
  /** The progress last announced per backfill, so unchanged progress is not announced again. */
  readonly #announced = new Map<number, string>();
  /** Backfills with a run that ended since their progress was last counted. */
  readonly #dirty = new Set<number>();
  readonly #checkedAt = new Map<number, { state: BackfillState; atMs: number; left: number }>();

  constructor(options: BackfillManagerOptions) {
    this.#options = options;
    options.events.on("run:finished", ({ run }) => {
      if (run.backfillId !== null) this.#dirty.add(run.backfillId);
    });
    options.events.on("run:started", ({ run }) => {
      if (run.backfillId !== null) this.#dirty.add(run.backfillId);
    });
  }

  async plan(
    request: BackfillRequest,
  ): Promise<{ plan: BackfillPlan; loaded: LoadedDag; conf: Record<string, unknown> }> {
    if (typeof request !== "object" || request === null)
      throw validationError("a backfill request must be an object");
    const loaded = this.#options.findDag(request.dagId);
    if (loaded === undefined || (await this.#options.metadata.getDag(request.dagId)) === null) {
      throw notFound(`DAG ${JSON.stringify(request.dagId)} is not known: see \`hourglass dags list\``, {
        dagId: request.dagId,
      });
    }
    const { dag } = loaded;
    const from = readDate("from", request.from, dag.timezone);
    const to = readDate("to", request.to, dag.timezone);
    if (from > to) {
      throw validationError(
        `backfill range is reversed: from ${from.toISOString()} is after to ${to.toISOString()}`,
        { from: from.toISOString(), to: to.toISOString() },
      );
    }
    const reprocess = request.reprocess ?? "none";
    if (!backfillReprocessChoices.includes(reprocess)) {
      throw validationError(
        `reprocess must be one of ${backfillReprocessChoices.join(", ")}, got ${JSON.stringify(reprocess)}`,
      );
    }
    const maxActiveRuns = request.maxActiveRuns ?? dag.maxActiveRuns;
    if (!Number.isSafeInteger(maxActiveRuns) || maxActiveRuns < 1) {
      throw validationError(`maxActiveRuns must be an integer >= 1, got ${String(maxActiveRuns)}`);
    }
    const conf = request.conf ?? {};
    const params = resolveParams(dag.params, conf);
    let intervals = await planIntervalsBetween(dag.schedule, from, to);
    if (reprocess === "stale") {
      const freshness = this.#options.freshness;
      if (freshness === undefined)
        throw validationError(
          'reprocess "stale" needs the store\'s data versions: run it against `hourglass up`',
        );
      const stale = new Set(
        (await freshness.staleIntervals(dag.id, from, to)).map((i) => `${i.startMs}:${i.endMs}`),
      );
      intervals = intervals.filter((i) => stale.has(`${i.start.getTime()}:${i.end.getTime()}`));
      if (intervals.length === 0) {
        throw validationError(
          `no exported interval of ${dag.id} starting between ${from.toISOString()} and ${to.toISOString()} is stale: nothing to re-export (see \`hourglass exports status --dag ${dag.id}\`)`,
          { dagId: dag.id },
        );
      }
    }
    if (intervals.length === 0) {
      throw validationError(
        `no interval of "${dag.schedule.expression}" starts between ${from.toISOString()} and ${to.toISOString()}`,
      );
    }
    if (dag.endDate !== null) {
      const late = intervals.filter((interval) => interval.start > dag.endDate!);
      if (late.length > 0) {
        throw validationError(
          `the backfill range goes past the DAG's end date ${dag.endDate.toISOString()}: ${late.length} interval(s) from ${late[0]!.start.toISOString()} would start after it; end the range at or before the end date`,
          { endDate: dag.endDate.toISOString() },
        );
      }
    }
    const warnings = await retentionWarnings(
      this.#options.retention,
      dag,
      intervals,
      params,
      conf,
      this.#options.clockMs(),
    );
    return {
      loaded,
      conf,
      plan: {
        dagId: dag.id,
        from: from.toISOString(),
        to: to.toISOString(),
        reprocess,
        maxActiveRuns,
        intervals: intervals.map((interval) => ({
          start: interval.start.toISOString(),
          end: interval.end.toISOString(),
          runId: runIdFor("backfill", interval.start),
        })),
        warnings,
      },
    };
  }

  async create(request: BackfillRequest): Promise<BackfillCreated> {
    const { plan, loaded, conf } = await this.plan(request);
    if (request.dryRun) return { plan };
    const { metadata, clockMs } = this.#options;
    const intervals = plan.intervals.map((interval) => ({
      start: Date.parse(interval.start),
      end: Date.parse(interval.end),
      runId: interval.runId,
    }));
    const created = await metadata.createBackfill(
      {
        dagId: plan.dagId,
        from: Date.parse(plan.from),
        // The metadata DB holds the whole covered range: up to the end of the last interval.
        to: intervals.reduce((latest, interval) => Math.max(latest, interval.end), Number.NEGATIVE_INFINITY),
        // "stale" planned only the stale intervals: each of them is re-run.
        reprocess: plan.reprocess === "stale" ? "all" : plan.reprocess,
        maxActiveRuns: plan.maxActiveRuns,
        intervals,
        tasks: taskSpecsOf(loaded.dag, "backfill"),
        conf,
        codeVersion: loaded.codeVersion,
      },
      clockMs(),
    );
    this.#options.wake?.();
    return {
      plan,
      backfill: backfillView(created.backfill),
      results: created.results.map((result) => ({
        ...result,
        start: new Date(result.start).toISOString(),
        end: new Date(result.end).toISOString(),
      })),
    };
  }

  async get(backfillId: number): Promise<BackfillView> {
    const backfill = await this.#options.metadata.getBackfill(checkId(backfillId));
    if (backfill === null) throw notFound(`backfill ${backfillId} does not exist`, { backfillId });
    return backfillView(backfill, await this.#options.metadata.getBackfillProgress(backfill.id));
  }

  async list(filter: { dagId?: string; states?: BackfillState[] } = {}): Promise<BackfillView[]> {
    return (await this.#options.metadata.listBackfills(filter)).map((b) => backfillView(b));
  }

  async pause(backfillId: number): Promise<BackfillView> {
    return this.#move(backfillId, "paused", ["queued", "running"]);
  }

  async resume(backfillId: number): Promise<BackfillView> {
    return this.#move(backfillId, "running", ["paused"]);
  }

  async cancel(backfillId: number): Promise<BackfillView> {
    const cancelled = await this.#options.metadata.cancelBackfill(
      checkId(backfillId),
      this.#options.clockMs(),
    );
    this.#options.wake?.();
    return backfillView(cancelled, await this.#options.metadata.getBackfillProgress(cancelled.id));
  }

  /** The scheduler's bookkeeping: starts, completes, and announces the progress of unfinished backfills. */
  async update(
    nowMs: number,
    dagIds?: ReadonlySet<string>,
    options: { force?: boolean } = {},
  ): Promise<Backfill[]> {
    const { metadata } = this.#options;
    const open = (await metadata.listBackfills({ states: unfinished })).filter(
      (b) => dagIds === undefined || dagIds.has(b.dagId),
    );
    const still: Backfill[] = [];
    for (let backfill of open) {
      // Counting a large backfill's runs is not free: only when one of its runs ended, or its
      // state changed, or now and then (a run marked or cleared from another process).
      const checked = this.#checkedAt.get(backfill.id);
      const sinceMs = checked === undefined ? Number.POSITIVE_INFINITY : performance.now() - checked.atMs;
      // Near its end every change is counted at once, so completion is seen without delay.
      const nearEnd = checked !== undefined && checked.left <= 2 * backfill.maxActiveRuns;
      const due = this.#dirty.has(backfill.id)
        ? nearEnd || sinceMs >= dirtyRecheckMs
        : sinceMs >= progressRecheckMs;
      if (checked !== undefined && checked.state === backfill.state && !due && options.force !== true) {
        still.push(backfill);
        continue;
      }
      this.#dirty.delete(backfill.id);
      const progress = await metadata.getBackfillProgress(backfill.id);
      this.#checkedAt.set(backfill.id, {
        state: backfill.state,
        atMs: performance.now(),
        left: progress.total - progress.done,
      });
      if (backfill.state === "queued" && progress.queued < progress.total - progress.skipped) {
        backfill =
          (await metadata.setBackfillState(backfill.id, { to: "running", from: ["queued"] }, nowMs)) ??
          backfill;
      }
      let current: BackfillProgress = { ...progress, state: backfill.state };
      if (progress.done >= progress.total && backfill.state !== "paused") {
        const done = await metadata.setBackfillState(
          backfill.id,
          { to: "completed", from: unfinished },
          nowMs,
        );
        if (done !== null) {
          backfill = done;
          current = { ...progress, state: done.state };
        }
      }
      this.#announce(backfill.dagId, current);
      if (unfinished.includes(backfill.state)) still.push(backfill);
    }
    return still;
  }

  #announce(dagId: string, progress: BackfillProgress): void {
    const key = JSON.stringify(progress);
    if (this.#announced.get(progress.backfillId) === key) return;
    this.#announced.set(progress.backfillId, key);
    this.#options.events.emit("backfill:progress", { progress, dagId });
  }

  async #move(backfillId: number, to: BackfillState, from: BackfillState[]): Promise<BackfillView> {
    const { metadata, clockMs } = this.#options;
    const moved = await metadata.setBackfillState(checkId(backfillId), { to, from }, clockMs());
    if (moved === null) {
      const current = await metadata.getBackfill(backfillId);
      throw conflict(
        `backfill ${backfillId} is ${current?.state ?? "gone"}: only a ${from.join(" or ")} backfill can become ${to}`,
        { backfillId, state: current?.state },
      );
    }
    this.#options.wake?.();
    return backfillView(moved, await metadata.getBackfillProgress(moved.id));
  }
}

function readDate(name: string, value: unknown, timezone: string): Date {
  if (!(typeof value === "string" || value instanceof Date)) {
    throw validationError(`${name} must be a date such as 2021-09-21 or 2021-09-21T01:00:00Z`, {
      [name]: value,
    });
  }
  try {
    return parseDateInZone(value, timezone);
  } catch (error) {
    throw validationError(`${name}: ${error instanceof Error ? error.message : String(error)}`, {
      [name]: value,
    });
  }
}

function checkId(backfillId: unknown): number {
  if (typeof backfillId !== "number" || !Number.isSafeInteger(backfillId) || backfillId < 1) {
    throw validationError(`a backfill id is a positive integer, got ${JSON.stringify(backfillId)}`);
  }
  return backfillId;
}
