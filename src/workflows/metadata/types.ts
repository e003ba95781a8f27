/**
 * The workflow metadata database: the scheduler's and the workers' source of truth.
 *
 * Every time is epoch milliseconds (UTC). Every method that changes state takes `now` as its last
 * argument, so the scheduler's clock (real or fake) is the only clock: the store never reads the
 * wall clock.
 */

export type RunType = "scheduled" | "backfill" | "manual" | "reexport";
export type RunState = "queued" | "running" | "success" | "failed";
export type TaskState =
  | "none"
  | "scheduled"
  | "queued"
  | "running"
  | "success"
  | "failed"
  | "up_for_retry"
  | "upstream_failed"
  | "skipped";
/** The state of one try in the history (a try that will be retried is still a `failed` try). */
export type TryState = "running" | "success" | "failed" | "skipped";
export type BackfillState = "queued" | "running" | "paused" | "completed" | "cancelled" | "failed";
/** What a backfill does with an interval that already has a run. */
export type ReprocessBehavior = "none" | "failed" | "all";
export type WorkerState = "running" | "stopped" | "dead";

export const runTypes: readonly RunType[] = ["scheduled", "backfill", "manual", "reexport"];
export const runStates: readonly RunState[] = ["queued", "running", "success", "failed"];
export const taskStates: readonly TaskState[] = [
  "none",
  "scheduled",
  "queued",
  "running",
  "success",
  "failed",
  "up_for_retry",
  "upstream_failed",
  "skipped",
];
export const backfillStates: readonly BackfillState[] = [
  "queued",
  "running",
  "paused",
  "completed",
  "cancelled",
  "failed",
];
export const reprocessBehaviors: readonly ReprocessBehavior[] = ["none", "failed", "all"];

/** A DAG as the DAG-file parser sees it. */
export interface DagDefinition {
  dagId: string;
  filePath: string;
  /** A hash of the DAG file, so a run can say which code it ran. */
  codeVersion: string;
  /** A cron expression or preset; null for DAGs that only run when triggered. */
  schedule: string | null;
  timezone: string;
  startDate: number | null;
  endDate: number | null;
  catchup: boolean;
  maxActiveRuns: number;
  maxActiveTasks: number;
}

export interface DagUpsert extends DagDefinition {
  /** Whether a DAG seen for the first time starts paused (Airflow's default: true). Ignored for known DAGs. */
  pausedOnCreate?: boolean;
}

export interface Dag extends DagDefinition {
  isPaused: boolean;
  /** False once the DAG's file no longer defines it; its runs stay. */
  isActive: boolean;
  /** The end of the latest interval the scheduler created a scheduled run for; null before the first. */
  lastScheduledIntervalEnd: number | null;
  /** The latest import error of the DAG's file, if its last parse failed. */
  importError: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface ImportErrorInput {
  message: string;
  line?: number | null;
  column?: number | null;
}

export interface ImportError {
  filePath: string;
  message: string;
  line: number | null;
  column: number | null;
  at: number;
}

export interface DagRun {
  id: number;
  dagId: string;
  runId: string;
  runType: RunType;
  logicalDate: number;
  dataIntervalStart: number;
  dataIntervalEnd: number;
  /** False only for a manual run triggered without an interval (see CreateRunInput). */
  intervalExplicit: boolean;
  state: RunState;
  conf: Record<string, unknown>;
  /** The backfill that last queued this run (created it, or reprocessed it). */
  backfillId: number | null;
  /** How many times the run has been cleared. */
  clearNumber: number;
  codeVersion: string | null;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  updatedAt: number;
}

export interface Interval {
  start: number;
  end: number;
}

/** A task of a DAG, as a run's task instances need it. */
export interface TaskSpec {
  taskId: string;
  /** Extra tries after the first (Airflow's `retries`). Default 0. */
  retries?: number;
  retryDelayMs?: number;
  /** Higher is claimed first. Default 0. */
  priority?: number;
}

export interface CreateRunInput {
  dagId: string;
  runType: RunType;
  /**
   * Required for scheduled and backfill runs. A manual run may give one (then it counts for the
   * one-run-per-interval rule like any other run); without one it gets the empty interval
   * [logicalDate, logicalDate] and is exempt from that rule.
   */
  interval?: Interval;
  /** Default: the interval's start, or `now` for a manual run without an interval. */
  logicalDate?: number;
  /** Default: Airflow's `<runType>__<logicalDate>`, e.g. `scheduled__2021-09-22T13:00:00+00:00`. */
  runId?: string;
  conf?: Record<string, unknown>;
  codeVersion?: string | null;
  backfillId?: number | null;
  /** Task instances created in the same transaction (state `none`), so no run exists without them. */
  tasks?: TaskSpec[];
}

export type CreateRunResult = { created: true; run: DagRun } | { created: false; existing: DagRun };

export interface RunFilter {
  dagId?: string;
  states?: RunState[];
  runTypes?: RunType[];
  /** Runs whose data interval lies inside this range: start >= range.start and end <= range.end. */
  interval?: Interval;
  backfillId?: number;
  order?: "asc" | "desc";
  limit?: number;
}

/** What the UI's grid draws of a DAG's runs and task instances (listGrid). */
export interface GridRows {
  runs: Array<{ id: number; runId: string; runType: RunType; state: RunState; start: number; end: number }>;
  taskInstances: Array<{ dagRunId: number; taskId: string; state: TaskState }>;
}

export interface TaskInstanceKey {
  dagRunId: number;
  taskId: string;
}

/** One try of one task instance, as the worker holding it knows it. */
export interface TryRef extends TaskInstanceKey {
  tryNumber: number;
  workerId: string;
}

export interface TaskInstance extends TaskInstanceKey {
  dagId: string;
  state: TaskState;
  /** The current (or last) try; 0 before the first claim. */
  tryNumber: number;
  /** The try number after which a failure is final. */
  maxTries: number;
  retries: number;
  retryDelayMs: number;
  priority: number;
  nextRetryAt: number | null;
  queuedAt: number | null;
  startedAt: number | null;
  endedAt: number | null;
  workerId: string | null;
  heartbeatAt: number | null;
  pid: number | null;
  exitCode: number | null;
  error: string | null;
  durationMs: number | null;
  logPath: string | null;
  /** The code version the latest finished try ran; null before one finished (or when not recorded). */
  codeVersion: string | null;
  updatedAt: number;
}

export interface TaskTry extends TaskInstanceKey {
  dagId: string;
  tryNumber: number;
  state: TryState;
  workerId: string | null;
  pid: number | null;
  startedAt: number;
  endedAt: number | null;
  exitCode: number | null;
  error: string | null;
  logPath: string | null;
  /** The code version of the DAG file this try ran; null while running or when not recorded. */
  codeVersion: string | null;
}

export interface TaskInstanceFilter {
  dagRunId?: number;
  /** Task instances of any of these runs. */
  dagRunIds?: number[];
  dagId?: string;
  states?: TaskState[];
  workerId?: string;
  taskIds?: string[];
}

/** The states a scheduler may move a task instance to directly (running and outcomes come from claims and tries). */
export type SchedulerTaskState = "none" | "scheduled" | "queued" | "upstream_failed" | "skipped";

/**
 * How a try ended. `codeVersion`: the version of the DAG file the try ran (the worker's), kept on
 * the try, its task instance and its run (see finishTry).
 */
export type TryOutcome =
  | { state: "success"; exitCode?: number | null; logPath?: string | null; codeVersion?: string | null }
  | { state: "skipped"; exitCode?: number | null; logPath?: string | null; codeVersion?: string | null }
  | {
      state: "failed";
      error: string;
      exitCode?: number | null;
      logPath?: string | null;
      codeVersion?: string | null;
      /** False when retrying cannot help (the try fails for good). Default true. */
      retry?: boolean;
    };

export interface ClearSelection {
  dagId: string;
  /** Runs by id; or */
  dagRunIds?: number[];
  /** runs whose data interval lies inside this range. One of the two is required. */
  interval?: Interval;
  /** Only these tasks (default: every task). */
  taskIds?: string[];
  /** Only task instances in failed or upstream_failed. */
  onlyFailed?: boolean;
  /**
   * Tasks downstream of `taskIds`, computed by the caller from the DAG: cleared, whatever their
   * state, in every run where at least one task instance was selected by the filters above.
   */
  downstreamTaskIds?: string[];
}

export interface ClearResult {
  /** The runs that had task instances cleared (each now queued, or still running). */
  dagRunIds: number[];
  taskInstances: TaskInstanceKey[];
}

export interface ActiveCounts {
  queuedRuns: number;
  runningRuns: number;
  queuedTasks: number;
  runningTasks: number;
}

export interface Backfill {
  id: number;
  dagId: string;
  from: number;
  to: number;
  reprocess: ReprocessBehavior;
  maxActiveRuns: number;
  state: BackfillState;
  /** The number of intervals the backfill covers (created, reprocessed or skipped). */
  total: number;
  conf: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  completedAt: number | null;
}

export interface BackfillInterval extends Interval {
  logicalDate?: number;
  runId?: string;
}

export interface CreateBackfillInput {
  dagId: string;
  from: number;
  to: number;
  reprocess: ReprocessBehavior;
  maxActiveRuns: number;
  /** The schedule's intervals inside [from, to), computed by the caller's interval planner. */
  intervals: BackfillInterval[];
  /** Task instances for each new run (and missing ones of reprocessed runs). */
  tasks: TaskSpec[];
  conf?: Record<string, unknown>;
  codeVersion?: string | null;
}

export type BackfillDisposition = "created" | "reprocessed" | "skipped";

export interface BackfillIntervalResult extends Interval {
  disposition: BackfillDisposition;
  /** The run that covers the interval (the new one, the reprocessed one, or the one that made it skip). */
  dagRunId: number;
  /** Why an interval was skipped. */
  reason?: string;
}

export interface CreateBackfillResult {
  backfill: Backfill;
  results: BackfillIntervalResult[];
}

export interface BackfillProgress {
  backfillId: number;
  state: BackfillState;
  total: number;
  created: number;
  reprocessed: number;
  skipped: number;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  /** Skipped intervals plus runs in a terminal state: the backfill is finished when done == total. */
  done: number;
}

export interface Worker {
  id: string;
  pid: number;
  host: string;
  state: WorkerState;
  startedAt: number;
  heartbeatAt: number;
  stoppedAt: number | null;
}

export interface WorkerRegistration {
  workerId: string;
  pid: number;
  host: string;
}

export interface HeartbeatResult {
  /** The tries the database says this worker holds: a worker must stop any try not listed here. */
  running: TryRef[];
}

export type MetadataDialect = "sqlite" | "postgres";

export interface MetadataStore {
  readonly dialect: MetadataDialect;

  /**
   * Runs `work` as one transaction: everything it does through the store it is given commits
   * together (one commit: on SQLite one fsync instead of one per call) or not at all. Reads see
   * the transaction's own writes. A call that fails inside fails the whole transaction, even if
   * `work` catches the error. While it runs it holds the write lock (SQLite) or the rows it changed
   * (PostgreSQL): `work` must use only the store it is given (on SQLite the outer store would wait
   * for this very transaction) and must not wait for anything but the database. On PostgreSQL a
   * transaction that loses a deadlock (or a serialization conflict) is rolled back and `work` runs
   * again (after a short pause), up to five times in all: it must start its own bookkeeping afresh on each call.
   */
  transaction<T>(work: (store: MetadataStore) => Promise<T>): Promise<T>;

  // --- DAGs -------------------------------------------------------------------------------

  /** Inserts or updates a DAG's definition. Keeps is_paused and the schedule bookkeeping of a known DAG; marks it active and clears its import error. */
  upsertDag(dag: DagUpsert, now: number): Promise<Dag>;
  getDag(dagId: string): Promise<Dag | null>;
  listDags(filter?: { activeOnly?: boolean; paused?: boolean }): Promise<Dag[]>;
  /** Pauses or unpauses a DAG. NotFound if unknown. */
  setPaused(dagId: string, paused: boolean, now: number): Promise<Dag>;
  /**
   * Moves the DAG's last scheduled interval end from `expectedEnd` to `newEnd` (compare-and-set):
   * false if another scheduler moved it first. It never moves backwards.
   */
  advanceSchedule(dagId: string, expectedEnd: number | null, newEnd: number, now: number): Promise<boolean>;
  /** Marks inactive every active DAG not in `presentDagIds` (their files are gone); returns their ids. */
  deactivateMissingDags(presentDagIds: string[], now: number): Promise<string[]>;
  /** Replaces the import errors of one file (an empty list clears them) and sets/clears its DAGs' importError. */
  recordImportErrors(filePath: string, errors: ImportErrorInput[], now: number): Promise<void>;
  listImportErrors(): Promise<ImportError[]>;

  // --- runs -------------------------------------------------------------------------------

  /**
   * Creates a queued run (and its task instances) unless the DAG already has a run with the same
   * run id or, for runs with an explicit interval, the same data interval: then returns the
   * existing one and creates nothing. Safe under concurrent callers.
   */
  createRun(input: CreateRunInput, now: number): Promise<CreateRunResult>;
  getRun(dagRunId: number): Promise<DagRun | null>;
  getRunByRunId(dagId: string, runId: string): Promise<DagRun | null>;
  /** Runs ordered by logical date (then id). */
  listRuns(filter?: RunFilter): Promise<DagRun[]>;
  /** A DAG's runs (in logical-date order) and task instance states, only what the UI's grid draws. */
  listGrid(filter: { dagId: string; interval?: Interval }): Promise<GridRows>;
  /**
   * Moves a run to `to` if its state is one of `from` (any state if omitted); returns the run, or
   * null if its state did not match. Sets startedAt on the first move to running and endedAt on
   * terminal states.
   */
  setRunState(
    dagRunId: number,
    change: { to: RunState; from?: RunState[] },
    now: number,
  ): Promise<DagRun | null>;
  /**
   * setRunState for several runs at once (one statement per 500): returns the runs that moved, in
   * the order of `dagRunIds`; a run not in `from` (or unknown) is left out. With `clearNumbers`
   * (run id to the clear number the caller read, one for each run) a run cleared since that read
   * is left out too: the scheduler ends a run only on task instances read after its last clear.
   */
  setRunStates(
    dagRunIds: number[],
    change: { to: RunState; from?: RunState[]; clearNumbers?: ReadonlyMap<number, number> },
    now: number,
  ): Promise<DagRun[]>;
  /**
   * A user's "mark success/failed": sets the run's final state and settles its task instances
   * (success: every unfinished one succeeds; failed: queued/running ones fail, unstarted ones are skipped),
   * closing running tries so a late finishTry from their worker is ignored.
   */
  markRun(dagRunId: number, state: "success" | "failed", now: number): Promise<DagRun>;
  /** Queued/running runs and task instances, for max_active_runs and max_active_tasks. */
  countActive(filter?: { dagId?: string; backfillId?: number }): Promise<ActiveCounts>;

  // --- task instances ---------------------------------------------------------------------

  /** Adds task instances (state none) for tasks the run does not have yet; returns how many were added. */
  createTaskInstances(dagRunId: number, tasks: TaskSpec[], now: number): Promise<number>;
  getTaskInstance(key: TaskInstanceKey): Promise<TaskInstance | null>;
  listTaskInstances(filter?: TaskInstanceFilter): Promise<TaskInstance[]>;
  /** How many task instances listTaskInstances(filter) would return, without reading them. */
  countTaskInstances(filter?: TaskInstanceFilter): Promise<number>;
  /**
   * Moves the run's listed task instances that are in one of `from` to `to`; returns how many moved.
   * A task instance in up_for_retry is queued only once its nextRetryAt has passed.
   */
  transitionTaskInstances(
    dagRunId: number,
    taskIds: string[],
    change: { from: TaskState[]; to: SchedulerTaskState },
    now: number,
  ): Promise<number>;
  /**
   * transitionTaskInstances for several runs at once: each selection's task instances that are
   * in one of `from` move to `to` (the same rules); returns the ones that moved.
   */
  transitionTaskInstancesOfRuns(
    selections: Array<{ dagRunId: number; taskIds: string[] }>,
    change: { from: TaskState[]; to: SchedulerTaskState },
    now: number,
  ): Promise<TaskInstanceKey[]>;
  /**
   * Atomically moves up to `limit` queued task instances (highest priority, then longest queued)
   * to running for `workerId`, starting their next try: no task instance is ever handed to two
   * claimers.
   */
  claimTaskInstances(workerId: string, limit: number, now: number): Promise<TaskInstance[]>;
  /** Records the process running a try (pid, log path); false if the try is no longer current. */
  recordTaskProcess(
    attempt: TryRef,
    info: { pid?: number | null; logPath?: string | null },
    now: number,
  ): Promise<boolean>;
  /**
   * Ends the try `attempt` if it is still the current running try of that worker: success, skipped,
   * or failed (then up_for_retry with nextRetryAt = now + retryDelayMs while tries remain). Returns
   * the task instance, or null if the try was cleared, marked or reclaimed meanwhile (nothing changes).
   */
  finishTry(attempt: TryRef, outcome: TryOutcome, now: number): Promise<TaskInstance | null>;
  /** Running task instances whose heartbeat is older than `heartbeatBefore`: their worker died. */
  findOrphans(heartbeatBefore: number): Promise<TaskInstance[]>;
  /**
   * Resets the selected task instances to `none` so the scheduler runs them again as a new try,
   * each with a fresh allowance of retries; earlier tries stay in the history (a running try is
   * closed as failed). Their runs go back to queued (or stay running).
   */
  clearTaskInstances(selection: ClearSelection, now: number): Promise<ClearResult>;
  /** Every try of a task instance, oldest first. */
  listTaskTries(key: TaskInstanceKey): Promise<TaskTry[]>;

  // --- workers ----------------------------------------------------------------------------

  /** Registers (or re-registers) a worker as running. */
  registerWorker(worker: WorkerRegistration, now: number): Promise<Worker>;
  /** Records that the worker and its running tries are alive; returns the tries it still holds. NotFound if unregistered. */
  heartbeat(workerId: string, now: number): Promise<HeartbeatResult>;
  stopWorker(workerId: string, now: number): Promise<void>;
  /** Marks dead the running workers whose heartbeat is older than `heartbeatBefore`; returns their ids. */
  markDeadWorkers(heartbeatBefore: number, now: number): Promise<string[]>;
  listWorkers(): Promise<Worker[]>;

  // --- backfills --------------------------------------------------------------------------

  /**
   * Creates a queued backfill and, in the same transaction, one run per interval (or reuses the
   * existing run per `reprocess`). Conflict if the DAG already has a queued, running or paused backfill.
   */
  createBackfill(input: CreateBackfillInput, now: number): Promise<CreateBackfillResult>;
  getBackfill(backfillId: number): Promise<Backfill | null>;
  listBackfills(filter?: { dagId?: string; states?: BackfillState[] }): Promise<Backfill[]>;
  /** Compare-and-set of a backfill's state (null if it was not in `from`); terminal states set completedAt. */
  setBackfillState(
    backfillId: number,
    change: { to: BackfillState; from?: BackfillState[] },
    now: number,
  ): Promise<Backfill | null>;
  /** Cancels an unfinished backfill: its runs that never started fail (their task instances are skipped). */
  cancelBackfill(backfillId: number, now: number): Promise<Backfill>;
  getBackfillProgress(backfillId: number): Promise<BackfillProgress>;

  close(): Promise<void>;
}

export interface OpenMetadataOptions {
  /** `sqlite:/abs/path/metadata.db` or `postgres://user@host:port/db`. */
  url: string;
  /** PostgreSQL only: the schema holding the tables (created if missing). Default `public`. */
  schema?: string;
}
