/** REST routes of the store: databases, tables, records, queries (docs/api.md). */
import { Hono } from "hono";
import { validationError } from "../../errors.js";
import type { StoreService } from "../../store/service.js";
import { API_MAX_RECORDS_PER_WRITE } from "../../store/store.js";

async function jsonBody(c: { req: { json: () => Promise<unknown> } }): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw validationError("the request body must be JSON");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw validationError("the request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

export function storeRoutes(store: StoreService, options: { maxRecordsPerWrite?: number } = {}): Hono {
  const app = new Hono();
  app.get("/databases", async (c) => c.json({ Databases: await store.listDatabaseDescriptions() }));
  app.post("/databases", async (c) => {
    const body = await jsonBody(c);
    return c.json(await store.createDatabase(String(body["DatabaseName"] ?? "")), 201);
  });
  app.get("/databases/:db", async (c) => c.json(await store.describeDatabase(c.req.param("db"))));
  app.patch("/databases/:db", async (c) => c.json(await store.updateDatabase(c.req.param("db"))));
  app.delete("/databases/:db", async (c) => {
    await store.deleteDatabase(c.req.param("db"));
    return c.body(null, 204);
  });
  app.get("/tables", async (c) => c.json({ Tables: await store.listTableDescriptions() }));
  app.get("/databases/:db/tables", async (c) =>
    c.json({ Tables: await store.listTableDescriptions(c.req.param("db")) }),
  );
  app.post("/databases/:db/tables", async (c) => {
    const body = await jsonBody(c);
    return c.json(await store.createTable({ ...body, DatabaseName: c.req.param("db") } as never), 201);
  });
  app.get("/databases/:db/tables/:table", async (c) =>
    c.json(await store.describeTable(c.req.param("db"), c.req.param("table"))),
  );
  app.patch("/databases/:db/tables/:table", async (c) => {
    const body = await jsonBody(c);
    return c.json(
      await store.updateTable({
        ...body,
        DatabaseName: c.req.param("db"),
        TableName: c.req.param("table"),
      } as never),
    );
  });
  app.delete("/databases/:db/tables/:table", async (c) => {
    await store.deleteTable(c.req.param("db"), c.req.param("table"));
    return c.body(null, 204);
  });
  app.post("/databases/:db/tables/:table/records", async (c) => {
    const body = await jsonBody(c);
    const result = await store.writeRecords(
      { ...body, DatabaseName: c.req.param("db"), TableName: c.req.param("table") } as never,
      { maxRecords: options.maxRecordsPerWrite ?? API_MAX_RECORDS_PER_WRITE },
    );
    return c.json(result);
  });
  // The request's signal aborts when the client goes away: the store then interrupts the query.
  app.post("/query", async (c) =>
    c.json(await store.query((await jsonBody(c)) as never, { signal: c.req.raw.signal })),
  );
  return app;
}
