/**
 * The worker pool: N long-lived worker processes (`child_process.fork` of worker-entry, from dist/
 * or, when the server runs the sources, through tsx: src/own-code.ts), each registered in the metadata DB as a worker. For each idle worker the pool claims
 * a queued task instance (claimTaskInstances: exclusive, SKIP LOCKED on PostgreSQL), sends it to
 * the process, and records the outcome with finishTry. Outcomes and claims go through one write
 * loop (see #startPasses): the ends reported since the last pass and the claims for every idle
 * worker commit together. It heartbeats for its live workers; a try the DB no longer gives to a
 * worker (cleared, marked, its run timed out) is stopped.
 *
 * - Execution timeout: the task's signal is aborted; if the task ignores it, the worker process is
 *   killed after `killGraceMs` and replaced, and the try fails (then the retry rules apply).
 * - A worker process that dies (killed, out of memory) is replaced at once; its try is left to the
 *   scheduler, which notices the lost heartbeat (orphans.ts) and runs it again.
 * - stop(): no new claims; running tries get `graceMs` to finish; the rest are cleared, so they
 *   run again after a restart without using up a retry; then the processes exit.
 *
 * A task's stdout and stderr go to its try's log file; what the pool and its worker processes
 * themselves have to say (a worker that died, a task that failed) goes to the process log.
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import os from "node:os";
import { isHourglassError } from "../../errors.js";
import { type Log, type LogLevel, relayLogLine, silentLog } from "../../log/index.js";
import { ownCodeExecArgv } from "../../own-code.js";
import { secondsText } from "../dag-processor.js";
import { defaultImportTimeoutMs, type LoadedDag } from "../loader.js";
import type { DagRun, MetadataStore, TaskInstance, TryOutcome, TryRef } from "../metadata/index.js";
import { DeferredEvents, taskEventOf, type WorkflowEvents } from "./events.js";
import {
  type JobOutcome,
  type PoolMessage,
  type TaskJob,
  WORKER_LOG_LEVEL_ENV,
  type WorkerMessage,
} from "./messages.js";
import { appendLog, taskLogPath } from "./task-logs.js";

export interface WorkerPoolOptions {
  metadata: MetadataStore;
  events: WorkflowEvents;
  clockMs?: () => number;
  /** Worker processes (config.workers). */
  size: number;
  /** The server the workers reach the store and the export path through. */
  serverUrl: string;
  /**
   * The worker process's module (the runtime's worker-entry, from the same copy as this process:
   * own-code.ts ownEntry). Given by the runtime, which builds the workers' task services.
   */
  workerEntry: URL;
  /** `<stateDir>/logs`. */
  logsDir: string;
  /** The DAG a task instance belongs to (the scheduler's DAG bag): its file and timeouts. */
  findDag: (dagId: string) => LoadedDag | undefined;
  /** Every loaded DAG: a new worker loads their files while idle (optional). */
  allDags?: () => LoadedDag[];
  /** Real time between heartbeats (default 2 s); keep it well below the scheduler's heartbeat timeout. */
  heartbeatIntervalMs?: number;
  /** How long start() waits for the workers to load the DAG files (default 15 s). */
  preloadWaitMs?: number;
  /** Real time between looks for queued work when nothing wakes the pool (default 1 s). */
  pollIntervalMs?: number;
  /** How long a stopped task may take to end before its worker process is killed (default 3 s). */
  killGraceMs?: number;
  /** Set in the worker processes' environment, over the server's own (the tasks' `hourglass` command). */
  env?: Record<string, string>;
  /**
   * How long a worker may take to import a task's DAG file (and to preload the DAG files) before
   * it is killed and replaced, the task failing with the reason (default 30 s, as the DAG processor).
   */
  importTimeoutMs?: number;
  /** The process log (default: nothing logged); worker processes log into it over IPC. */
  log?: Log;
  /** The level worker processes log at (default info). */
  logLevel?: LogLevel;
}

interface ActiveJob {
  job: TaskJob;
  ti: TaskInstance;
  /** Why the pool is stopping this try (timeout, revoked, shutdown), or null. */
  stopReason: string | null;
  /** The pool killed the process for it and recorded the outcome already. */
  settled: boolean;
  /** The task's execution timeout; its timer starts when the worker says the task began. */
  timeoutMs: number | null;
  timeout?: NodeJS.Timeout;
  killTimer?: NodeJS.Timeout;
  /** Runs from the job's hand-over until the worker says the task began (its DAG file is loaded). */
  importTimer?: NodeJS.Timeout;
  done: Promise<void>;
  resolveDone: () => void;
}

/** What finishTry records for a worker's report (a failure always with a message). */
function tryOutcomeOf(job: TaskJob, outcome: JobOutcome): TryOutcome {
  const codeVersion = outcome.codeVersion;
  return outcome.state === "success"
    ? { state: "success", logPath: job.logPath, codeVersion }
    : {
        state: "failed",
        error: outcome.error || "the task failed without a message",
        logPath: job.logPath,
        codeVersion,
      };
}

/**
 * After the I/O callbacks that are ready: better-sqlite3 commits synchronously, and the workers'
 * messages that arrived meanwhile are only read once the event loop turns.
 */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A try's end that could not be recorded. */
class RecordFailure {
  constructor(readonly error: unknown) {}
}

/** A try a worker reported ended, waiting for the write loop to record it. */
interface EndedJob {
  slot: Slot;
  active: ActiveJob;
  outcome: JobOutcome;
}

interface Slot {
  index: number;
  workerId: string;
  child: ChildProcess;
  pid: number | null;
  ready: boolean;
  exited: boolean;
  exitedPromise: Promise<void>;
  job: ActiveJob | null;
  /** Between a claim and its job starting: the DB already gives the try to this worker. */
  claiming: boolean;
  /** Lines of output not yet ended by a newline. */
  pending: { stdout: string; stderr: string };
}

export const defaultHeartbeatIntervalMs = 2000;
export const defaultPollIntervalMs = 1000;
export const defaultKillGraceMs = 3000;
export const defaultStopGraceMs = 30_000;

export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #clockMs: () => number;
  readonly #log: Log;
  readonly #slots: Array<Slot | null> = [];
  readonly #host = os.hostname();
  readonly #started: Array<Promise<void>> = [];
  /** One a worker spawned: resolved when its DAG files are loaded, or when it exits. */
  readonly #preloaded: Array<Promise<void>> = [];
  #stopping = false;
  #stopped: Promise<void> | null = null;
  /** A pass is due at the next turn of the event loop. */
  #passDue = false;
  /** Passes of the write loop under way (several at once only on PostgreSQL; see #startPasses). */
  readonly #passes = new Set<Promise<void>>();
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #offQueued: (() => void) | null = null;
  #crashes = 0;
  /** Slots whose worker did not finish preloading the DAG files in time: their next worker skips it. */
  readonly #skipPreload = new Set<number>();
  /** Tries ended and not yet recorded, oldest first. */
  readonly #ended: EndedJob[] = [];

  constructor(options: WorkerPoolOptions) {
    if (!Number.isSafeInteger(options.size) || options.size < 1) {
      throw new RangeError(`a worker pool needs at least one worker, got ${String(options.size)}`);
    }
    this.#options = options;
    this.#clockMs = options.clockMs ?? Date.now;
    this.#log = options.log ?? silentLog;
  }

  get size(): number {
    return this.#options.size;
  }

  /** The worker ids and process ids of the live workers. */
  workers(): Array<{ workerId: string; pid: number | null; busy: boolean }> {
    return this.#slots
      .filter((slot): slot is Slot => slot !== null && !slot.exited)
      .map((slot) => ({ workerId: slot.workerId, pid: slot.pid, busy: slot.job !== null }));
  }

  /**
   * Starts the worker processes; resolves once each has registered and has loaded the DAG files
   * (or after `preloadWaitMs`, 15 s by default, if loading takes longer): a DAG unpaused right
   * after start-up then does not wait for its first task's worker to compile its file.
   */
  async start(): Promise<void> {
    for (let index = 0; index < this.#options.size; index += 1) this.#started.push(this.#spawn(index));
    await Promise.all(this.#started);
    let giveUp: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.#preloaded),
      new Promise<void>((resolve) => {
        giveUp = setTimeout(resolve, this.#options.preloadWaitMs ?? 15_000);
      }),
    ]);
    clearTimeout(giveUp);
    this.#offQueued = this.#options.events.on("task:queued", () => this.wake());
    const heartbeatMs = this.#options.heartbeatIntervalMs ?? defaultHeartbeatIntervalMs;
    this.#heartbeatTimer = setInterval(() => void this.#heartbeat(), heartbeatMs);
    this.#heartbeatTimer.unref();
    const pollMs = this.#options.pollIntervalMs ?? defaultPollIntervalMs;
    this.#pollTimer = setInterval(() => this.wake(), pollMs);
    this.#pollTimer.unref();
    this.wake();
  }

  /**
   * Records ended tries and looks for queued work (while stopping: only records), at the next turn
   * of the event loop: the workers' reports that are already in by then go into one pass.
   */
  wake(): void {
    if (this.#passDue) return;
    this.#passDue = true;
    setImmediate(() => {
      this.#passDue = false;
      this.#startPasses();
    });
  }

  /**
   * Stops taking work, gives running tries `graceMs` to finish, clears the rest (they run again
   * after a restart), and ends the worker processes. Idempotent.
   */
  stop(graceMs = defaultStopGraceMs): Promise<void> {
    this.#stopped ??= this.#stop(graceMs);
    return this.#stopped;
  }

  async #stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    this.#offQueued?.();
    clearInterval(this.#pollTimer);
    await this.#settled();
    await Promise.allSettled(this.#started);
    const busy = this.#liveSlots().filter((slot) => slot.job !== null);
    let graceTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(busy.map((slot) => slot.job?.done)),
      new Promise<void>((resolve) => {
        graceTimer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(graceTimer);
    clearInterval(this.#heartbeatTimer);
    const { metadata, events } = this.#options;
    for (const slot of this.#liveSlots()) {
      const active = slot.job;
      if (active === null || active.settled) continue;
      active.stopReason = "the server stopped before the task finished";
      active.settled = true;
      appendLog(
        active.job.logPath,
        "worker",
        "WARNING",
        `${active.stopReason}: it will run again as a new try`,
      );
      try {
        await metadata.clearTaskInstances(
          { dagId: active.job.dagId, dagRunIds: [active.job.attempt.dagRunId], taskIds: [active.job.taskId] },
          this.#clockMs(),
        );
      } catch (error) {
        events.emit("error", { where: "clearing an interrupted task on stop", error });
      }
      active.resolveDone();
    }
    await Promise.all(this.#liveSlots().map((slot) => this.#endProcess(slot)));
    for (const slot of this.#slots) {
      if (slot === null) continue;
      await metadata.stopWorker(slot.workerId, this.#clockMs()).catch(() => undefined);
    }
  }

  #liveSlots(): Slot[] {
    return this.#slots.filter((slot): slot is Slot => slot !== null && !slot.exited);
  }

  async #endProcess(slot: Slot): Promise<void> {
    if (slot.exited) return;
    if (slot.child.connected) slot.child.disconnect();
    const killTimer = setTimeout(
      () => slot.child.kill("SIGKILL"),
      this.#options.killGraceMs ?? defaultKillGraceMs,
    );
    await slot.exitedPromise;
    clearTimeout(killTimer);
  }

  #spawn(index: number): Promise<void> {
    const workerId = `${this.#host}:${process.pid}:w${index}:${randomBytes(3).toString("hex")}`;
    const child = fork(this.#options.workerEntry, [this.#options.serverUrl], {
      execArgv: ownCodeExecArgv(),
      env: { ...process.env, ...this.#options.env, [WORKER_LOG_LEVEL_ENV]: this.#options.logLevel ?? "info" },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "json",
    });
    let markExited!: () => void;
    const slot: Slot = {
      index,
      workerId,
      child,
      pid: child.pid ?? null,
      ready: false,
      exited: false,
      exitedPromise: new Promise((resolve) => {
        markExited = resolve;
      }),
      job: null,
      claiming: false,
      pending: { stdout: "", stderr: "" },
    };
    this.#slots[index] = slot;
    child.stdout?.on("data", (chunk: Buffer) => this.#output(slot, "stdout", chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => this.#output(slot, "stderr", chunk.toString()));
    let preloaded!: () => void;
    const preloadDone = new Promise<void>((resolve) => {
      preloaded = resolve;
    });
    this.#preloaded.push(preloadDone);
    const ready = new Promise<void>((resolve) => {
      child.on("message", (message: WorkerMessage) => {
        if (message.type === "preloaded") {
          preloaded();
        } else if (message.type === "ready") {
          void this.#options.metadata
            .registerWorker({ workerId, pid: message.pid, host: this.#host }, this.#clockMs())
            .then(
              () => {
                slot.ready = true;
                this.#crashes = 0;
                const dags = this.#skipPreload.has(index) ? [] : (this.#options.allDags?.() ?? []);
                if (dags.length > 0 && child.connected) {
                  const preload: PoolMessage = {
                    type: "preload",
                    dags: dags.map((loaded) => ({ file: loaded.file, dagId: loaded.dag.id })),
                  };
                  child.send(preload);
                  this.#watchPreload(slot, preloadDone);
                } else {
                  preloaded();
                }
                resolve();
                this.wake();
              },
              (error: unknown) => {
                this.#options.events.emit("error", { where: `registering worker ${workerId}`, error });
                child.kill("SIGKILL");
              },
            );
        } else if (message.type === "started") {
          this.#taskBegan(slot, message.attempt);
        } else if (message.type === "finished") {
          this.#finished(slot, message.attempt, message.outcome);
        } else if (message.type === "log") {
          relayLogLine(this.#log.child({ workerId }), message.line);
        }
      });
      child.on("exit", (code, signal) => {
        preloaded();
        slot.exited = true;
        markExited();
        resolve();
        this.#exited(slot, code, signal);
      });
    });
    child.on("error", (error) => this.#options.events.emit("error", { where: `worker ${workerId}`, error }));
    return ready;
  }

  get #importTimeoutMs(): number {
    return this.#options.importTimeoutMs ?? defaultImportTimeoutMs;
  }

  /**
   * A DAG file that loops at import wedges the worker that preloads it: past the import limit the
   * worker is killed, and the one that replaces it loads DAG files only as its tasks need them.
   */
  #watchPreload(slot: Slot, done: Promise<void>): void {
    const limitMs = this.#importTimeoutMs;
    const timer = setTimeout(() => {
      if (slot.exited || this.#stopping) return;
      this.#skipPreload.add(slot.index);
      this.#log.warn(
        { workerId: slot.workerId, pid: slot.pid },
        `loading the DAG files timed out after ${secondsText(limitMs)}: the worker is replaced by one that loads them as its tasks need them`,
      );
      slot.child.kill("SIGKILL");
    }, limitMs);
    timer.unref();
    void done.then(() => clearTimeout(timer));
  }

  /** The worker did not begin the task within the import limit: its DAG file hangs at import. */
  #importTimedOut(slot: Slot, active: ActiveJob): void {
    if (active.settled || slot.job !== active) return;
    active.settled = true;
    clearTimeout(active.killTimer);
    const reason = `timed out after ${secondsText(this.#importTimeoutMs)} while importing the DAG file ${active.job.dagFile} (the limit is dagImportTimeoutMs)`;
    active.stopReason = reason;
    appendLog(
      active.job.logPath,
      "worker",
      "ERROR",
      `${reason}: killing worker process ${slot.pid} (a new one replaces it)`,
    );
    slot.child.kill("SIGKILL");
    void this.#record(active, { state: "failed", error: reason, exports: [], codeVersion: null }).finally(
      () => active.resolveDone(),
    );
  }

  #output(slot: Slot, stream: "stdout" | "stderr", text: string): void {
    const lines = (slot.pending[stream] + text).split("\n");
    slot.pending[stream] = lines.pop() ?? "";
    for (const line of lines) {
      if (slot.job !== null) {
        appendLog(slot.job.job.logPath, slot.job.job.taskId, stream === "stderr" ? "WARNING" : "INFO", line);
      } else if (line.trim() !== "") {
        // Output between tasks (a DAG file printing while preloaded, a crash report).
        this.#log[stream === "stderr" ? "warn" : "info"]({ workerId: slot.workerId, stream }, line);
      }
    }
  }

  #exited(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    const active = slot.job;
    if (!this.#stopping) {
      this.#log.error(
        {
          workerId: slot.workerId,
          pid: slot.pid,
          exit: signal ?? code,
          ...(active ? { dagId: active.job.dagId, taskId: active.job.taskId, runId: active.job.runId } : {}),
        },
        "worker process exited: a new one replaces it",
      );
    }
    if (active !== null) clearTimeout(active.importTimer);
    if (active !== null && !active.settled) {
      clearTimeout(active.timeout);
      clearTimeout(active.killTimer);
      appendLog(
        active.job.logPath,
        "worker",
        "ERROR",
        `the worker process exited (${signal ?? `code ${code}`}) while running this try: the scheduler will see its heartbeat stop and run the task again`,
      );
      active.settled = true;
      active.resolveDone();
    }
    slot.job = null;
    if (this.#stopping) return;
    if (!slot.ready) this.#crashes += 1;
    // A worker that dies before it is ready (a broken install) must not be restarted in a tight loop.
    const delayMs = Math.min(10_000, this.#crashes * 1000);
    const restart = setTimeout(() => {
      if (!this.#stopping) void this.#spawn(slot.index);
    }, delayMs);
    restart.unref();
  }

  /**
   * The pool's write loop: a pass records the tries that ended since the last pass and claims work
   * for every idle worker (those whose try just ended included), all in one transaction. Tries
   * that end while a pass runs wait for the next one, so under load one commit serves several tries
   * and claims; when idle, a try's end is recorded at once. On SQLite a pass runs whole within one
   * turn of the event loop (better-sqlite3 is synchronous), so passes never overlap; on PostgreSQL
   * a pass waits for round trips, and another pass may run meanwhile for other workers (each slot
   * is in at most one pass), so the workers do not queue behind one another's commits.
   */
  #startPasses(): void {
    while (this.#passes.size < this.#options.size) {
      const ended = this.#ended.splice(0);
      const idle = this.#stopping
        ? []
        : this.#liveSlots().filter(
            (slot) =>
              slot.ready &&
              !slot.claiming &&
              slot.child.connected &&
              (slot.job === null || ended.some((end) => end.slot === slot)),
          );
      if (ended.length === 0 && idle.length === 0) return;
      const pass: Promise<void> = this.#recordAndClaim(ended, idle)
        .catch((error: unknown) =>
          this.#options.events.emit("error", { where: "worker pool dispatch", error }),
        )
        .finally(() => {
          this.#passes.delete(pass);
          if (this.#ended.length > 0) this.wake();
        });
      this.#passes.add(pass);
    }
  }

  /** Resolves once no pass is under way and every ended try is recorded. */
  async #settled(): Promise<void> {
    while (this.#passes.size > 0 || this.#ended.length > 0 || this.#passDue) {
      if (this.#passes.size > 0) await Promise.all(this.#passes);
      else {
        if (this.#ended.length > 0) this.wake();
        await nextTurn();
      }
    }
  }

  /** One transaction: finishTry for each ended try, then a claim per idle slot while work is queued. */
  async #recordAndClaim(ended: EndedJob[], idle: Slot[]): Promise<void> {
    const { metadata, events } = this.#options;
    // In key order, as other writers lock task instances, so that on PostgreSQL two of them do
    // not wait for each other's rows.
    ended.sort(
      (a, b) =>
        a.active.job.attempt.dagRunId - b.active.job.attempt.dagRunId ||
        (a.active.job.taskId < b.active.job.taskId ? -1 : a.active.job.taskId > b.active.job.taskId ? 1 : 0),
    );
    const now = this.#clockMs();
    for (const slot of idle) slot.claiming = true;
    const recorded: Array<TaskInstance | null | RecordFailure> = [];
    const jobs: Array<{ slot: Slot; ti: TaskInstance; run: DagRun }> = [];
    const deferred = new DeferredEvents(events);
    try {
      await metadata.transaction(async (tx) => {
        // A transaction run again (PostgreSQL deadlock) starts afresh.
        recorded.length = 0;
        jobs.length = 0;
        deferred.discard();
        for (const { active, outcome } of ended) {
          try {
            recorded.push(await tx.finishTry(active.job.attempt, tryOutcomeOf(active.job, outcome), now));
          } catch (error) {
            // A bad outcome fails alone; a database failure fails the transaction (see below).
            recorded.push(new RecordFailure(error));
          }
        }
        for (const slot of idle) {
          const job = await this.#claimFor(tx, slot, now, deferred);
          if (job === null) break;
          jobs.push(job);
        }
      });
    } catch (error) {
      // Nothing committed: no claim holds, and the ended tries stay running in the DB until the
      // heartbeat sees that no worker runs them and clears them (they run again).
      deferred.discard();
      jobs.length = 0;
      for (let index = 0; index < ended.length; index += 1) recorded[index] = new RecordFailure(error);
    } finally {
      for (const slot of idle) slot.claiming = false;
    }
    // Work first, so the workers are busy while the events are handled.
    for (const end of ended) {
      if (end.slot.job === end.active) end.slot.job = null;
    }
    for (const { slot, ti, run } of jobs) this.#startJob(slot, ti, run);
    deferred.flush();
    ended.forEach((end, index) => {
      this.#report(end.active, end.outcome, recorded[index] ?? null);
      end.active.resolveDone();
    });
  }

  /**
   * Claims one queued task instance for `slot` (inside the pool's transaction). A task whose run or
   * DAG is gone fails at once, without a worker, and the next one is claimed.
   */
  async #claimFor(
    tx: MetadataStore,
    slot: Slot,
    now: number,
    deferred: DeferredEvents,
  ): Promise<{ slot: Slot; ti: TaskInstance; run: DagRun } | null> {
    for (;;) {
      const [ti] = await tx.claimTaskInstances(slot.workerId, 1, now);
      if (ti === undefined) return null;
      const run = await tx.getRun(ti.dagRunId);
      const loaded = this.#options.findDag(ti.dagId);
      const task = loaded?.dag.tasks.find((t) => t.id === ti.taskId);
      if (run !== null && task !== undefined) return { slot, ti, run };
      const error =
        run === null
          ? `run ${ti.dagRunId} does not exist`
          : `DAG ${ti.dagId} (or its task ${ti.taskId}) is not loaded: is its file still in the dags folder?`;
      const attempt: TryRef = {
        dagRunId: ti.dagRunId,
        taskId: ti.taskId,
        tryNumber: ti.tryNumber,
        workerId: slot.workerId,
      };
      const ended = await tx.finishTry(attempt, { state: "failed", error, retry: false }, now);
      if (ended !== null) {
        deferred.emit("task:failed", {
          ...taskEventOf(ended, run?.runId ?? String(ti.dagRunId)),
          error,
          final: true,
        });
      }
    }
  }

  #startJob(slot: Slot, ti: TaskInstance, run: DagRun): void {
    const { events } = this.#options;
    const loaded = this.#options.findDag(ti.dagId);
    const task = loaded?.dag.tasks.find((t) => t.id === ti.taskId);
    const attempt: TryRef = {
      dagRunId: ti.dagRunId,
      taskId: ti.taskId,
      tryNumber: ti.tryNumber,
      workerId: slot.workerId,
    };
    const logPath = taskLogPath(this.#options.logsDir, ti.dagId, run.runId, ti.taskId, ti.tryNumber);
    const job: TaskJob = {
      attempt,
      dagId: ti.dagId,
      taskId: ti.taskId,
      runId: run.runId,
      runType: run.runType,
      dataIntervalStart: run.dataIntervalStart,
      dataIntervalEnd: run.dataIntervalEnd,
      logicalDate: run.logicalDate,
      conf: run.conf,
      dagFile: loaded?.file ?? "",
      logPath,
      maxTries: ti.maxTries,
    };
    let resolveDone!: () => void;
    const active: ActiveJob = {
      job,
      ti,
      stopReason: null,
      settled: false,
      timeoutMs: task?.executionTimeoutMs ?? null,
      done: new Promise((resolve) => {
        resolveDone = resolve;
      }),
      resolveDone: () => resolveDone(),
    };
    if (slot.exited || !slot.child.connected) {
      // The process died during the claim: its worker no longer heartbeats, so the scheduler sees
      // the try orphaned and runs it again, as with any try whose worker dies.
      appendLog(
        logPath,
        "worker",
        "ERROR",
        `worker ${slot.workerId} exited before this try could start: the scheduler will run the task again`,
      );
      return;
    }
    slot.job = active;
    const message: PoolMessage = { type: "run", job };
    slot.child.send(message);
    active.importTimer = setTimeout(() => this.#importTimedOut(slot, active), this.#importTimeoutMs);
    events.emit("task:started", { ...taskEventOf(ti, run.runId), workerId: slot.workerId, pid: slot.pid });
  }

  /** The execution timeout covers the task's own code, not the loading of its DAG file (as Airflow's). */
  #taskBegan(slot: Slot, attempt: TryRef): void {
    const active = slot.job;
    if (
      active === null ||
      active.job.attempt.tryNumber !== attempt.tryNumber ||
      active.job.taskId !== attempt.taskId
    )
      return;
    clearTimeout(active.importTimer);
    if (active.timeoutMs === null || active.stopReason !== null) return;
    const limitMs = active.timeoutMs;
    active.timeout = setTimeout(
      () => this.#stopJob(slot, active, `execution timeout: the task ran longer than ${limitMs} ms`, true),
      limitMs,
    );
  }

  /** Aborts the try's signal; kills the worker process if the task does not end within killGraceMs. */
  #stopJob(slot: Slot, active: ActiveJob, reason: string, recordFailure: boolean): void {
    if (active.stopReason !== null || active.settled) return;
    active.stopReason = reason;
    appendLog(active.job.logPath, "worker", "ERROR", `Stopping the task: ${reason}`);
    if (slot.child.connected) slot.child.send({ type: "abort", reason } satisfies PoolMessage);
    active.killTimer = setTimeout(() => {
      if (active.settled || slot.job !== active) return;
      active.settled = true;
      appendLog(
        active.job.logPath,
        "worker",
        "ERROR",
        `the task ignored the stop for ${this.#options.killGraceMs ?? defaultKillGraceMs} ms: killing worker process ${slot.pid} (a new one replaces it)`,
      );
      slot.child.kill("SIGKILL");
      const finish = recordFailure
        ? this.#record(active, {
            state: "failed",
            error: `${reason} (the worker was killed)`,
            exports: [],
            codeVersion: null,
          })
        : Promise.resolve();
      void finish.finally(() => active.resolveDone());
    }, this.#options.killGraceMs ?? defaultKillGraceMs);
  }

  /** A worker reported its try's end: recorded by the next pass of the write loop. */
  #finished(slot: Slot, attempt: TryRef, outcome: JobOutcome): void {
    const active = slot.job;
    if (
      active === null ||
      active.job.attempt.tryNumber !== attempt.tryNumber ||
      active.job.taskId !== attempt.taskId
    ) {
      return;
    }
    clearTimeout(active.timeout);
    clearTimeout(active.killTimer);
    clearTimeout(active.importTimer);
    if (active.settled) return;
    active.settled = true;
    const reported: JobOutcome =
      outcome.state === "failed" && active.stopReason !== null
        ? { ...outcome, error: active.stopReason }
        : outcome;
    this.#ended.push({ slot, active, outcome: reported });
    this.wake();
  }

  /** finishTry on its own (a try whose worker was killed), then the events that say what happened. */
  async #record(active: ActiveJob, outcome: JobOutcome): Promise<void> {
    let ended: TaskInstance | null | RecordFailure;
    try {
      ended = await this.#options.metadata.finishTry(
        active.job.attempt,
        tryOutcomeOf(active.job, outcome),
        this.#clockMs(),
      );
    } catch (error) {
      ended = new RecordFailure(error);
    }
    this.#report(active, outcome, ended);
  }

  /** The log lines and events of a recorded try's end (or of the failure to record it). */
  #report(active: ActiveJob, outcome: JobOutcome, ended: TaskInstance | null | RecordFailure): void {
    const { events } = this.#options;
    const { job } = active;
    if (ended instanceof RecordFailure) {
      events.emit("error", {
        where: `recording the end of ${job.dagId}.${job.taskId} (${job.runId})`,
        error: ended.error,
      });
      return;
    }
    if (ended === null) {
      appendLog(
        job.logPath,
        "worker",
        "WARNING",
        "this try was cleared or marked meanwhile: its outcome is not recorded",
      );
      return;
    }
    const base = taskEventOf(ended, job.runId);
    for (const written of outcome.exports) events.emit("export:written", { ...base, ...written });
    if (ended.state === "success") {
      appendLog(job.logPath, "worker", "INFO", "Marking task as SUCCESS");
      events.emit("task:succeeded", { ...base, durationMs: ended.durationMs });
    } else if (ended.state === "up_for_retry") {
      const error = outcome.state === "failed" ? outcome.error : "";
      appendLog(
        job.logPath,
        "worker",
        "INFO",
        `Marking task as UP_FOR_RETRY (try ${ended.tryNumber} of ${ended.maxTries})`,
      );
      events.emit("task:retry", { ...base, error, nextRetryAt: ended.nextRetryAt });
    } else {
      const error = outcome.state === "failed" ? outcome.error : ended.state;
      appendLog(job.logPath, "worker", "INFO", `Marking task as ${ended.state.toUpperCase()}`);
      events.emit("task:failed", { ...base, error, final: true });
    }
  }

  async #heartbeat(): Promise<void> {
    const { metadata, events } = this.#options;
    for (const slot of this.#liveSlots()) {
      if (!slot.ready) continue;
      try {
        const before = slot.job;
        const { running } = await metadata.heartbeat(slot.workerId, this.#clockMs());
        const active = slot.job;
        // Tries the DB gives this worker that it is not running (their end could not be
        // recorded): cleared, so they run again rather than stay "running" for ever.
        const stale = slot.claiming
          ? []
          : running.filter(
              (r) =>
                active === null ||
                r.dagRunId !== active.job.attempt.dagRunId ||
                r.taskId !== active.job.taskId ||
                r.tryNumber !== active.job.attempt.tryNumber,
            );
        for (const attempt of stale) {
          // Read again: a job that ended since the heartbeat may have recorded its end meanwhile.
          // Once the slot has moved on, a try still running in the DB will never be ended by it.
          const ti = await metadata.getTaskInstance(attempt);
          const current = slot.job;
          if (
            ti?.state !== "running" ||
            ti.workerId !== slot.workerId ||
            ti.tryNumber !== attempt.tryNumber ||
            slot.claiming ||
            (current !== null &&
              current.job.attempt.dagRunId === attempt.dagRunId &&
              current.job.taskId === attempt.taskId)
          ) {
            continue;
          }
          const run = await metadata.getRun(attempt.dagRunId);
          if (run === null) continue;
          await metadata.clearTaskInstances(
            { dagId: run.dagId, dagRunIds: [attempt.dagRunId], taskIds: [attempt.taskId] },
            this.#clockMs(),
          );
          events.emit("error", {
            where: `worker ${slot.workerId}`,
            error: new Error(
              `try ${attempt.tryNumber} of ${run.dagId}.${attempt.taskId} (${run.runId}) was left running: cleared to run again`,
            ),
          });
        }
        // A try given to the slot while the heartbeat ran may be missing from `running` (on
        // PostgreSQL its claim can commit after the heartbeat's snapshot): judged next time.
        if (active === null || active !== before || active.stopReason !== null || active.settled) continue;
        const held = running.some(
          (r) =>
            r.dagRunId === active.job.attempt.dagRunId &&
            r.taskId === active.job.taskId &&
            r.tryNumber === active.job.attempt.tryNumber,
        );
        // finishTry may have just ended it; only a try still unreported is revoked.
        if (!held) this.#stopJob(slot, active, "the try was cleared, marked or its run timed out", false);
      } catch (error) {
        if (isHourglassError(error, "NotFound")) {
          await metadata
            .registerWorker(
              { workerId: slot.workerId, pid: slot.pid ?? process.pid, host: this.#host },
              this.#clockMs(),
            )
            .catch(() => undefined);
        } else {
          events.emit("error", { where: `heartbeat of ${slot.workerId}`, error });
        }
      }
    }
  }
}
