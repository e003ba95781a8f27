/**
 * Creating scheduled runs: every interval that is due by now (catchup: every one missed since the
 * start date; without catchup: the latest), from the DAG's schedule and its bookkeeping in the
 * metadata DB. Each run is created, then the bookkeeping advanced by compare-and-set, all of a
 * tick's due intervals in one transaction (one commit). Even apart, the steps would be safe: after
 * a crash between them the same interval is tried again and createRun returns the run that exists
 * (the one-run-per-interval constraint), so no run is made twice and no interval is skipped.
 */

import { runIdFor } from "../context.js";
import { resolveStartDate } from "../dag.js";
import type { LoadedDag } from "../loader.js";
import type { Dag as DagRow, MetadataStore } from "../metadata/index.js";
import { dueIntervals } from "../schedule.js";
import { DeferredEvents, type WorkflowEvents } from "./events.js";
import { taskSpecsOf } from "./task-specs.js";

/** Runs created per DAG per tick at most; the next tick goes on (a DAG paused for a year). */
export const maxRunsCreatedPerTick = 500;

export async function createDueRuns(
  metadata: MetadataStore,
  events: WorkflowEvents,
  loaded: LoadedDag,
  row: DagRow,
  nowMs: number,
): Promise<number> {
  const { dag } = loaded;
  if (dag.schedule.kind === "manual") return 0;
  const now = new Date(nowMs);
  const startDate = resolveStartDate(dag, now);
  if (startDate === null) return 0;
  let lastEnd = row.lastScheduledIntervalEnd;
  const due = dueIntervals(dag.schedule, {
    // Only the end of the last interval matters to the planner (it aligns the next start to it).
    lastInterval: lastEnd === null ? null : { start: new Date(lastEnd), end: new Date(lastEnd) },
    startDate,
    endDate: dag.endDate,
    catchup: dag.catchup,
    now,
    limit: maxRunsCreatedPerTick,
  });
  if (due.length === 0) return 0;
  const deferred = new DeferredEvents(events);
  const created = await metadata.transaction(async (tx) => {
    deferred.discard(); // a transaction run again (PostgreSQL deadlock) starts afresh
    let count = 0;
    lastEnd = row.lastScheduledIntervalEnd;
    for (const interval of due) {
      const result = await tx.createRun(
        {
          dagId: dag.id,
          runType: "scheduled",
          interval: { start: interval.start.getTime(), end: interval.end.getTime() },
          runId: runIdFor("scheduled", interval.start),
          codeVersion: loaded.codeVersion,
          tasks: taskSpecsOf(dag, "scheduled"),
        },
        nowMs,
      );
      if (result.created) {
        count += 1;
        deferred.emit("run:created", { run: result.run });
      }
      // @once intervals have start == end; the bookkeeping still moves (to the instant itself).
      const newEnd = Math.max(interval.end.getTime(), lastEnd ?? Number.NEGATIVE_INFINITY);
      const moved = await tx.advanceSchedule(dag.id, lastEnd, newEnd, nowMs);
      if (!moved) break; // another scheduler moved it first: it creates the rest
      lastEnd = newEnd;
    }
    return count;
  });
  deferred.flush();
  return created;
}
