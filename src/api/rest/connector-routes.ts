/**
 * REST routes of the managed connectors (docs/api.md, "Connectors"), mounted under /api/v1:
 *
 *   GET    /connectors               { connectors: ConnectorDescription[] }
 *   POST   /connectors               ConnectorDefinitionInput → 201 ConnectorDescription
 *   GET    /connectors/:name         ConnectorDescription
 *   POST   /connectors/:name/start   ConnectorDescription
 *   POST   /connectors/:name/stop    ConnectorDescription (after its batch in hand is checkpointed)
 *   DELETE /connectors/:name         204
 *
 * A thin layer over ConnectorAdmin: the CLI gets the same answers over HTTP as on the state folder.
 */
import { Hono } from "hono";
import { validationError } from "../../errors.js";
import type { ConnectorAdmin, ConnectorDefinitionInput } from "../../stream/connector/index.js";

async function jsonObject(c: { req: { text: () => Promise<string> } }): Promise<unknown> {
  const text = await c.req.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw validationError("the request body must be JSON");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw validationError("the request body must be a JSON object");
  }
  return body;
}

export function connectorRoutes(connectors: ConnectorAdmin): Hono {
  const app = new Hono();
  app.get("/connectors", async (c) => c.json({ connectors: await connectors.list() }));
  app.post("/connectors", async (c) => {
    // The admin checks the body with its zod schema (definitionInputSchema).
    const body = (await jsonObject(c)) as ConnectorDefinitionInput;
    return c.json(await connectors.create(body), 201);
  });
  app.get("/connectors/:name", async (c) => c.json(await connectors.describe(c.req.param("name"))));
  app.post("/connectors/:name/start", async (c) => c.json(await connectors.start(c.req.param("name"))));
  app.post("/connectors/:name/stop", async (c) => c.json(await connectors.stop(c.req.param("name"))));
  app.delete("/connectors/:name", async (c) => {
    await connectors.delete(c.req.param("name"));
    return c.body(null, 204);
  });
  return app;
}
