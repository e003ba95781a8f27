/**
 * The workflow service: what users do with DAGs, runs, task instances and backfills. The REST
 * routes (src/api/rest/workflow-routes.ts) and the CLI (in-process, when no server runs) are thin
 * layers over these calls; `RemoteWorkflows` (src/runtime/) offers the same calls over HTTP.
 */
import { conflict, notFound, validationError } from "../../errors.js";
import { runIdFor } from "../context.js";
import type { LoadedDag } from "../loader.js";
import { type DagRun, type RunState, type RunType, runStates, runTypes } from "../metadata/index.js";
import { describeParams, resolveParams } from "../params.js";
import { type Interval, inferManualInterval, intervalForLogicalDate, parseDateInZone } from "../schedule.js";
import type { BackfillCreated, BackfillRequest } from "./backfills.js";
import type { Scheduler } from "./scheduler.js";
import { readTaskLog } from "./task-logs.js";
import { downstreamOf, taskSpecsOf } from "./task-specs.js";
import {
  type BackfillView,
  type DagView,
  dagView,
  type ImportErrorView,
  importErrorView,
  type RunView,
  runView,
  type TaskInstanceView,
  type TryView,
  taskInstanceView,
  tryView,
} from "./views.js";

export interface TaskSummary {
  taskId: string;
  upstream: string[];
  downstream: string[];
  kind: string;
  retries: number;
  retryDelayMs: number;
  executionTimeoutMs: number | null;
  dependsOnPast: boolean;
}

export interface DagDetails extends DagView {
  /** False when the DAG's file is gone or has not loaded in this process. */
  loaded: boolean;
  description: string | null;
  tags: string[];
  dagrunTimeoutMs: number | null;
  tasks: TaskSummary[];
  params: ReturnType<typeof describeParams>;
}

export interface TriggerRequest {
  conf?: Record<string, unknown>;
  /** The run's logical date: the interval starting at or containing it is the run's interval. */
  logicalDate?: string;
}

export interface RunFilterRequest {
  dagId?: string;
  states?: string[];
  runTypes?: string[];
  limit?: number;
}

export interface ClearRequest {
  dagId: string;
  /** One run; or */
  runId?: string;
  /** every run whose logical date lies in [from, to]. */
  from?: string;
  to?: string;
  taskIds?: string[];
  onlyFailed?: boolean;
  /** Also the tasks downstream of `taskIds`. */
  downstream?: boolean;
}

export interface ClearedView {
  runs: string[];
  taskInstances: Array<{ runId: string; taskId: string }>;
}

export interface RunDetails extends RunView {
  taskInstances: TaskInstanceView[];
}

export interface TaskStateView extends TaskInstanceView {
  tries: TryView[];
}

export interface TaskLogView {
  tryNumber: number;
  text: string;
}

/** The calls the REST API and the CLI share. */
export interface WorkflowApi {
  listDags(): Promise<DagView[]>;
  getDag(dagId: string): Promise<DagDetails>;
  setPaused(dagId: string, paused: boolean): Promise<DagView>;
  trigger(dagId: string, request?: TriggerRequest): Promise<RunView>;
  importErrors(): Promise<ImportErrorView[]>;
  listRuns(filter?: RunFilterRequest): Promise<RunView[]>;
  getRun(dagId: string, runId: string): Promise<RunDetails>;
  markRun(dagId: string, runId: string, state: "success" | "failed"): Promise<RunView>;
  taskState(dagId: string, runId: string, taskId: string): Promise<TaskStateView>;
  clear(request: ClearRequest): Promise<ClearedView>;
  taskLog(dagId: string, runId: string, taskId: string, tryNumber?: number): Promise<TaskLogView>;
  createBackfill(request: BackfillRequest): Promise<BackfillCreated>;
  listBackfills(filter?: { dagId?: string }): Promise<BackfillView[]>;
  getBackfill(backfillId: number): Promise<BackfillView>;
  pauseBackfill(backfillId: number): Promise<BackfillView>;
  resumeBackfill(backfillId: number): Promise<BackfillView>;
  cancelBackfill(backfillId: number): Promise<BackfillView>;
}

export class WorkflowService implements WorkflowApi {
  readonly #scheduler: Scheduler;
  readonly #logsDir: string;

  constructor(options: { scheduler: Scheduler; logsDir: string }) {
    this.#scheduler = options.scheduler;
    this.#logsDir = options.logsDir;
  }

  get #metadata() {
    return this.#scheduler.metadata;
  }

  #now(): number {
    return this.#scheduler.clockMs();
  }

  async listDags(): Promise<DagView[]> {
    return (await this.#metadata.listDags()).map(dagView);
  }

  async getDag(dagId: string): Promise<DagDetails> {
    const row = await this.#metadata.getDag(checkText("dagId", dagId));
    if (row === null) throw unknownDag(dagId);
    const loaded = this.#scheduler.findDag(dagId);
    const dag = loaded?.dag;
    return {
      ...dagView(row),
      loaded: loaded !== undefined,
      description: dag?.description ?? null,
      tags: [...(dag?.tags ?? [])],
      dagrunTimeoutMs: dag?.dagrunTimeoutMs ?? null,
      tasks: (dag?.tasks ?? []).map((task) => ({
        taskId: task.id,
        upstream: [...task.upstream],
        downstream: [...task.downstream],
        kind: task.operator?.kind ?? "run",
        retries: task.retries,
        retryDelayMs: task.retryDelayMs,
        executionTimeoutMs: task.executionTimeoutMs,
        dependsOnPast: task.dependsOnPast,
      })),
      params: dag === undefined ? [] : describeParams(dag.params),
    };
  }

  async setPaused(dagId: string, paused: boolean): Promise<DagView> {
    if (typeof paused !== "boolean") throw validationError("paused must be true or false");
    const row = await this.#metadata.setPaused(checkText("dagId", dagId), paused, this.#now());
    this.#scheduler.wake();
    return dagView(row);
  }

  async trigger(dagId: string, request: TriggerRequest = {}): Promise<RunView> {
    const loaded = this.#loaded(dagId);
    const { dag } = loaded;
    const conf = request.conf ?? {};
    if (typeof conf !== "object" || conf === null || Array.isArray(conf)) {
      throw validationError("conf must be a JSON object");
    }
    resolveParams(dag.params, conf);
    const now = this.#now();
    let interval: Interval | undefined;
    if (request.logicalDate !== undefined) {
      const at = parseDateInZone(checkText("logicalDate", request.logicalDate), dag.timezone);
      interval = intervalForLogicalDate(dag.schedule, at);
    } else if (dag.schedule.kind === "cron") {
      // As Airflow: a run triggered without a date covers the latest complete interval.
      interval = inferManualInterval(dag.schedule, new Date(now));
    }
    const explicit = interval !== undefined && dag.schedule.kind === "cron";
    const logicalDate = interval?.start ?? new Date(now);
    const result = await this.#metadata.createRun(
      {
        dagId: dag.id,
        runType: "manual",
        ...(explicit ? { interval: { start: interval!.start.getTime(), end: interval!.end.getTime() } } : {}),
        logicalDate: logicalDate.getTime(),
        runId: runIdFor("manual", logicalDate),
        conf,
        codeVersion: loaded.codeVersion,
        tasks: taskSpecsOf(dag, "manual"),
      },
      now,
    );
    if (!result.created) {
      const existing = result.existing;
      throw conflict(
        `run ${existing.runId} (${existing.state}) already covers [${new Date(existing.dataIntervalStart).toISOString()}, ${new Date(existing.dataIntervalEnd).toISOString()}): clear it to run it again, or trigger another logical date`,
        { dagId, runId: existing.runId },
      );
    }
    this.#scheduler.events.emit("run:created", { run: result.run });
    this.#scheduler.wake();
    return runView(result.run);
  }

  async importErrors(): Promise<ImportErrorView[]> {
    return (await this.#metadata.listImportErrors()).map(importErrorView);
  }

  async listRuns(filter: RunFilterRequest = {}): Promise<RunView[]> {
    const states = filter.states?.map((s) => checkOneOf("state", s, runStates));
    const types = filter.runTypes?.map((t) => checkOneOf("run type", t, runTypes));
    const runs = await this.#metadata.listRuns({
      ...(filter.dagId === undefined ? {} : { dagId: filter.dagId }),
      ...(states === undefined ? {} : { states: states as RunState[] }),
      ...(types === undefined ? {} : { runTypes: types as RunType[] }),
      order: "desc",
      limit: filter.limit ?? 100,
    });
    return runs.map(runView);
  }

  async getRun(dagId: string, runId: string): Promise<RunDetails> {
    const run = await this.#run(dagId, runId);
    const tis = await this.#metadata.listTaskInstances({ dagRunId: run.id });
    return { ...runView(run), taskInstances: tis.map((ti) => taskInstanceView(ti, run.runId)) };
  }

  async markRun(dagId: string, runId: string, state: "success" | "failed"): Promise<RunView> {
    checkOneOf("state", state, ["success", "failed"]);
    const run = await this.#run(dagId, runId);
    const marked = await this.#metadata.markRun(run.id, state, this.#now());
    this.#scheduler.events.emit("run:finished", { run: marked, state });
    this.#scheduler.wake();
    return runView(marked);
  }

  async taskState(dagId: string, runId: string, taskId: string): Promise<TaskStateView> {
    const run = await this.#run(dagId, runId);
    const key = { dagRunId: run.id, taskId: checkText("taskId", taskId) };
    const ti = await this.#metadata.getTaskInstance(key);
    if (ti === null)
      throw notFound(`run ${runId} of ${dagId} has no task ${taskId}`, { dagId, runId, taskId });
    const tries = await this.#metadata.listTaskTries(key);
    return { ...taskInstanceView(ti, run.runId), tries: tries.map(tryView) };
  }

  async clear(request: ClearRequest): Promise<ClearedView> {
    if (typeof request !== "object" || request === null)
      throw validationError("a clear request must be an object");
    const dagId = checkText("dagId", request.dagId);
    const loaded = this.#scheduler.findDag(dagId);
    if ((await this.#metadata.getDag(dagId)) === null) throw unknownDag(dagId);
    const taskIds = request.taskIds?.length ? request.taskIds : undefined;
    if (taskIds !== undefined && loaded !== undefined) {
      const unknown = taskIds.filter((id) => !loaded.dag.tasks.some((task) => task.id === id));
      if (unknown.length > 0)
        throw validationError(`DAG ${dagId} has no task ${unknown.join(", ")}`, { unknown });
    }
    let dagRunIds: number[] | undefined;
    let interval: { start: number; end: number } | undefined;
    if (request.runId !== undefined) {
      if (request.from !== undefined || request.to !== undefined) {
        throw validationError("clear either one run (runId) or a date range (from, to), not both");
      }
      dagRunIds = [(await this.#run(dagId, request.runId)).id];
    } else if (request.from !== undefined && request.to !== undefined) {
      const timezone = loaded?.dag.timezone ?? "UTC";
      const from = parseDateInZone(checkText("from", request.from), timezone);
      const to = parseDateInZone(checkText("to", request.to), timezone);
      if (from > to) {
        throw validationError(
          `the range is reversed: from ${from.toISOString()} is after to ${to.toISOString()}`,
        );
      }
      // Runs whose interval starts in [from, to]: up to the end of the interval starting at `to`.
      const last = loaded === undefined ? { end: to } : intervalForLogicalDate(loaded.dag.schedule, to);
      interval = { start: from.getTime(), end: Math.max(to.getTime(), last.end.getTime()) };
    } else {
      throw validationError("say what to clear: a runId, or both from and to");
    }
    const downstreamTaskIds =
      request.downstream && taskIds !== undefined && loaded !== undefined
        ? downstreamOf(loaded.dag, taskIds)
        : undefined;
    const cleared = await this.#metadata.clearTaskInstances(
      {
        dagId,
        ...(dagRunIds === undefined ? {} : { dagRunIds }),
        ...(interval === undefined ? {} : { interval }),
        ...(taskIds === undefined ? {} : { taskIds }),
        ...(request.onlyFailed ? { onlyFailed: true } : {}),
        ...(downstreamTaskIds === undefined ? {} : { downstreamTaskIds }),
      },
      this.#now(),
    );
    for (const id of cleared.dagRunIds) this.#scheduler.markRunChanged(id);
    const runIds = new Map<number, string>();
    for (const id of cleared.dagRunIds)
      runIds.set(id, (await this.#metadata.getRun(id))?.runId ?? String(id));
    return {
      runs: cleared.dagRunIds.map((id) => runIds.get(id)!),
      taskInstances: cleared.taskInstances.map((key) => ({
        runId: runIds.get(key.dagRunId)!,
        taskId: key.taskId,
      })),
    };
  }

  async taskLog(dagId: string, runId: string, taskId: string, tryNumber?: number): Promise<TaskLogView> {
    const state = await this.taskState(dagId, runId, taskId);
    const wanted = tryNumber ?? state.tryNumber;
    if (wanted < 1) throw notFound(`task ${taskId} of run ${runId} has not run yet (it is ${state.state})`);
    if (!Number.isSafeInteger(wanted) || wanted > state.tryNumber) {
      throw notFound(
        `task ${taskId} of run ${runId} has no try ${wanted} (its tries: 1 to ${state.tryNumber})`,
      );
    }
    return { tryNumber: wanted, text: readTaskLog(this.#logsDir, dagId, runId, taskId, wanted) };
  }

  createBackfill(request: BackfillRequest): Promise<BackfillCreated> {
    return this.#scheduler.backfills.create(request);
  }

  listBackfills(filter: { dagId?: string } = {}): Promise<BackfillView[]> {
    return this.#scheduler.backfills.list(filter);
  }

  getBackfill(backfillId: number): Promise<BackfillView> {
    return this.#scheduler.backfills.get(backfillId);
  }

  pauseBackfill(backfillId: number): Promise<BackfillView> {
    return this.#scheduler.backfills.pause(backfillId);
  }

  resumeBackfill(backfillId: number): Promise<BackfillView> {
    return this.#scheduler.backfills.resume(backfillId);
  }

  cancelBackfill(backfillId: number): Promise<BackfillView> {
    return this.#scheduler.backfills.cancel(backfillId);
  }

  #loaded(dagId: string): LoadedDag {
    const loaded = this.#scheduler.findDag(checkText("dagId", dagId));
    if (loaded === undefined) throw unknownDag(dagId);
    return loaded;
  }

  async #run(dagId: string, runId: string): Promise<DagRun> {
    const run = await this.#metadata.getRunByRunId(checkText("dagId", dagId), checkText("runId", runId));
    if (run === null) throw notFound(`DAG ${dagId} has no run ${runId}`, { dagId, runId });
    return run;
  }
}

function unknownDag(dagId: string) {
  return notFound(`DAG ${JSON.stringify(dagId)} is not known: see \`hourglass dags list\``, { dagId });
}

function checkText(name: string, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw validationError(`${name} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return value;
}

function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw validationError(`${name} must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}
