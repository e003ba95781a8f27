/**
 * Re-exports of late data (a DAG's `freshness.reexportLateData`, docs/freshness.md): each tick
 * (at most every few seconds, or when the clock jumped), the intervals whose export went stale by
 * data, that ended at most `within` ago, and whose late data has been quiet for `settle`, get a
 * run of type `reexport`. Its run id names the data version it answers
 * (`reexport__2021-09-22T12:00:00+00:00__v42`), so one change is re-exported once, even across a
 * restart: the same id again is refused by the metadata DB. A run is created only while no run of
 * the interval is queued or running (checked in the same transaction), so an interval never has
 * two runs at once.
 */

import type { LoadedDag } from "../loader.js";
import type { DagRun, MetadataStore } from "../metadata/index.js";
import { isoUtc } from "../time-format.js";
import { DeferredEvents, type WorkflowEvents } from "./events.js";
import { taskSpecsOf } from "./task-specs.js";

/** Late data that has settled in an exported interval (the freshness service finds it). */
export interface LateDataSource {
  settledLateData(
    dagId: string,
    settleMs: number,
    withinMs: number,
  ): Promise<
    Array<{ startMs: number; endMs: number; version: number; records: number; lastWriteMs: number }>
  >;
}

export function reexportRunId(startMs: number, version: number): string {
  return `reexport__${isoUtc(new Date(startMs))}__v${version}`;
}

/** Creates the reexport runs now due for one DAG; returns them. */
export async function createReexportRuns(
  metadata: MetadataStore,
  events: WorkflowEvents,
  loaded: LoadedDag,
  source: LateDataSource,
  nowMs: number,
): Promise<DagRun[]> {
  const options = loaded.dag.freshness.reexportLateData;
  if (options === null) return [];
  const settled = await source.settledLateData(loaded.dag.id, options.settleMs, options.withinMs);
  if (settled.length === 0) return [];
  const deferred = new DeferredEvents(events);
  const created = await metadata.transaction(async (tx) => {
    deferred.discard(); // a transaction run again (PostgreSQL deadlock) decides afresh
    const made: DagRun[] = [];
    for (const interval of settled) {
      const busy = await tx.listRuns({
        dagId: loaded.dag.id,
        interval: { start: interval.startMs, end: interval.endMs },
        states: ["queued", "running"],
        limit: 1,
      });
      if (busy.length > 0) continue;
      const result = await tx.createRun(
        {
          dagId: loaded.dag.id,
          runType: "reexport",
          interval: { start: interval.startMs, end: interval.endMs },
          runId: reexportRunId(interval.startMs, interval.version),
          conf: {},
          codeVersion: loaded.codeVersion,
          tasks: taskSpecsOf(loaded.dag, "reexport"),
        },
        nowMs,
      );
      if (!result.created) continue; // this change was re-exported already
      made.push(result.run);
      deferred.emit("run:created", { run: result.run });
    }
    return made;
  });
  deferred.flush();
  return created;
}
