/**
 * REST route of export freshness (docs/api.md, "Export freshness"), mounted under /api/v1: the
 * status of each exported interval of a DAG. A thin layer over FreshnessService, which the CLI
 * also calls in-process.
 */
import { Hono } from "hono";
import { z } from "zod";
import { exportStatuses, type FreshnessService } from "../../freshness/index.js";
import { defineRoute } from "../openapi/index.js";

const exportEntrySchema = z.object({
  taskId: z.string(),
  bucket: z.string(),
  key: z.string(),
  written: z.boolean().describe("false: the result was empty and nothing was written"),
  rows: z.number().int(),
  exportedAt: z.string(),
  runId: z.string(),
  codeVersion: z.string().nullable(),
});

const intervalStatusSchema = z
  .object({
    start: z.string(),
    end: z.string(),
    status: z.enum(exportStatuses),
    run: z.object({ runId: z.string(), runType: z.string(), state: z.string() }).nullable(),
    exports: z.array(exportEntrySchema),
    staleData: z
      .object({
        records: z.number().int(),
        lastWriteAt: z.string(),
        tables: z.array(z.string()),
        version: z.number().int(),
      })
      .nullable()
      .describe("records that landed in the interval after its export read it"),
    staleCode: z
      .object({ exported: z.string().nullable(), current: z.string() })
      .nullable()
      .describe("the code version that wrote an export, against the DAG's current one"),
  })
  .meta({ id: "ExportIntervalStatus" });

const exportsStatusSchema = z
  .object({
    dagId: z.string(),
    from: z.string(),
    to: z.string(),
    codeVersion: z.string(),
    counts: z.record(z.string(), z.number().int()).describe("how many intervals have each status"),
    intervals: z.array(intervalStatusSchema),
  })
  .meta({ id: "ExportsStatus" });

export function freshnessRoutes(freshness: FreshnessService): Hono {
  const app = new Hono();
  defineRoute(
    app,
    {
      method: "get",
      path: "/dags/:dagId/exports/status",
      tag: "Exports",
      summary: "Each exported interval of a DAG: fresh, stale by data or code, missing, failed, running",
      params: z.object({ dagId: z.string() }),
      query: z.object({
        from: z
          .string()
          .optional()
          .describe("first interval start (ISO 8601, or a date); default the DAG's start date"),
        to: z.string().optional().describe("last interval start, included; default now"),
      }),
      responses: { 200: { description: "the intervals and their counts", schema: exportsStatusSchema } },
      errors: { 404: "no such DAG" },
    },
    async (c, { params, query }) =>
      c.json(
        await freshness.exportsStatus({
          dagId: params.dagId,
          ...(query.from === undefined || query.from === "" ? {} : { from: query.from }),
          ...(query.to === undefined || query.to === "" ? {} : { to: query.to }),
        }),
      ),
  );
  return app;
}
