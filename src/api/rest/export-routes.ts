/**
 * REST route of the export service, mounted under /api/v1 like the store's:
 *
 *   POST /exports   ExportToLakeRequest (JSON) → ExportToLakeResult
 *
 * Workers call it (createRemoteTaskServices) because the store, and so the query, lives in the
 * server. The body is declared with the service's own zod schema (exportRequestSchema); the
 * service checks it again with the rules a schema cannot say (bucket names, keys).
 */
import { Hono } from "hono";
import { z } from "zod";
import { type ExportService, exportRequestSchema } from "../../operators/index.js";
import { defineRoute } from "../openapi/index.js";

const exportResultSchema = z
  .object({
    written: z.boolean().describe("false when the result was empty and the policy was skip"),
    bucket: z.string(),
    key: z.string(),
    rows: z.number().int(),
    bytes: z.number().int(),
    sha256: z.string().nullable(),
    manifestKey: z.string().nullable(),
    note: z.string().optional().describe("why nothing was written, when nothing was"),
  })
  .meta({ id: "ExportResult" });

export function exportRoutes(exports: ExportService): Hono {
  const app = new Hono();
  defineRoute(
    app,
    {
      method: "post",
      path: "/exports",
      tag: "Exports",
      summary: "Export a query's result to the lake (what the export operator's workers call)",
      description: "Written whole or not at all, with a manifest beside it; a re-run replaces both.",
      body: exportRequestSchema,
      bodyLabel: "export request",
      responses: { 200: { description: "the export", schema: exportResultSchema } },
      errors: { 404: "the bucket or a table the query names does not exist" },
    },
    async (c, { body }) => c.json(await exports.exportToLake(body)),
  );
  return app;
}
