/**
 * REST route of the export service, mounted under /api/v1 like the store's:
 *
 *   POST /exports   ExportToLakeRequest (JSON) → ExportToLakeResult
 *
 * Workers call it (createRemoteTaskServices) because the store, and so the query, lives in the
 * server. The body is checked with the service's own zod schema; failures are HourglassErrors and
 * reach the app's one error handler.
 */
import { Hono } from "hono";
import { validationError } from "../../errors.js";
import { type ExportService, parseExportRequest } from "../../operators/index.js";

export function exportRoutes(exports: ExportService): Hono {
  const app = new Hono();
  app.post("/exports", async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw validationError("the request body must be JSON");
    }
    return c.json(await exports.exportToLake(parseExportRequest(body)));
  });
  return app;
}
