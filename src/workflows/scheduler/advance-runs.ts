/**
 * Moving one DAG's runs forward, once per tick:
 *
 * 1. admission: queued runs become running while the DAG has fewer than `maxActiveRuns` running
 *    (scheduled and manual runs; none while the DAG is paused); a backfill's runs by the
 *    backfill's own `maxActiveRuns` (and not while the backfill is paused);
 * 2. each running run: a run past `dagrunTimeoutMs` fails (its running tries are closed, and the
 *    pool stops them at its next heartbeat); tasks whose upstreams all succeeded are queued
 *    (bounded by the DAG's `maxActiveTasks`, and by `dependsOnPast`), tasks up for retry are
 *    queued once their (exponential) retry delay passed, a failed upstream makes `upstream_failed`
 *    and a skipped one `skipped` (Airflow's all_success rule), and a run whose task instances
 *    have all ended gets its final state: success when all succeeded or were skipped, else failed.
 *
 * Every change goes through the metadata DB's compare-and-set methods, so a user's clear or mark
 * racing with a tick is safe: the loser's change simply does not apply.
 */
import type { LoadedDag } from "../loader.js";
import type {
  Backfill,
  Dag as DagRow,
  DagRun,
  MetadataStore,
  TaskInstance,
  TaskState,
} from "../metadata/index.js";
import { retryDelayMsAfter, type Task } from "../task.js";
import type { WorkflowEvents } from "./events.js";
import { taskSpecOf } from "./task-specs.js";

const finishedTaskStates: ReadonlySet<TaskState> = new Set([
  "success",
  "failed",
  "skipped",
  "upstream_failed",
]);
const failedTaskStates: ReadonlySet<TaskState> = new Set(["failed", "upstream_failed"]);

export interface AdvanceInput {
  metadata: MetadataStore;
  events: WorkflowEvents;
  nowMs: number;
  row: DagRow;
  /** Undefined when the DAG's file is gone (or failed before it ever loaded): its runs only finish. */
  loaded: LoadedDag | undefined;
  /** The DAG's unfinished backfills (queued, running, paused). */
  backfills: readonly Backfill[];
  /**
   * Queued runs of each backfill read ahead, oldest first (the scheduler keeps it between ticks):
   * a backfill of a year has 8,760 queued runs, and sorting them at every tick would cost more
   * than the runs. Admission is a compare-and-set, so a cached run that changed meanwhile
   * (cancelled) is simply not admitted.
   */
  queuedAhead?: Map<number, DagRun[]>;
  /**
   * Only these running runs need a look (a task of theirs ended); undefined: every running run.
   * Runs admitted in this tick are always looked at.
   */
  onlyRuns?: ReadonlySet<number>;
}

const readAheadRuns = 256;

/** Admits queued runs and moves every running run of one DAG on; returns how many things changed. */
export async function advanceDag(input: AdvanceInput): Promise<number> {
  const { metadata, row } = input;
  let changes = 0;
  const running = await metadata.listRuns({ dagId: row.dagId, states: ["running"] });
  const admitted = await admitRuns(input, running);
  changes += admitted.length;
  // Not countActive: it also counts the DAG's queued runs, all 8,760 of a year's backfill.
  const activeTasks = (await metadata.listTaskInstances({ dagId: row.dagId, states: ["queued", "running"] }))
    .length;
  const taskSlots = { left: Math.max(0, row.maxActiveTasks - activeTasks) };
  const look = input.onlyRuns === undefined ? running : running.filter((run) => input.onlyRuns!.has(run.id));
  for (const run of [...look, ...admitted]) changes += await advanceRun(input, run, taskSlots);
  return changes;
}

async function admitRuns(input: AdvanceInput, running: readonly DagRun[]): Promise<DagRun[]> {
  const { metadata, row, loaded, backfills, nowMs } = input;
  if (!row.isActive || loaded === undefined) return [];
  const owner = new Map(backfills.map((b) => [b.id, b]));
  const ownedBy = (run: DagRun) => (run.backfillId === null ? undefined : owner.get(run.backfillId));
  const candidates: DagRun[] = [];

  if (!row.isPaused) {
    const runningNormal = running.filter((run) => ownedBy(run) === undefined).length;
    const slots = row.maxActiveRuns - runningNormal;
    if (slots > 0) {
      const queued = await metadata.listRuns({
        dagId: row.dagId,
        states: ["queued"],
        runTypes: ["scheduled", "manual"],
        limit: slots * 2 + 50,
      });
      candidates.push(...queued.filter((run) => ownedBy(run) === undefined).slice(0, slots));
    }
  }
  for (const backfill of backfills) {
    if (backfill.state === "paused") continue;
    const runningOwned = running.filter((run) => run.backfillId === backfill.id).length;
    const slots = backfill.maxActiveRuns - runningOwned;
    if (slots <= 0) continue;
    const cache = input.queuedAhead ?? new Map<number, DagRun[]>();
    let ahead = cache.get(backfill.id) ?? [];
    if (ahead.length < slots) {
      ahead = await metadata.listRuns({
        backfillId: backfill.id,
        states: ["queued"],
        limit: Math.max(slots, readAheadRuns),
      });
    }
    candidates.push(...ahead.slice(0, slots));
    cache.set(backfill.id, ahead.slice(slots));
  }

  const admitted: DagRun[] = [];
  for (const candidate of candidates) {
    const run = await metadata.setRunState(candidate.id, { to: "running", from: ["queued"] }, nowMs);
    if (run === null) continue;
    admitted.push(run);
    input.events.emit("run:started", { run });
  }
  return admitted;
}

async function advanceRun(input: AdvanceInput, run: DagRun, taskSlots: { left: number }): Promise<number> {
  const { metadata, events, nowMs, loaded } = input;
  const dag = loaded?.dag;
  if (
    dag?.dagrunTimeoutMs != null &&
    run.startedAt !== null &&
    nowMs - run.startedAt >= dag.dagrunTimeoutMs
  ) {
    const failed = await metadata.markRun(run.id, "failed", nowMs);
    events.emit("run:finished", { run: failed, state: "failed" });
    return 1;
  }

  let tis = await metadata.listTaskInstances({ dagRunId: run.id });
  if (dag !== undefined) {
    const present = new Set(tis.map((ti) => ti.taskId));
    const missing = dag.tasks.filter((task) => !present.has(task.id));
    if (missing.length > 0) {
      // Tasks added to the DAG after the run was created (Airflow's verify_integrity).
      await metadata.createTaskInstances(
        run.id,
        missing.map((task) => taskSpecOf(task, run.runType)),
        nowMs,
      );
      tis = await metadata.listTaskInstances({ dagRunId: run.id });
    }
  }

  let changes = 0;
  if (dag !== undefined) {
    const plan = await planTasks(input, run, tis, taskSlots);
    const moves: Array<[string[], "queued" | "upstream_failed" | "skipped", TaskState[]]> = [
      [plan.upstreamFailed, "upstream_failed", ["none", "scheduled"]],
      [plan.skipped, "skipped", ["none", "scheduled", "up_for_retry"]],
      [plan.queue, "queued", ["none", "scheduled", "up_for_retry"]],
    ];
    for (const [taskIds, to, from] of moves) {
      if (taskIds.length === 0) continue;
      const moved = await metadata.transitionTaskInstances(run.id, taskIds, { from, to }, nowMs);
      changes += moved;
      if (to === "queued" && moved > 0)
        events.emit("task:queued", { dagId: run.dagId, dagRunId: run.id, taskIds });
    }
    if (changes > 0) tis = await metadata.listTaskInstances({ dagRunId: run.id });
  }

  if (tis.every((ti) => finishedTaskStates.has(ti.state))) {
    const state = tis.some((ti) => failedTaskStates.has(ti.state)) ? "failed" : "success";
    const finished = await metadata.setRunState(run.id, { to: state, from: ["running"] }, nowMs);
    if (finished !== null) {
      events.emit("run:finished", { run: finished, state });
      changes += 1;
    }
  }
  return changes;
}

interface TaskPlan {
  queue: string[];
  upstreamFailed: string[];
  skipped: string[];
}

async function planTasks(
  input: AdvanceInput,
  run: DagRun,
  tis: readonly TaskInstance[],
  taskSlots: { left: number },
): Promise<TaskPlan> {
  const dag = input.loaded!.dag;
  const plan: TaskPlan = { queue: [], upstreamFailed: [], skipped: [] };
  const byId = new Map(tis.map((ti) => [ti.taskId, ti]));
  const state = new Map(tis.map((ti) => [ti.taskId, ti.state]));
  const known = new Set(dag.tasks.map((task) => task.id));
  // Task instances of tasks removed from the DAG would hold the run open forever.
  for (const ti of tis) {
    if (!known.has(ti.taskId) && (ti.state === "none" || ti.state === "scheduled")) {
      plan.skipped.push(ti.taskId);
    }
  }
  // A paused DAG starts no new tasks (running ones finish), except in a backfill's runs.
  const mayStart = !input.row.isPaused || input.backfills.some((b) => b.id === run.backfillId);
  // dag.tasks is in dependency order: a state decided here is seen by the tasks downstream.
  for (const task of dag.tasks) {
    const ti = byId.get(task.id);
    if (ti === undefined) continue;
    if (ti.state === "none" || ti.state === "scheduled") {
      const upstream = task.upstream.map((id) => state.get(id)).filter((s) => s !== undefined);
      if (upstream.some((s) => failedTaskStates.has(s))) {
        state.set(task.id, "upstream_failed");
        plan.upstreamFailed.push(task.id);
        continue;
      }
      if (!upstream.every((s) => s === "success" || s === "skipped")) continue;
      if (upstream.some((s) => s === "skipped")) {
        state.set(task.id, "skipped");
        plan.skipped.push(task.id);
        continue;
      }
      if (!mayStart || taskSlots.left <= 0) continue;
      if (task.dependsOnPast && !(await pastSucceeded(input.metadata, run, task))) continue;
      plan.queue.push(task.id);
      taskSlots.left -= 1;
    } else if (ti.state === "up_for_retry") {
      if (!mayStart || taskSlots.left <= 0) continue;
      const dueAt = (ti.endedAt ?? 0) + retryDelayMsAfter(task, Math.max(1, ti.tryNumber));
      if (dueAt > input.nowMs) continue;
      plan.queue.push(task.id);
      taskSlots.left -= 1;
    }
  }
  return plan;
}

/** dependsOnPast: the same task in the previous run (by logical date) succeeded or was skipped. */
async function pastSucceeded(metadata: MetadataStore, run: DagRun, task: Task): Promise<boolean> {
  const previous = (
    await metadata.listRuns({
      dagId: run.dagId,
      interval: { start: 0, end: run.dataIntervalStart },
      order: "desc",
      limit: 2,
    })
  ).find((candidate) => candidate.id !== run.id && candidate.logicalDate < run.logicalDate);
  if (previous === undefined) return true;
  const ti = await metadata.getTaskInstance({ dagRunId: previous.id, taskId: task.id });
  return ti === null || ti.state === "success" || ti.state === "skipped";
}
