/**
 * Orphaned tries: a running task instance whose worker stopped heartbeating (the worker process
 * died, or the whole runtime was killed) is found here and run again.
 *
 * Decision (documented in docs/workflows.md, "Lost workers"): a lost worker does not use up the
 * user's retries. The try is recorded as failed ("worker heartbeat lost") and the task instance
 * is cleared, so it runs again as a new try, with a fresh allowance of retries. Airflow instead
 * fails a zombie task under its retry rules, so a task with `retries: 0` (the seed's) would fail
 * for good because a machine rebooted. To keep a task that kills its own worker (out of memory,
 * a native crash) from looping forever, after `maxLostWorkers` lost tries it fails for good.
 */
import type { MetadataStore } from "../metadata/index.js";
import { taskEventOf, type WorkflowEvents } from "./events.js";

export const lostWorkerError = "worker heartbeat lost";
export const defaultMaxLostWorkers = 3;

export interface OrphanSweepInput {
  metadata: MetadataStore;
  events: WorkflowEvents;
  nowMs: number;
  heartbeatTimeoutMs: number;
  maxLostWorkers: number;
}

/** Ends every orphaned try and reschedules its task instance; returns how many were found. */
export async function sweepOrphans(input: OrphanSweepInput): Promise<number> {
  const { metadata, events, nowMs } = input;
  const heartbeatBefore = nowMs - input.heartbeatTimeoutMs;
  const orphans = await metadata.findOrphans(heartbeatBefore);
  for (const orphan of orphans) {
    if (orphan.workerId === null) continue;
    const error = `${lostWorkerError} (worker ${orphan.workerId}, no heartbeat for ${nowMs - (orphan.heartbeatAt ?? nowMs)} ms)`;
    const ended = await metadata.finishTry(
      {
        dagRunId: orphan.dagRunId,
        taskId: orphan.taskId,
        tryNumber: orphan.tryNumber,
        workerId: orphan.workerId,
      },
      { state: "failed", error, retry: false },
      nowMs,
    );
    if (ended === null) continue; // finished or cleared meanwhile
    const run = await metadata.getRun(orphan.dagRunId);
    const runId = run?.runId ?? String(orphan.dagRunId);
    const tries = await metadata.listTaskTries({ dagRunId: orphan.dagRunId, taskId: orphan.taskId });
    const lost = tries.filter((t) => t.error?.startsWith(lostWorkerError)).length;
    if (lost >= input.maxLostWorkers || run === null || run.state !== "running") {
      events.emit("task:failed", { ...taskEventOf(ended, runId), error, final: true });
      continue;
    }
    await metadata.clearTaskInstances(
      { dagId: orphan.dagId, dagRunIds: [orphan.dagRunId], taskIds: [orphan.taskId] },
      nowMs,
    );
    events.emit("task:retry", { ...taskEventOf(ended, runId), error, nextRetryAt: nowMs });
  }
  await metadata.markDeadWorkers(heartbeatBefore, nowMs);
  return orphans.length;
}
