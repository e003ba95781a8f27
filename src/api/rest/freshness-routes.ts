/**
 * REST route of export freshness (docs/api.md, "Export freshness"), mounted under /api/v1: the
 * status of each exported interval of a DAG. A thin layer over FreshnessService, which the CLI
 * also calls in-process.
 */
import { Hono } from "hono";
import type { FreshnessService } from "../../freshness/index.js";

export function freshnessRoutes(freshness: FreshnessService): Hono {
  const app = new Hono();
  app.get("/dags/:dagId/exports/status", async (c) => {
    const from = c.req.query("from");
    const to = c.req.query("to");
    return c.json(
      await freshness.exportsStatus({
        dagId: c.req.param("dagId"),
        ...(from === undefined || from === "" ? {} : { from }),
        ...(to === undefined || to === "" ? {} : { to }),
      }),
    );
  });
  return app;
}
