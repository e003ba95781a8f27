/**
 * What a task's `run(ctx)` receives: which run and interval it works on, the trigger's conf, the
 * DAG's params, a logger, an abort signal, and helpers that write the interval the way the seed's
 * SQL and lake folders expect it. Pure: the worker supplies the log function and the signal.
 */
import { HourglassError, validationError } from "../errors.js";
import type { Interval } from "./schedule.js";
import type { OperatorRunOptions, TaskServices } from "./task-contract.js";
import { dateStamp, intervalFolder, isoUtc, sqlTimestamp, timeStampNoDash } from "./time-format.js";

export const runTypes = ["scheduled", "backfill", "manual", "reexport"] as const;
export type RunType = (typeof runTypes)[number];

export interface SqlHelpers {
  /** The interval start as the seed writes it in SQL: 2021-09-22 13:00:00+00:00 (no quotes). */
  readonly start: string;
  readonly end: string;
  /** `time >= '2021-09-22 13:00:00+00:00' AND time < '2021-09-22 14:00:00+00:00'`: half-open, [start, end). */
  timeFilter(column?: string): string;
}

export interface TaskContext {
  readonly dagId: string;
  readonly taskId: string;
  readonly runId: string;
  readonly runType: RunType;
  /** The interval start for scheduled and backfill runs (Airflow's logical date). */
  readonly logicalDate: Date;
  readonly dataIntervalStart: Date;
  readonly dataIntervalEnd: Date;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly tryNumber: number;
  /** The trigger's configuration, as given. */
  readonly conf: Readonly<Record<string, unknown>>;
  /** The DAG's params after defaults and conf were applied (see params.ts). */
  readonly params: Readonly<Record<string, unknown>>;
  readonly log: (message: string) => void;
  /** Aborted when the task times out or the run is cancelled: pass it to long calls. */
  readonly signal: AbortSignal;
  readonly sql: SqlHelpers;
  /** The interval start as YYYY-MM-DD-HH in UTC: the seed's lake folder. */
  readonly folder: string;
  /** Airflow's template values for the logical date: 2021-09-22, 20210922, 2021-09-22T13:00:00+00:00, 20210922T130000. */
  readonly ds: string;
  readonly dsNodash: string;
  readonly ts: string;
  readonly tsNodash: string;
  /**
   * The store and the export path, for `run` functions (what operators get). Given by the worker;
   * a context made without them (a unit test of a template) throws on use.
   */
  readonly services: TaskServices;
}

/** Runs one operator descriptor for one task instance; the returned value is logged and kept as the task's result. */
export type OperatorRunner = (
  descriptor: { kind: string; [field: string]: unknown },
  ctx: TaskContext,
  services: TaskServices,
  options?: OperatorRunOptions,
) => Promise<unknown>;

export interface TaskContextInput {
  dagId: string;
  taskId: string;
  runType: RunType;
  dataInterval: Interval;
  /** Defaults to the interval start. */
  logicalDate?: Date;
  /** Defaults to runIdFor(runType, logicalDate). */
  runId?: string;
  tryNumber?: number;
  conf?: Record<string, unknown> | null;
  params?: Record<string, unknown>;
  log: (message: string) => void;
  signal?: AbortSignal;
  services?: TaskServices;
}

/** Airflow's run id: `scheduled__2021-09-21T01:00:00+00:00`, `backfill__…`, `manual__…`. */
export function runIdFor(runType: RunType, logicalDate: Date): string {
  checkRunType(runType);
  return `${runType}__${isoUtc(checkDate("logicalDate", logicalDate))}`;
}

/**
 * The run type and logical date a run id was made from, or null if it is not in runIdFor's form.
 * Also reads the `…T13:00:00.000Z` form that the metadata DB's default run id had before it took
 * Airflow's, so runs created then still parse.
 */
export function parseRunId(runId: string): { runType: RunType; logicalDate: Date } | null {
  const match =
    /^(scheduled|backfill|manual|reexport)__(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:\+00:00|Z))(?:__v\d+)?$/.exec(
      runId,
    );
  if (match === null) return null;
  const logicalDate = new Date(match[2]!);
  if (Number.isNaN(logicalDate.getTime())) return null;
  return { runType: match[1] as RunType, logicalDate };
}

/** `column >= 'start' AND column < 'end'` for [start, end), in the Timestream dialect. */
export function timeFilter(interval: Interval, column = "time"): string {
  const name = checkColumn(column);
  return `${name} >= '${sqlTimestamp(interval.start)}' AND ${name} < '${sqlTimestamp(interval.end)}'`;
}

export function createTaskContext(input: TaskContextInput): TaskContext {
  checkRunType(input.runType);
  const start = checkDate("dataInterval.start", input.dataInterval?.start);
  const end = checkDate("dataInterval.end", input.dataInterval?.end);
  if (end < start) {
    throw validationError(
      `data interval end ${end.toISOString()} is before its start ${start.toISOString()}`,
    );
  }
  const logicalDate = input.logicalDate === undefined ? start : checkDate("logicalDate", input.logicalDate);
  const tryNumber = input.tryNumber ?? 1;
  if (!Number.isInteger(tryNumber) || tryNumber < 1) {
    throw validationError(`tryNumber must be an integer >= 1, got ${String(tryNumber)}`);
  }
  if (typeof input.log !== "function") throw validationError("log must be a function");
  const interval: Interval = { start, end };
  const sql: SqlHelpers = Object.freeze({
    start: sqlTimestamp(start),
    end: sqlTimestamp(end),
    timeFilter: (column = "time") => timeFilter(interval, column),
  });
  return Object.freeze({
    dagId: input.dagId,
    taskId: input.taskId,
    runId: input.runId ?? runIdFor(input.runType, logicalDate),
    runType: input.runType,
    logicalDate,
    dataIntervalStart: start,
    dataIntervalEnd: end,
    tryNumber,
    conf: Object.freeze({ ...(input.conf ?? {}) }),
    params: Object.freeze({ ...(input.params ?? {}) }),
    log: input.log,
    signal: input.signal ?? new AbortController().signal,
    sql,
    folder: intervalFolder(start),
    ds: dateStamp(logicalDate),
    dsNodash: dateStamp(logicalDate).replaceAll("-", ""),
    ts: isoUtc(logicalDate),
    tsNodash: timeStampNoDash(logicalDate),
    services: input.services ?? noServices,
  });
}

const missingServices = (): never => {
  throw new HourglassError("Internal", "this task context has no services (the worker did not give any)");
};

/** Stands in when no services were given: any use says why it fails. */
const noServices: TaskServices = Object.freeze({
  get store(): never {
    return missingServices();
  },
  exportToLake: missingServices,
});

function checkColumn(column: string): string {
  if (
    typeof column === "string" &&
    (/^[A-Za-z_][A-Za-z0-9_]*$/.test(column) || /^"(?:[^"]|"")+"$/.test(column))
  ) {
    return column;
  }
  throw validationError(
    `time filter column must be a plain identifier such as time, or a double-quoted one, got ${JSON.stringify(column)}`,
  );
}

function checkRunType(runType: unknown): asserts runType is RunType {
  if (!runTypes.includes(runType as RunType)) {
    throw validationError(`run type must be one of ${runTypes.join(", ")}, got ${JSON.stringify(runType)}`);
  }
}

function checkDate(name: string, value: unknown): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw validationError(`${name} must be a valid Date`);
  }
  return value;
}
