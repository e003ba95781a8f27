/**
 * Moving one DAG's runs forward, once per tick:
 *
 * 1. admission: queued runs become running while the DAG has fewer than `maxActiveRuns` running
 *    (scheduled, manual and reexport runs; none while the DAG is paused); a backfill's runs by the
 *    backfill's own `maxActiveRuns` (and not while the backfill is paused);
 * 2. each running run: a run past `dagrunTimeoutMs` fails (its running tries are closed, and the
 *    pool stops them at its next heartbeat); tasks whose upstreams all succeeded are queued
 *    (bounded by the DAG's `maxActiveTasks`, and by `dependsOnPast`), tasks up for retry are
 *    queued once their (exponential) retry delay passed, a failed upstream makes `upstream_failed`
 *    and a skipped one `skipped` (Airflow's all_success rule), and a run whose task instances
 *    have all ended gets its final state: success when all succeeded or were skipped, else failed.
 *
 * Every change goes through the metadata DB's compare-and-set methods, so a user's clear or mark
 * racing with a tick is safe: the loser's change simply does not apply. Ending a run also checks
 * the run's clear number, since a clear keeps a running run running (a state check alone would
 * let a tick end it on task instances read before the clear).
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
import { maxListedRuns } from "../metadata/index.js";
import { retryDelayMsAfter, type Task } from "../task.js";
import type { EventSink } from "./events.js";
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
  events: EventSink;
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

/**
 * Admits queued runs and moves every running run of one DAG on; returns how many things changed.
 * The work is done in phases, each a few statements for all the runs (not a few per run): admit
 * the candidates, read the task instances of the runs to look at, plan each run, apply each kind
 * of move to every run at once, end the runs whose task instances all ended.
 */
export async function advanceDag(input: AdvanceInput): Promise<number> {
  const { metadata, row } = input;
  const running = await metadata.listRuns({ dagId: row.dagId, states: ["running"] });
  const admitted = await admitRuns(input, running);
  let changes = admitted.length;
  // Not countActive: it also counts the DAG's queued runs, all 8,760 of a year's backfill.
  const activeTasks = await metadata.countTaskInstances({ dagId: row.dagId, states: ["queued", "running"] });
  const taskSlots = { left: Math.max(0, row.maxActiveTasks - activeTasks) };
  const look = input.onlyRuns === undefined ? running : running.filter((run) => input.onlyRuns!.has(run.id));
  const runs = [...look, ...admitted];
  const tisByRun = await taskInstancesOf(metadata, runs);

  // Plan each run, in order (the DAG's task slots go to the oldest runs first).
  const plans: RunPlan[] = [];
  for (const run of runs) {
    const plan = await planRun(input, run, taskSlots, tisByRun.get(run.id) ?? []);
    // Null: the run timed out, and markRun failed it and settled its task instances.
    if (plan === null) changes += 1;
    else plans.push(plan);
  }
  changes += await applyMoves(input, plans);
  changes += await endRuns(input, plans);
  return changes;
}

/** The task instances of `runs`, by run, in one query per maxListedRuns runs. */
async function taskInstancesOf(
  metadata: MetadataStore,
  runs: readonly DagRun[],
): Promise<Map<number, TaskInstance[]>> {
  const byRun = new Map<number, TaskInstance[]>(runs.map((run) => [run.id, []]));
  for (let at = 0; at < runs.length; at += maxListedRuns) {
    const dagRunIds = runs.slice(at, at + maxListedRuns).map((run) => run.id);
    for (const ti of await metadata.listTaskInstances({ dagRunIds })) byRun.get(ti.dagRunId)?.push(ti);
  }
  return byRun;
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
        runTypes: ["scheduled", "manual", "reexport"],
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

  // A compare-and-set for all of them: a candidate that changed meanwhile (cancelled) is left out.
  const admitted = await metadata.setRunStates(
    candidates.map((run) => run.id),
    { to: "running", from: ["queued"] },
    nowMs,
  );
  for (const run of admitted) input.events.emit("run:started", { run });
  return admitted;
}

/** What one tick decided for one running run. */
interface RunPlan {
  run: DagRun;
  /** Its task instances as read (then as moved). */
  tis: TaskInstance[];
  tasks: TaskPlan | null;
  /** Task instances the moves changed; a move that found some changed meanwhile sets `stale`. */
  changes: number;
  stale: boolean;
}

/**
 * Checks the run's timeout, adds task instances for tasks added to the DAG since the run was
 * created, and plans its tasks. Null when the run timed out (it is failed here).
 */
async function planRun(
  input: AdvanceInput,
  run: DagRun,
  taskSlots: { left: number },
  current: TaskInstance[],
): Promise<RunPlan | null> {
  const { metadata, events, nowMs, loaded } = input;
  const dag = loaded?.dag;
  if (
    dag?.dagrunTimeoutMs != null &&
    run.startedAt !== null &&
    nowMs - run.startedAt >= dag.dagrunTimeoutMs
  ) {
    const failed = await metadata.markRun(run.id, "failed", nowMs);
    events.emit("run:finished", { run: failed, state: "failed" });
    return null;
  }
  let tis = current;
  if (dag === undefined) return { run, tis, tasks: null, changes: 0, stale: false };
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
  return { run, tis, tasks: await planTasks(input, run, tis, taskSlots), changes: 0, stale: false };
}

const moveKinds: ReadonlyArray<{
  pick: (plan: TaskPlan) => string[];
  to: "queued" | "upstream_failed" | "skipped";
  from: TaskState[];
}> = [
  { pick: (plan) => plan.upstreamFailed, to: "upstream_failed", from: ["none", "scheduled"] },
  { pick: (plan) => plan.skipped, to: "skipped", from: ["none", "scheduled", "up_for_retry"] },
  { pick: (plan) => plan.queue, to: "queued", from: ["none", "scheduled", "up_for_retry"] },
];

/**
 * Applies the plans, one kind of move at a time for every run. Each move is a compare-and-set:
 * the task instances that moved get their new state here; a run where some did not (changed
 * meanwhile) is read again before it may end.
 */
async function applyMoves(input: AdvanceInput, plans: RunPlan[]): Promise<number> {
  const { metadata, events, nowMs } = input;
  let changes = 0;
  for (const kind of moveKinds) {
    const selections = plans.flatMap((plan) => {
      const taskIds = plan.tasks === null ? [] : kind.pick(plan.tasks);
      return taskIds.length === 0 ? [] : [{ plan, dagRunId: plan.run.id, taskIds }];
    });
    if (selections.length === 0) continue;
    const moved = await metadata.transitionTaskInstancesOfRuns(
      selections.map(({ dagRunId, taskIds }) => ({ dagRunId, taskIds })),
      { from: kind.from, to: kind.to },
      nowMs,
    );
    const movedByRun = new Map<number, Set<string>>();
    for (const key of moved) {
      const set = movedByRun.get(key.dagRunId) ?? new Set<string>();
      set.add(key.taskId);
      movedByRun.set(key.dagRunId, set);
    }
    for (const { plan, taskIds } of selections) {
      const done = movedByRun.get(plan.run.id) ?? new Set<string>();
      if (done.size < taskIds.length) plan.stale = true;
      plan.changes += done.size;
      changes += done.size;
      if (done.size > 0) {
        plan.tis = plan.tis.map((ti) => (done.has(ti.taskId) ? { ...ti, state: kind.to } : ti));
        if (kind.to === "queued") {
          events.emit("task:queued", { dagId: plan.run.dagId, dagRunId: plan.run.id, taskIds });
        }
      }
    }
  }
  return changes;
}

/** Ends the runs whose task instances have all ended: success when all succeeded or were skipped, else failed. */
async function endRuns(input: AdvanceInput, plans: RunPlan[]): Promise<number> {
  const { metadata, events, nowMs } = input;
  const ending = new Map<"success" | "failed", DagRun[]>([
    ["success", []],
    ["failed", []],
  ]);
  for (const plan of plans) {
    let tis = plan.tis;
    if (!plan.stale && !tis.every((ti) => finishedTaskStates.has(ti.state))) continue;
    // The run ends on what the database holds now, not on rows read earlier in the tick.
    if (plan.stale || plan.changes > 0) tis = await metadata.listTaskInstances({ dagRunId: plan.run.id });
    if (!tis.every((ti) => finishedTaskStates.has(ti.state))) continue;
    const state = tis.some((ti) => failedTaskStates.has(ti.state)) ? "failed" : "success";
    ending.get(state)!.push(plan.run);
  }
  let changes = 0;
  for (const [state, runs] of ending) {
    if (runs.length === 0) continue;
    // Each run was read (with its clear number) before its task instances: a clear that
    // committed after that read bumped clear_number, so the run is left for the next tick rather
    // than ended on task instances the clear has just reset.
    const finished = await metadata.setRunStates(
      runs.map((run) => run.id),
      { to: state, from: ["running"], clearNumbers: new Map(runs.map((run) => [run.id, run.clearNumber])) },
      nowMs,
    );
    for (const run of finished) events.emit("run:finished", { run, state });
    changes += finished.length;
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
