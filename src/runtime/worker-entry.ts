/**
 * A worker process: forked by the worker pool (src/workflows/scheduler/worker-pool.ts), it runs one task at a time as the
 * pool tells it over IPC and reports each outcome. It reaches the store and the export path over
 * HTTP (the server URL is its first argument); it never opens the metadata DB: the pool does the
 * claims, heartbeats and state changes for it.
 *
 * Its own log lines (ready, a task's failure) go to the server's process log over IPC; a task's
 * output stays in the try's log file.
 *
 * A task that ignores its abort signal may keep this process busy; the pool then kills the whole
 * process and starts another, so a hung task takes down at most its own worker.
 */
import { HourglassError, toHourglassError } from "../errors.js";
import { createLog, LOG_LEVELS, type LogLevel } from "../log/index.js";
import { runOperator } from "../operators/index.js";
import {
  appendLog,
  DagFileCache,
  guardProcessExit,
  type JobOutcome,
  type PoolMessage,
  runTask,
  type TaskJob,
  WORKER_LOG_LEVEL_ENV,
  type WorkerMessage,
  warmUpDagImports,
} from "../workflows/worker.js";
import { createRemoteTaskServices } from "./task-services.js";

const serverUrl = process.argv[2];
if (serverUrl === undefined || process.send === undefined) {
  process.stderr.write("the worker entry is started by the worker pool (a server URL and an IPC channel)\n");
  process.exit(2);
}
// A DAG file or task calling process.exit() fails its task instead of ending the worker.
const exit = guardProcessExit();
const services = createRemoteTaskServices(serverUrl);
const cache = new DagFileCache();
let current: { job: TaskJob; controller: AbortController } | null = null;

// The pool may be gone (it stopped, or was killed): there is nobody to tell, and an error here
// would only print a stack trace on the way out.
const send = (message: WorkerMessage) => {
  if (process.connected) process.send!(message, undefined, {}, () => {});
};

const levelSetting = process.env[WORKER_LOG_LEVEL_ENV] as LogLevel | undefined;
const processLog = createLog({
  level: levelSetting !== undefined && LOG_LEVELS.includes(levelSetting) ? levelSetting : "info",
  write: (line) => send({ type: "log", line: line.endsWith("\n") ? line.slice(0, -1) : line }),
});

// Ctrl+C in a terminal reaches the whole process group: the pool decides when a worker stops
// (running tasks get their grace period), so the worker itself ignores it.
process.on("SIGINT", () => {});

async function run(job: TaskJob): Promise<void> {
  const controller = new AbortController();
  current = { job, controller };
  const log = (message: string) => appendLog(job.logPath, job.taskId, "INFO", message);
  // The try's first line (and its log folder) is written here, off the pool's process.
  appendLog(
    job.logPath,
    "worker",
    "INFO",
    `Starting attempt ${job.attempt.tryNumber} of ${job.maxTries} on worker ${job.attempt.workerId} (pid ${process.pid})`,
  );
  let outcome: JobOutcome;
  let codeVersion: string | null = null;
  const exports: JobOutcome["exports"] = [];
  try {
    const loaded = await cache.get(job.dagFile, job.dagId);
    codeVersion = loaded.codeVersion;
    const done = await runTask(
      loaded,
      {
        dagId: job.dagId,
        taskId: job.taskId,
        runId: job.runId,
        runType: job.runType,
        dataIntervalStart: new Date(job.dataIntervalStart),
        dataIntervalEnd: new Date(job.dataIntervalEnd),
        logicalDate: new Date(job.logicalDate),
        tryNumber: job.attempt.tryNumber,
        conf: job.conf,
      },
      {
        services,
        runOperator,
        signal: controller.signal,
        log,
        onStart: () => send({ type: "started", attempt: job.attempt }),
      },
    );
    exports.push(...done.exports);
    outcome = { state: "success", exports, codeVersion };
  } catch (thrown) {
    const error = toHourglassError(thrown);
    appendLog(job.logPath, job.taskId, "ERROR", `Task failed: ${error.message}`);
    const stack = thrown instanceof Error && !(thrown instanceof HourglassError) ? thrown.stack : undefined;
    if (stack !== undefined) appendLog(job.logPath, job.taskId, "ERROR", stack);
    outcome = { state: "failed", error: error.message, exports, codeVersion };
    processLog.warn(
      {
        dagId: job.dagId,
        taskId: job.taskId,
        runId: job.runId,
        tryNumber: job.attempt.tryNumber,
        error: error.message,
        logPath: job.logPath,
      },
      "task failed",
    );
  }
  current = null;
  send({ type: "finished", attempt: job.attempt, outcome });
}

process.on("message", (message: PoolMessage) => {
  if (message.type === "run") {
    void run(message.job);
  } else if (message.type === "preload") {
    // A file that does not load fails its task later, with the error in the task's log.
    void Promise.allSettled(message.dags.map(({ file, dagId }) => cache.get(file, dagId))).then(() =>
      send({ type: "preloaded" }),
    );
  } else if (message.type === "abort" && current !== null) {
    current.controller.abort(new HourglassError("Timeout", message.reason));
  }
});
// The pool's process is gone (it was killed): nothing will collect our results.
process.on("disconnect", () => exit(0));
// Ready once Hourglass itself is loaded as DAG files see it: the pool's import limit then covers
// a task's DAG file only.
void warmUpDagImports().then(() => {
  processLog.debug({}, "worker ready");
  send({ type: "ready", pid: process.pid });
});
