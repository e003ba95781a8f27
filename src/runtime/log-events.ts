/**
 * The scheduler's and the worker pool's lifecycle events, as lines of the process log: runs and
 * failures at info and warn, each task's start and success at debug (a busy DAG makes many), and
 * the loops' own failures at error (the loop goes on: the line is all that tells).
 */
import type { Log } from "../log/index.js";
import type { WorkflowEvents } from "../workflows/scheduler/index.js";

export function logWorkflowEvents(events: WorkflowEvents, log: Log): () => void {
  const offs = [
    events.on("error", ({ where, error }) => log.error({ err: error, where }, `failed: ${where}`)),
    events.on("run:created", ({ run }) =>
      log.info({ dagId: run.dagId, runId: run.runId, runType: run.runType }, "run created"),
    ),
    events.on("run:finished", ({ run, state }) =>
      (state === "success" ? log.info : log.warn).call(
        log,
        { dagId: run.dagId, runId: run.runId, state },
        `run ${state}`,
      ),
    ),
    events.on("task:started", (task) => log.debug({ ...task }, "task started")),
    events.on("task:succeeded", (task) => log.debug({ ...task }, "task succeeded")),
    events.on("task:retry", (task) => log.warn({ ...task }, "task failed, will retry")),
    events.on("task:failed", (task) => log.warn({ ...task }, "task failed")),
    events.on("dags:loaded", ({ dagIds, importErrors }) =>
      (importErrors > 0 ? log.warn : log.info).call(
        log,
        { dags: dagIds.length, importErrors },
        "DAG folder loaded",
      ),
    ),
  ];
  return () => {
    for (const off of offs) off();
  };
}
