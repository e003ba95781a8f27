/**
 * The worker pool: N long-lived worker processes (`child_process.fork` of worker-entry.ts, run
 * with tsx), each registered in the metadata DB as a worker. For each idle worker the pool claims
 * a queued task instance (claimTaskInstances: exclusive, SKIP LOCKED on PostgreSQL), sends it to
 * the process, and records the outcome with finishTry. It heartbeats for its live workers; a try
 * the DB no longer gives to a worker (cleared, marked, its run timed out) is stopped.
 *
 * - Execution timeout: the task's signal is aborted; if the task ignores it, the worker process is
 *   killed after `killGraceMs` and replaced, and the try fails (then the retry rules apply).
 * - A worker process that dies (killed, out of memory) is replaced at once; its try is left to the
 *   scheduler, which notices the lost heartbeat (orphans.ts) and runs it again.
 * - stop(): no new claims; running tries get `graceMs` to finish; the rest are cleared, so they
 *   run again after a restart without using up a retry; then the processes exit.
 *
 * A task's stdout and stderr go to its try's log file.
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import os from "node:os";
import { isHourglassError } from "../../errors.js";
import type { LoadedDag } from "../loader.js";
import type { MetadataStore, TaskInstance, TryRef } from "../metadata/index.js";
import { taskEventOf, type WorkflowEvents } from "./events.js";
import type { JobOutcome, PoolMessage, TaskJob, WorkerMessage } from "./messages.js";
import { appendLog, taskLogPath } from "./task-logs.js";

export interface WorkerPoolOptions {
  metadata: MetadataStore;
  events: WorkflowEvents;
  clockMs?: () => number;
  /** Worker processes (config.workers). */
  size: number;
  /** The server the workers reach the store and the export path through. */
  serverUrl: string;
  /** `<stateDir>/logs`. */
  logsDir: string;
  /** The DAG a task instance belongs to (the scheduler's DAG bag): its file and timeouts. */
  findDag: (dagId: string) => LoadedDag | undefined;
  /** Every loaded DAG: a new worker loads their files while idle (optional). */
  allDags?: () => LoadedDag[];
  /** Real time between heartbeats (default 2 s); keep it well below the scheduler's heartbeat timeout. */
  heartbeatIntervalMs?: number;
  /** Real time between looks for queued work when nothing wakes the pool (default 1 s). */
  pollIntervalMs?: number;
  /** How long a stopped task may take to end before its worker process is killed (default 3 s). */
  killGraceMs?: number;
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
  done: Promise<void>;
  resolveDone: () => void;
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

const workerEntry = new URL("./worker-entry.ts", import.meta.url);

export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #clockMs: () => number;
  readonly #slots: Array<Slot | null> = [];
  readonly #host = os.hostname();
  readonly #started: Array<Promise<void>> = [];
  #stopping = false;
  #stopped: Promise<void> | null = null;
  #dispatching: Promise<void> | null = null;
  #dispatchAgain = false;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #offQueued: (() => void) | null = null;
  #crashes = 0;

  constructor(options: WorkerPoolOptions) {
    if (!Number.isSafeInteger(options.size) || options.size < 1) {
      throw new RangeError(`a worker pool needs at least one worker, got ${String(options.size)}`);
    }
    this.#options = options;
    this.#clockMs = options.clockMs ?? Date.now;
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

  /** Starts the worker processes; resolves once each has registered. */
  async start(): Promise<void> {
    for (let index = 0; index < this.#options.size; index += 1) this.#started.push(this.#spawn(index));
    await Promise.all(this.#started);
    this.#offQueued = this.#options.events.on("task:queued", () => this.wake());
    const heartbeatMs = this.#options.heartbeatIntervalMs ?? defaultHeartbeatIntervalMs;
    this.#heartbeatTimer = setInterval(() => void this.#heartbeat(), heartbeatMs);
    this.#heartbeatTimer.unref();
    const pollMs = this.#options.pollIntervalMs ?? defaultPollIntervalMs;
    this.#pollTimer = setInterval(() => this.wake(), pollMs);
    this.#pollTimer.unref();
    this.wake();
  }

  /** Looks for queued work now. */
  wake(): void {
    if (this.#stopping) return;
    if (this.#dispatching !== null) {
      this.#dispatchAgain = true;
      return;
    }
    this.#dispatching = this.#dispatch()
      .catch((error: unknown) => this.#options.events.emit("error", { where: "worker pool dispatch", error }))
      .finally(() => {
        this.#dispatching = null;
        if (this.#dispatchAgain) {
          this.#dispatchAgain = false;
          this.wake();
        }
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
    await this.#dispatching;
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
    const child = fork(workerEntry, [this.#options.serverUrl], {
      execArgv: ["--import", import.meta.resolve("tsx")],
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
    const ready = new Promise<void>((resolve) => {
      child.on("message", (message: WorkerMessage) => {
        if (message.type === "ready") {
          void this.#options.metadata
            .registerWorker({ workerId, pid: message.pid, host: this.#host }, this.#clockMs())
            .then(
              () => {
                slot.ready = true;
                this.#crashes = 0;
                const dags = this.#options.allDags?.() ?? [];
                if (dags.length > 0 && child.connected) {
                  const preload: PoolMessage = {
                    type: "preload",
                    dags: dags.map((loaded) => ({ file: loaded.file, dagId: loaded.dag.id })),
                  };
                  child.send(preload);
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
          void this.#finished(slot, message.attempt, message.outcome);
        }
      });
      child.on("exit", (code, signal) => {
        slot.exited = true;
        markExited();
        resolve();
        this.#exited(slot, code, signal);
      });
    });
    child.on("error", (error) => this.#options.events.emit("error", { where: `worker ${workerId}`, error }));
    return ready;
  }

  #output(slot: Slot, stream: "stdout" | "stderr", text: string): void {
    const lines = (slot.pending[stream] + text).split("\n");
    slot.pending[stream] = lines.pop() ?? "";
    for (const line of lines) {
      if (slot.job !== null) {
        appendLog(slot.job.job.logPath, slot.job.job.taskId, stream === "stderr" ? "WARNING" : "INFO", line);
      } else if (line.trim() !== "") {
        process.stderr.write(`[worker ${slot.workerId}] ${line}\n`);
      }
    }
  }

  #exited(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    const active = slot.job;
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

  async #dispatch(): Promise<void> {
    const { metadata } = this.#options;
    for (;;) {
      if (this.#stopping) return;
      const idle = this.#liveSlots().filter((slot) => slot.ready && slot.job === null);
      if (idle.length === 0) return;
      let claimedAny = false;
      for (const slot of idle) {
        if (this.#stopping) return;
        slot.claiming = true;
        try {
          const [ti] = await metadata.claimTaskInstances(slot.workerId, 1, this.#clockMs());
          if (ti === undefined) return;
          claimedAny = true;
          await this.#startJob(slot, ti);
        } finally {
          slot.claiming = false;
        }
      }
      if (!claimedAny) return;
    }
  }

  async #startJob(slot: Slot, ti: TaskInstance): Promise<void> {
    const { metadata, events } = this.#options;
    const attempt: TryRef = {
      dagRunId: ti.dagRunId,
      taskId: ti.taskId,
      tryNumber: ti.tryNumber,
      workerId: slot.workerId,
    };
    const run = await metadata.getRun(ti.dagRunId);
    const loaded = this.#options.findDag(ti.dagId);
    const task = loaded?.dag.tasks.find((t) => t.id === ti.taskId);
    if (run === null || loaded === undefined || task === undefined) {
      const error =
        run === null
          ? `run ${ti.dagRunId} does not exist`
          : `DAG ${ti.dagId} (or its task ${ti.taskId}) is not loaded: is its file still in the dags folder?`;
      const ended = await metadata.finishTry(
        attempt,
        { state: "failed", error, retry: false },
        this.#clockMs(),
      );
      if (ended !== null) {
        events.emit("task:failed", {
          ...taskEventOf(ended, run?.runId ?? String(ti.dagRunId)),
          error,
          final: true,
        });
      }
      return;
    }
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
      dagFile: loaded.file,
      logPath,
    };
    let resolveDone!: () => void;
    const active: ActiveJob = {
      job,
      ti,
      stopReason: null,
      settled: false,
      timeoutMs: null,
      done: new Promise((resolve) => {
        resolveDone = resolve;
      }),
      resolveDone: () => resolveDone(),
    };
    slot.job = active;
    appendLog(
      logPath,
      "worker",
      "INFO",
      `Starting attempt ${ti.tryNumber} of ${ti.maxTries} on worker ${slot.workerId} (pid ${slot.pid})`,
    );
    active.timeoutMs = task.executionTimeoutMs;
    const message: PoolMessage = { type: "run", job };
    slot.child.send(message);
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

  async #finished(slot: Slot, attempt: TryRef, outcome: JobOutcome): Promise<void> {
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
    if (active.settled) return;
    active.settled = true;
    const reported: JobOutcome =
      outcome.state === "failed" && active.stopReason !== null
        ? { ...outcome, error: active.stopReason }
        : outcome;
    try {
      await this.#record(active, reported);
    } finally {
      slot.job = null;
      active.resolveDone();
      this.wake();
    }
  }

  /** finishTry, then the events that say what happened. */
  async #record(active: ActiveJob, outcome: JobOutcome): Promise<void> {
    const { metadata, events } = this.#options;
    const { job } = active;
    let ended: TaskInstance | null;
    try {
      ended = await metadata.finishTry(
        job.attempt,
        outcome.state === "success"
          ? { state: "success", logPath: job.logPath }
          : { state: "failed", error: outcome.error, logPath: job.logPath },
        this.#clockMs(),
      );
    } catch (error) {
      events.emit("error", {
        where: `recording the end of ${job.dagId}.${job.taskId} (${job.runId})`,
        error,
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
        if (active === null || active.stopReason !== null || active.settled) continue;
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
