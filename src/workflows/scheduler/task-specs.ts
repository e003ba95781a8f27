/**
 * What the metadata DB needs to know of a DAG's tasks when a run is created: ids, retries, and a
 * priority under which workers claim them. Backfill runs get a lower priority than scheduled and
 * manual ones, so a long backfill never holds up the hourly export (backfills yield).
 */
import type { Dag } from "../dag.js";
import type { RunType, TaskSpec } from "../metadata/index.js";
import type { Task } from "../task.js";

export const scheduledTaskPriority = 1;
export const backfillTaskPriority = 0;

export function taskSpecOf(task: Task, runType: RunType): TaskSpec {
  return {
    taskId: task.id,
    retries: task.retries,
    retryDelayMs: task.retryDelayMs,
    // Re-exports yield like backfills: the hourly export comes first.
    priority: runType === "backfill" || runType === "reexport" ? backfillTaskPriority : scheduledTaskPriority,
  };
}

export function taskSpecsOf(dag: Dag, runType: RunType): TaskSpec[] {
  return dag.tasks.map((task) => taskSpecOf(task, runType));
}

/** Every task downstream of `taskIds` (transitively), not including them. */
export function downstreamOf(dag: Dag, taskIds: readonly string[]): string[] {
  const byId = new Map(dag.tasks.map((task) => [task.id, task]));
  const found = new Set<string>();
  const stack = [...taskIds];
  while (stack.length > 0) {
    const task = byId.get(stack.pop()!);
    for (const next of task?.downstream ?? []) {
      if (found.has(next)) continue;
      found.add(next);
      stack.push(next);
    }
  }
  for (const id of taskIds) found.delete(id);
  return [...found].sort();
}
