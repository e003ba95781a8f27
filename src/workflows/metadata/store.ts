/**
 * The MetadataStore over either database: each method validates, runs the part's query code and
 * turns any database failure into a HourglassError.
 */
import { HourglassError } from "../../errors.js";
import * as backfills from "./backfills.js";
import { claimTaskInstances } from "./claims.js";
import { clearTaskInstances } from "./clear.js";
import * as dags from "./dags.js";
import type { MetadataDatabase, Queries } from "./database.js";
import { guarded } from "./database-errors.js";
import { listGrid } from "./grid.js";
import * as runs from "./runs.js";
import * as taskInstances from "./task-instances.js";
import type {
  ActiveCounts,
  Backfill,
  BackfillProgress,
  BackfillState,
  ClearResult,
  ClearSelection,
  CreateBackfillInput,
  CreateBackfillResult,
  CreateRunInput,
  CreateRunResult,
  Dag,
  DagRun,
  DagUpsert,
  GridRows,
  HeartbeatResult,
  ImportError,
  ImportErrorInput,
  Interval,
  MetadataDialect,
  MetadataStore,
  RunFilter,
  RunState,
  SchedulerTaskState,
  TaskInstance,
  TaskInstanceFilter,
  TaskInstanceKey,
  TaskSpec,
  TaskState,
  TaskTry,
  TryOutcome,
  TryRef,
  Worker,
  WorkerRegistration,
} from "./types.js";
import * as workers from "./workers.js";

export class SqlMetadataStore implements MetadataStore {
  readonly dialect: MetadataDialect;
  readonly #database: MetadataDatabase;
  /** True for the store a transaction() hands to its work: its writes join that transaction. */
  readonly #inTransaction: boolean;

  constructor(database: MetadataDatabase, inTransaction = false) {
    this.#database = database;
    this.dialect = database.dialect;
    this.#inTransaction = inTransaction;
  }

  transaction<T>(work: (store: MetadataStore) => Promise<T>): Promise<T> {
    // A transaction inside a transaction is the same transaction.
    if (this.#inTransaction) return work(this);
    return guarded(() =>
      this.#database.write(async (trx) => {
        const scope = new TransactionScope(this.#database.dialect, trx);
        try {
          const result = await work(new SqlMetadataStore(scope.database, true));
          // A call that failed may have written part of its change: nothing of the work commits.
          if (scope.failure !== undefined) throw scope.failure;
          return result;
        } finally {
          scope.ended = true;
        }
      }),
    );
  }

  upsertDag(dag: DagUpsert, now: number): Promise<Dag> {
    return guarded(() => dags.upsertDag(this.#database, dag, now));
  }
  getDag(dagId: string): Promise<Dag | null> {
    return guarded(() => dags.getDag(this.#database, dagId));
  }
  listDags(filter?: { activeOnly?: boolean; paused?: boolean }): Promise<Dag[]> {
    return guarded(() => dags.listDags(this.#database, filter));
  }
  setPaused(dagId: string, paused: boolean, now: number): Promise<Dag> {
    return guarded(() => dags.setPaused(this.#database, dagId, paused, now));
  }
  advanceSchedule(dagId: string, expectedEnd: number | null, newEnd: number, now: number): Promise<boolean> {
    return guarded(() => dags.advanceSchedule(this.#database, dagId, expectedEnd, newEnd, now));
  }
  deactivateMissingDags(presentDagIds: string[], now: number): Promise<string[]> {
    return guarded(() => dags.deactivateMissingDags(this.#database, presentDagIds, now));
  }
  recordImportErrors(filePath: string, errors: ImportErrorInput[], now: number): Promise<void> {
    return guarded(() => dags.recordImportErrors(this.#database, filePath, errors, now));
  }
  listImportErrors(): Promise<ImportError[]> {
    return guarded(() => dags.listImportErrors(this.#database));
  }

  createRun(input: CreateRunInput, now: number): Promise<CreateRunResult> {
    return guarded(() => runs.createRun(this.#database, input, now));
  }
  getRun(dagRunId: number): Promise<DagRun | null> {
    return guarded(() => runs.getRun(this.#database, dagRunId));
  }
  getRunByRunId(dagId: string, runId: string): Promise<DagRun | null> {
    return guarded(() => runs.getRunByRunId(this.#database, dagId, runId));
  }
  listRuns(filter?: RunFilter): Promise<DagRun[]> {
    return guarded(() => runs.listRuns(this.#database, filter));
  }
  listGrid(filter: { dagId: string; interval?: Interval }): Promise<GridRows> {
    return guarded(() => listGrid(this.#database, filter));
  }
  setRunState(
    dagRunId: number,
    change: { to: RunState; from?: RunState[] },
    now: number,
  ): Promise<DagRun | null> {
    return guarded(() => runs.setRunState(this.#database, dagRunId, change, now));
  }
  setRunStates(
    dagRunIds: number[],
    change: { to: RunState; from?: RunState[]; clearNumbers?: ReadonlyMap<number, number> },
    now: number,
  ): Promise<DagRun[]> {
    return guarded(() => runs.setRunStates(this.#database, dagRunIds, change, now));
  }
  markRun(dagRunId: number, state: "success" | "failed", now: number): Promise<DagRun> {
    return guarded(() => runs.markRun(this.#database, dagRunId, state, now));
  }
  countActive(filter?: { dagId?: string; backfillId?: number }): Promise<ActiveCounts> {
    return guarded(() => runs.countActive(this.#database, filter));
  }

  createTaskInstances(dagRunId: number, tasks: TaskSpec[], now: number): Promise<number> {
    return guarded(() => taskInstances.createTaskInstances(this.#database, dagRunId, tasks, now));
  }
  getTaskInstance(key: TaskInstanceKey): Promise<TaskInstance | null> {
    return guarded(() => taskInstances.getTaskInstance(this.#database, key));
  }
  listTaskInstances(filter?: TaskInstanceFilter): Promise<TaskInstance[]> {
    return guarded(() => taskInstances.listTaskInstances(this.#database, filter));
  }
  countTaskInstances(filter?: TaskInstanceFilter): Promise<number> {
    return guarded(() => taskInstances.countTaskInstances(this.#database, filter));
  }
  transitionTaskInstances(
    dagRunId: number,
    taskIds: string[],
    change: { from: TaskState[]; to: SchedulerTaskState },
    now: number,
  ): Promise<number> {
    return guarded(() =>
      taskInstances.transitionTaskInstances(this.#database, dagRunId, taskIds, change, now),
    );
  }
  transitionTaskInstancesOfRuns(
    selections: Array<{ dagRunId: number; taskIds: string[] }>,
    change: { from: TaskState[]; to: SchedulerTaskState },
    now: number,
  ): Promise<TaskInstanceKey[]> {
    return guarded(() =>
      taskInstances.transitionTaskInstancesOfRuns(this.#database, selections, change, now),
    );
  }
  claimTaskInstances(workerId: string, limit: number, now: number): Promise<TaskInstance[]> {
    return guarded(() => claimTaskInstances(this.#database, workerId, limit, now));
  }
  recordTaskProcess(
    attempt: TryRef,
    info: { pid?: number | null; logPath?: string | null },
    now: number,
  ): Promise<boolean> {
    return guarded(() => taskInstances.recordTaskProcess(this.#database, attempt, info, now));
  }
  finishTry(attempt: TryRef, outcome: TryOutcome, now: number): Promise<TaskInstance | null> {
    return guarded(() => taskInstances.finishTry(this.#database, attempt, outcome, now));
  }
  findOrphans(heartbeatBefore: number): Promise<TaskInstance[]> {
    return guarded(() => taskInstances.findOrphans(this.#database, heartbeatBefore));
  }
  clearTaskInstances(selection: ClearSelection, now: number): Promise<ClearResult> {
    return guarded(() => clearTaskInstances(this.#database, selection, now));
  }
  listTaskTries(key: TaskInstanceKey): Promise<TaskTry[]> {
    return guarded(() => taskInstances.listTaskTries(this.#database, key));
  }

  registerWorker(worker: WorkerRegistration, now: number): Promise<Worker> {
    return guarded(() => workers.registerWorker(this.#database, worker, now));
  }
  heartbeat(workerId: string, now: number): Promise<HeartbeatResult> {
    return guarded(() => workers.heartbeat(this.#database, workerId, now));
  }
  stopWorker(workerId: string, now: number): Promise<void> {
    return guarded(() => workers.stopWorker(this.#database, workerId, now));
  }
  markDeadWorkers(heartbeatBefore: number, now: number): Promise<string[]> {
    return guarded(() => workers.markDeadWorkers(this.#database, heartbeatBefore, now));
  }
  listWorkers(): Promise<Worker[]> {
    return guarded(() => workers.listWorkers(this.#database));
  }

  createBackfill(input: CreateBackfillInput, now: number): Promise<CreateBackfillResult> {
    return guarded(() => backfills.createBackfill(this.#database, input, now));
  }
  getBackfill(backfillId: number): Promise<Backfill | null> {
    return guarded(() => backfills.getBackfill(this.#database, backfillId));
  }
  listBackfills(filter?: { dagId?: string; states?: BackfillState[] }): Promise<Backfill[]> {
    return guarded(() => backfills.listBackfills(this.#database, filter));
  }
  setBackfillState(
    backfillId: number,
    change: { to: BackfillState; from?: BackfillState[] },
    now: number,
  ): Promise<Backfill | null> {
    return guarded(() => backfills.setBackfillState(this.#database, backfillId, change, now));
  }
  cancelBackfill(backfillId: number, now: number): Promise<Backfill> {
    return guarded(() => backfills.cancelBackfill(this.#database, backfillId, now));
  }
  getBackfillProgress(backfillId: number): Promise<BackfillProgress> {
    return guarded(() => backfills.getBackfillProgress(this.#database, backfillId));
  }

  close(): Promise<void> {
    return guarded(() => this.#database.close());
  }
}

/**
 * The database a transaction's store works on: every read and write goes through the one open
 * transaction. The first call that fails marks the transaction failed (see transaction()).
 */
class TransactionScope {
  failure: unknown = undefined;
  ended = false;
  readonly database: MetadataDatabase;

  constructor(dialect: MetadataDialect, trx: Queries) {
    const scope = this;
    const check = () => {
      if (scope.ended) {
        throw new HourglassError("Internal", "a transaction's store was used after its transaction ended");
      }
    };
    this.database = {
      dialect,
      get db() {
        check();
        return trx;
      },
      async write<T>(work: (queries: Queries) => Promise<T>): Promise<T> {
        check();
        try {
          return await work(trx);
        } catch (error) {
          scope.failure ??= error;
          throw error;
        }
      },
      close: () => Promise.reject(new HourglassError("Internal", "a transaction's store cannot be closed")),
    };
  }
}
