/**
 * The freshness service: which exported intervals of a DAG are fresh, stale (by data or by code),
 * missing or failed (`hourglass exports status`, `GET /api/v1/dags/:dagId/exports/status`), which
 * of them `backfill create --reprocess stale` re-runs, and which late data has settled for a DAG's
 * `freshness.reexportLateData`. It reads three sources and writes nothing: the export ledger and
 * the data versions (the store), and the runs (the metadata DB).
 */
import { notFound, validationError } from "../errors.js";
import type { BucketVersion, ExportRecord } from "../store/index.js";
import type { LoadedDag } from "../workflows/index.js";
import { parseDateInZone, planIntervalsBetween, resolveStartDate } from "../workflows/index.js";
import type { MetadataStore } from "../workflows/metadata/index.js";
import {
  classifyIntervals,
  type ExportStatus,
  type ExportStatusEntry,
  exportStatuses,
  type IntervalRun,
  intervalKey,
} from "./status.js";

/** The store calls freshness reads (TimestreamStore has them). */
export interface FreshnessStore {
  readDataVersions(tableIds: readonly number[], fromMs: number, toMs: number): Promise<BucketVersion[]>;
  latestExports(dagId: string, fromMs: number, toMs: number): Promise<ExportRecord[]>;
}

/** What the service needs of the workflows side (the Scheduler has it). */
export interface FreshnessWorkflows {
  readonly metadata: MetadataStore;
  readonly clockMs: () => number;
  findDag(dagId: string): LoadedDag | undefined;
}

export interface ExportsStatusRequest {
  dagId: string;
  /** First interval start to judge (ISO, or a date: midnight in the DAG's zone); default the DAG's start date. */
  from?: string;
  /** Last interval start to judge, included; default now. */
  to?: string;
}

export interface ExportsStatusView {
  dagId: string;
  from: string;
  to: string;
  codeVersion: string;
  /** How many intervals have each status. */
  counts: Record<ExportStatus, number>;
  intervals: ExportStatusEntry[];
}

export interface SettledInterval {
  startMs: number;
  endMs: number;
  /** The newest write among the interval's buckets (store clock). */
  lastWriteMs: number;
  records: number;
  /** The highest data version now in the interval: one reexport per version. */
  version: number;
}

/** At most this many intervals in one status request (a year of 5-minute intervals). */
const maxIntervals = 105_408;

export class FreshnessService {
  readonly #store: FreshnessStore;
  readonly #workflows: FreshnessWorkflows;

  constructor(options: { store: FreshnessStore; workflows: FreshnessWorkflows }) {
    this.#store = options.store;
    this.#workflows = options.workflows;
  }

  async exportsStatus(request: ExportsStatusRequest): Promise<ExportsStatusView> {
    if (
      typeof request !== "object" ||
      request === null ||
      typeof request.dagId !== "string" ||
      request.dagId === ""
    )
      throw validationError("say which DAG: dagId must be a non-empty string");
    const loaded = this.#workflows.findDag(request.dagId);
    const row = await this.#workflows.metadata.getDag(request.dagId);
    if (loaded === undefined || row === null) {
      throw notFound(`DAG ${JSON.stringify(request.dagId)} is not known: see \`hourglass dags list\``, {
        dagId: request.dagId,
      });
    }
    const { dag } = loaded;
    if (dag.schedule.kind !== "cron") {
      throw validationError(
        `DAG ${dag.id} has no cron schedule (${dag.schedule.kind}): only scheduled exports have intervals to judge`,
        { dagId: dag.id },
      );
    }
    const nowMs = this.#workflows.clockMs();
    const from =
      request.from === undefined
        ? resolveStartDate(dag, new Date(nowMs))
        : readDate("from", request.from, dag.timezone);
    if (from === null)
      throw validationError(`DAG ${dag.id} has no start date: give --from`, { dagId: dag.id });
    const to = request.to === undefined ? new Date(nowMs) : readDate("to", request.to, dag.timezone);
    if (from > to) {
      throw validationError(
        `the range is reversed: from ${from.toISOString()} is after to ${to.toISOString()}`,
      );
    }
    // Only intervals that have ended can have an export.
    const planned = await planIntervalsBetween(dag.schedule, from, to, { limit: maxIntervals + 1 });
    if (planned.length > maxIntervals) {
      throw validationError(
        `the range holds more than ${maxIntervals} intervals of "${dag.schedule.expression}": ask for a shorter one (--from, --to)`,
      );
    }
    const intervals = planned
      .filter((i) => i.end.getTime() <= nowMs)
      .map((i) => ({ startMs: i.start.getTime(), endMs: i.end.getTime() }));
    const firstMs = intervals[0]?.startMs ?? from.getTime();
    const lastMs = intervals.at(-1)?.endMs ?? from.getTime();
    const [runs, exports] = await Promise.all([
      this.#latestRuns(dag.id, firstMs, lastMs),
      this.#store.latestExports(dag.id, firstMs, lastMs),
    ]);
    const tableIds = [...new Set(exports.flatMap((e) => e.reads.map((r) => r.tableId)))];
    const buckets = await this.#store.readDataVersions(tableIds, firstMs, lastMs);
    const entries = classifyIntervals({
      intervals,
      runs,
      exportTaskIds: dag.tasks.filter((t) => t.operator?.kind === "export").map((t) => t.id),
      exports,
      buckets,
      currentCodeVersion: loaded.codeVersion,
    });
    const counts = Object.fromEntries(exportStatuses.map((s) => [s, 0])) as Record<ExportStatus, number>;
    for (const entry of entries) counts[entry.status] += 1;
    return {
      dagId: dag.id,
      from: from.toISOString(),
      to: to.toISOString(),
      codeVersion: loaded.codeVersion,
      counts,
      intervals: entries,
    };
  }

  /** Intervals starting in [from, to] whose exports are stale (by data or by code). */
  async staleIntervals(
    dagId: string,
    from: Date,
    to: Date,
  ): Promise<Array<{ startMs: number; endMs: number }>> {
    const view = await this.exportsStatus({ dagId, from: from.toISOString(), to: to.toISOString() });
    return view.intervals
      .filter((i) => i.status === "stale-data" || i.status === "stale-code")
      .map((i) => ({ startMs: Date.parse(i.start), endMs: Date.parse(i.end) }));
  }

  /**
   * For `reexportLateData`: intervals that ended at most `withinMs` before now, whose export is
   * stale by data, and whose last write is at least `settleMs` old. Intervals with a run queued or
   * running are left out (never two runs of one interval at once).
   */
  async settledLateData(dagId: string, settleMs: number, withinMs: number): Promise<SettledInterval[]> {
    const nowMs = this.#workflows.clockMs();
    const loaded = this.#workflows.findDag(dagId);
    if (loaded === undefined || loaded.dag.schedule.kind !== "cron") return [];
    // Intervals that end within `within` of now start at most one interval earlier.
    const from = new Date(nowMs - withinMs - 31 * 86_400_000);
    const exports = await this.#store.latestExports(dagId, from.getTime(), nowMs);
    if (exports.length === 0) return [];
    const earliest = exports.reduce((min, e) => Math.min(min, e.intervalStartMs), Number.POSITIVE_INFINITY);
    const view = await this.exportsStatus({
      dagId,
      from: new Date(earliest).toISOString(),
      to: new Date(nowMs).toISOString(),
    });
    return view.intervals
      .filter((i) => i.status === "stale-data" && i.staleData !== null)
      .filter((i) => Date.parse(i.end) >= nowMs - withinMs)
      .filter((i) => nowMs - Date.parse(i.staleData!.lastWriteAt) >= settleMs)
      .map((i) => ({
        startMs: Date.parse(i.start),
        endMs: Date.parse(i.end),
        lastWriteMs: Date.parse(i.staleData!.lastWriteAt),
        records: i.staleData!.records,
        version: i.staleData!.version,
      }));
  }

  /** The latest run (highest id) of each interval, manual runs without an interval left out. */
  async #latestRuns(dagId: string, fromMs: number, toMs: number): Promise<Map<string, IntervalRun>> {
    const runs = await this.#workflows.metadata.listRuns({
      dagId,
      interval: { start: fromMs, end: toMs },
      order: "asc",
    });
    const latest = new Map<string, { id: number; run: IntervalRun }>();
    for (const run of runs) {
      if (!run.intervalExplicit && run.dataIntervalStart === run.dataIntervalEnd) continue;
      const key = intervalKey(run.dataIntervalStart, run.dataIntervalEnd);
      const seen = latest.get(key);
      if (seen === undefined || run.id > seen.id)
        latest.set(key, { id: run.id, run: { runId: run.runId, runType: run.runType, state: run.state } });
    }
    return new Map([...latest].map(([key, { run }]) => [key, run]));
  }
}

function readDate(name: string, value: unknown, timezone: string): Date {
  if (typeof value !== "string" || value.trim() === "")
    throw validationError(`${name} must be a date such as 2021-09-21 or 2021-09-21T01:00:00Z`);
  try {
    return parseDateInZone(value, timezone);
  } catch (error) {
    throw validationError(`${name}: ${error instanceof Error ? error.message : String(error)}`, {
      [name]: value,
    });
  }
}
