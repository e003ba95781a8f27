/**
 * The REST data the UI needs that the rest of the API does not give in one call (docs/api.md,
 * "UI data"), mounted under /api/v1:
 *
 * - `GET /dags/{dag}/grid`: every run of a DAG (or those in an interval range) against its tasks,
 *   in columns (one array per field, one letter per state), so a year of hourly runs is one small
 *   answer that the grid can scroll through without asking again.
 * - `GET /changes`: a counter of workflow events since the server started. Pages poll it (a cheap
 *   call) and fetch their data again only when it moved, so they follow state without a reload.
 */
import { Hono } from "hono";
import { compress } from "hono/compress";
import { z } from "zod";
import { defineRoute } from "../api/index.js";
import { validationError } from "../errors.js";
import type { MetadataStore } from "../workflows/metadata/index.js";
import type { WorkflowApi } from "../workflows/scheduler/index.js";
import type { ChangeCounter } from "./changes.js";

/** One letter per task or run state (the answer repeats it in `stateCodes`). */
export const stateCodes: Record<string, string> = {
  none: "n",
  scheduled: "c",
  queued: "q",
  running: "r",
  success: "s",
  failed: "f",
  up_for_retry: "u",
  upstream_failed: "p",
  skipped: "k",
};

export interface GridAnswer {
  dagId: string;
  tasks: string[];
  /** letter -> state name */
  stateCodes: Record<string, string>;
  /** The runs in logical-date order, one array per field. */
  runs: {
    runId: string[];
    /** Data interval start and end, epoch milliseconds. */
    start: number[];
    end: number[];
    /** One letter per run: its state. */
    state: string;
    /** One letter per run: s(cheduled), m(anual), b(ackfill). */
    type: string;
    /** Per run, one letter per task (in `tasks` order); `-` where the run has no such task. */
    tasks: string[];
  };
}

export interface UiApiOptions {
  metadata: MetadataStore;
  workflows: WorkflowApi;
  changes: ChangeCounter;
}

/** Grid answers kept while nothing changes (a page polls; a year of runs takes ~100 ms to read). */
const gridCacheSize = 16;

function parseTime(text: string | undefined, name: string): number | undefined {
  if (text === undefined || text === "") return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) {
    throw validationError(
      `${name} must be an ISO 8601 time (2021-09-22T13:00:00Z) or epoch milliseconds, got ${JSON.stringify(text)}`,
    );
  }
  return ms;
}

export async function gridOf(
  options: Pick<UiApiOptions, "metadata" | "workflows">,
  dagId: string,
  range: { from?: number; to?: number },
): Promise<GridAnswer> {
  const dag = await options.workflows.getDag(dagId);
  const { runs, taskInstances: instances } = await options.metadata.listGrid({
    dagId,
    ...(range.from !== undefined || range.to !== undefined
      ? { interval: { start: range.from ?? 0, end: range.to ?? Number.MAX_SAFE_INTEGER } }
      : {}),
  });
  // Tasks of the loaded DAG first, in its order; then any only older runs had.
  const tasks = dag.tasks.map((t) => t.taskId);
  const taskIndex = new Map(tasks.map((id, i) => [id, i]));
  for (const ti of instances) {
    if (!taskIndex.has(ti.taskId)) {
      taskIndex.set(ti.taskId, tasks.length);
      tasks.push(ti.taskId);
    }
  }
  const rowOf = new Map<number, number>();
  for (const [i, run] of runs.entries()) rowOf.set(run.id, i);
  const letters = runs.map(() => new Array<string>(tasks.length).fill("-"));
  for (const ti of instances) {
    const row = rowOf.get(ti.dagRunId);
    if (row === undefined) continue;
    letters[row]![taskIndex.get(ti.taskId)!] = stateCodes[ti.state] ?? "?";
  }
  return {
    dagId,
    tasks,
    stateCodes: Object.fromEntries(Object.entries(stateCodes).map(([name, code]) => [code, name])),
    runs: {
      runId: runs.map((r) => r.runId),
      start: runs.map((r) => r.start),
      end: runs.map((r) => r.end),
      state: runs.map((r) => stateCodes[r.state] ?? "?").join(""),
      type: runs.map((r) => r.runType[0]!).join(""),
      tasks: letters.map((row) => row.join("")),
    },
  };
}

const gridAnswerSchema = z
  .object({
    dagId: z.string(),
    tasks: z.array(z.string()).describe("task ids: the DAG's, in its order, then any only older runs had"),
    stateCodes: z.record(z.string(), z.string()).describe("letter -> state name"),
    runs: z
      .object({
        runId: z.array(z.string()),
        start: z.array(z.number()).describe("data interval starts, epoch milliseconds"),
        end: z.array(z.number()).describe("data interval ends, epoch milliseconds"),
        state: z.string().describe("one letter per run: its state"),
        type: z.string().describe("one letter per run: s(cheduled), m(anual), b(ackfill)"),
        tasks: z
          .array(z.string())
          .describe("per run, one letter per task in `tasks` order; `-` where it has none"),
      })
      .describe("the runs in logical-date order, one array per field"),
  })
  .meta({ id: "Grid" });

const timeParam = z
  .string()
  .optional()
  .describe("ISO 8601 time (2021-09-22T13:00:00Z) or epoch milliseconds");

export function uiApiRoutes(options: UiApiOptions): Hono {
  const { changes } = options;
  const cache = new Map<string, { version: string; answer: GridAnswer }>();
  const app = new Hono();
  defineRoute(
    app,
    {
      method: "get",
      path: "/changes",
      tag: "UI",
      summary: "A counter of workflow changes; pages poll it and fetch again when it moved",
      responses: {
        200: {
          description: "the counter",
          schema: z.object({ version: z.string() }).meta({ id: "Changes" }),
        },
      },
    },
    (c) => c.json({ version: changes.version }),
  );
  // A year of runs is ~650 kB of JSON and ~10x less gzipped.
  app.use("/dags/:dagId/grid", compress());
  defineRoute(
    app,
    {
      method: "get",
      path: "/dags/:dagId/grid",
      tag: "UI",
      summary: "A DAG's runs against its tasks, in columns (the grid's data)",
      params: z.object({ dagId: z.string() }),
      query: z.object({ from: timeParam, to: timeParam }),
      responses: { 200: { description: "the grid", schema: gridAnswerSchema } },
      errors: { 404: "no such DAG" },
    },
    async (c, input) => {
      const from = parseTime(input.query.from, "from");
      const to = parseTime(input.query.to, "to");
      if (from !== undefined && to !== undefined && from > to) {
        throw validationError(`from (${input.query.from}) is after to (${input.query.to})`);
      }
      const dagId = input.params.dagId;
      const key = JSON.stringify([dagId, from, to]);
      const version = changes.version;
      const cached = cache.get(key);
      if (cached !== undefined && cached.version === version) return c.json(cached.answer);
      const answer = await gridOf(options, dagId, {
        ...(from === undefined ? {} : { from }),
        ...(to === undefined ? {} : { to }),
      });
      cache.delete(key);
      cache.set(key, { version, answer });
      if (cache.size > gridCacheSize) cache.delete(cache.keys().next().value!);
      return c.json(answer);
    },
  );
  return app;
}
