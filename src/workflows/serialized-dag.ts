/**
 * The serialized DAG: what the server process keeps of a DAG, as plain JSON. DAG files are
 * imported in the DAG processor's parse process (dag-processor.ts), never in the server; the parse
 * process sends each DAG's structure back in this form (Airflow's serialized DAG is the model):
 * id, schedule, dates, limits, params, and the tasks with their dependencies, retry settings and
 * operator descriptors. Task functions (`run`) stay behind: only worker processes import DAG files
 * to run them.
 *
 * deserializeDag rebuilds a Dag the scheduler can use (its schedule parsed again, frozen, with the
 * same brand); its `run` tasks have no function. Params declared as a zod schema are code too:
 * the server cannot check a trigger's conf against them, so it takes the conf as given and the
 * worker checks it when the task runs (a conf the schema refuses fails the task with the reason).
 */
import { type Dag, dagBrand } from "./dag.js";
import type { DagParams, ParamSpec, ParamsSchema } from "./params.js";
import { parseSchedule } from "./schedule.js";
import type { OperatorDescriptor, Task } from "./task.js";

export interface SerializedTask {
  id: string;
  upstream: string[];
  downstream: string[];
  retries: number;
  retryDelayMs: number;
  retryExponentialBackoff: boolean;
  maxRetryDelayMs: number | null;
  executionTimeoutMs: number | null;
  dependsOnPast: boolean;
  /** "run": a function, kept in the DAG file; "operator": the descriptor below. */
  kind: "run" | "operator";
  /** The operator descriptor as JSON (functions in it are dropped; dates become ISO text). */
  operator?: OperatorDescriptor;
}

export type SerializedParams =
  | { kind: "none" }
  | { kind: "specs"; specs: Record<string, ParamSpec> }
  /** A zod schema (code): checked by the worker only. */
  | { kind: "schema" };

export interface SerializedDag {
  id: string;
  description: string | null;
  /** The schedule as written (cron, preset, "@once") or null. */
  schedule: string | null;
  timezone: string;
  /** Epoch milliseconds, or the relative form. */
  startDate: number | { daysAgo: number } | null;
  endDate: number | null;
  catchup: boolean;
  maxActiveRuns: number;
  maxActiveTasks: number;
  dagrunTimeoutMs: number | null;
  tags: string[];
  params: SerializedParams;
  freshness: Dag["freshness"];
  tasks: SerializedTask[];
  warnings: string[];
}

export function serializeDag(dag: Dag): SerializedDag {
  const start = dag.startDate;
  return {
    id: dag.id,
    description: dag.description,
    schedule: dag.schedule.expression,
    timezone: dag.timezone,
    startDate: start === null ? null : start instanceof Date ? start.getTime() : { daysAgo: start.daysAgo },
    endDate: dag.endDate === null ? null : dag.endDate.getTime(),
    catchup: dag.catchup,
    maxActiveRuns: dag.maxActiveRuns,
    maxActiveTasks: dag.maxActiveTasks,
    dagrunTimeoutMs: dag.dagrunTimeoutMs,
    tags: [...dag.tags],
    params: serializeParams(dag.params),
    freshness: dag.freshness,
    tasks: dag.tasks.map(serializeTask),
    warnings: [...dag.warnings],
  };
}

export function deserializeDag(serialized: SerializedDag): Dag {
  const { startDate } = serialized;
  return Object.freeze({
    [dagBrand]: true as const,
    id: serialized.id,
    description: serialized.description,
    schedule: parseSchedule(serialized.schedule, serialized.timezone),
    timezone: serialized.timezone,
    startDate:
      startDate === null
        ? null
        : typeof startDate === "number"
          ? new Date(startDate)
          : Object.freeze({ daysAgo: startDate.daysAgo }),
    endDate: serialized.endDate === null ? null : new Date(serialized.endDate),
    catchup: serialized.catchup,
    maxActiveRuns: serialized.maxActiveRuns,
    maxActiveTasks: serialized.maxActiveTasks,
    dagrunTimeoutMs: serialized.dagrunTimeoutMs,
    tags: Object.freeze([...serialized.tags]),
    params: deserializeParams(serialized.params),
    freshness: Object.freeze({
      reexportLateData:
        serialized.freshness?.reexportLateData == null
          ? null
          : Object.freeze({ ...serialized.freshness.reexportLateData }),
    }),
    tasks: Object.freeze(serialized.tasks.map(deserializeTask)),
    warnings: Object.freeze([...serialized.warnings]),
  });
}

function serializeTask(task: Task): SerializedTask {
  return {
    id: task.id,
    upstream: [...task.upstream],
    downstream: [...task.downstream],
    retries: task.retries,
    retryDelayMs: task.retryDelayMs,
    retryExponentialBackoff: task.retryExponentialBackoff,
    maxRetryDelayMs: task.maxRetryDelayMs,
    executionTimeoutMs: task.executionTimeoutMs,
    dependsOnPast: task.dependsOnPast,
    kind: task.operator === undefined ? "run" : "operator",
    ...(task.operator === undefined ? {} : { operator: asJson(task.operator) as OperatorDescriptor }),
  };
}

function deserializeTask(task: SerializedTask): Task {
  return Object.freeze({
    id: task.id,
    upstream: Object.freeze([...task.upstream]),
    downstream: Object.freeze([...task.downstream]),
    retries: task.retries,
    retryDelayMs: task.retryDelayMs,
    retryExponentialBackoff: task.retryExponentialBackoff,
    maxRetryDelayMs: task.maxRetryDelayMs,
    executionTimeoutMs: task.executionTimeoutMs,
    dependsOnPast: task.dependsOnPast,
    ...(task.operator === undefined ? {} : { operator: Object.freeze({ ...task.operator }) }),
  });
}

function serializeParams(params: DagParams): SerializedParams {
  if (params.kind === "none") return { kind: "none" };
  if (params.kind === "schema") return { kind: "schema" };
  return { kind: "specs", specs: asJson(params.specs) as Record<string, ParamSpec> };
}

/** Takes the conf as it is: the worker checks it against the real schema. */
const checkedByTheWorker: ParamsSchema = {
  safeParse: (value) => ({ success: true, data: value }),
};

function deserializeParams(params: SerializedParams): DagParams {
  if (params.kind === "none") return { kind: "none" };
  if (params.kind === "schema") return { kind: "schema", schema: checkedByTheWorker };
  const specs: Record<string, ParamSpec> = {};
  for (const [name, spec] of Object.entries(params.specs)) specs[name] = Object.freeze({ ...spec });
  return { kind: "specs", specs: Object.freeze(specs) };
}

/** A JSON copy: what survives the trip between processes, whatever the value held. */
function asJson(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? null : JSON.parse(text);
}
