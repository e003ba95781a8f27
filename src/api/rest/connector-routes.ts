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
 * The body is checked with the admin's own schema (definitionInputSchema), declared with the route.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { ConnectorAdmin } from "../../stream/connector/index.js";
import { definitionInputSchema } from "../../stream/connector/index.js";
import { defineRoute, isoTime } from "../openapi/index.js";

const nameParams = z.object({ name: z.string().describe("1 to 128 of a-z A-Z 0-9 _ . -") });

const connectorSchema = z
  .object({
    name: z.string(),
    stream: z.string(),
    database: z.string(),
    table: z.string(),
    mapping: z.enum(["single", "flat", "auto"]),
    batchSize: z.number().int(),
    maxDelayMs: z.number().int(),
    from: z.string(),
    deadLetterStream: z.string(),
    enabled: z.boolean(),
    createdAt: isoTime,
    state: z.enum(["running", "stopping", "stopped", "failed"]),
    reason: z.string().nullable().describe("why it is not running and what to do; null while it runs"),
    startedAt: isoTime.nullable(),
    shards: z.array(
      z.object({
        shardId: z.string(),
        checkpoint: z.string().nullable(),
        behindRecords: z.number().int().nullable(),
        millisBehindLatest: z.number().nullable(),
      }),
    ),
    lag: z.object({ records: z.number().int().nullable(), millisBehindLatest: z.number().nullable() }),
    recordsPerSecond: z.number(),
    counts: z.object({
      read: z.number().int(),
      written: z.number().int(),
      rejected: z.number().int(),
      parseFailed: z.number().int(),
      deadLettered: z.number().int(),
      batches: z.number().int(),
      retries: z.number().int(),
    }),
    lastBatchAt: isoTime.nullable(),
    lastError: z.object({ message: z.string(), code: z.string(), at: isoTime }).nullable(),
    checkpointSavedAt: isoTime.nullable(),
  })
  .meta({ id: "Connector", description: "a connector's definition and its state (docs/connector.md)" });

const tag = "Connectors";
const unknown = { 404: "no connector of that name" };

export function connectorRoutes(connectors: ConnectorAdmin): Hono {
  const app = new Hono();
  defineRoute(
    app,
    {
      method: "get",
      path: "/connectors",
      tag,
      summary: "List the connectors, by name",
      responses: {
        200: { description: "the connectors", schema: z.object({ connectors: z.array(connectorSchema) }) },
      },
    },
    async (c) => c.json({ connectors: await connectors.list() }),
  );
  defineRoute(
    app,
    {
      method: "post",
      path: "/connectors",
      tag,
      summary: "Create a connector (stream → table), started unless start is false",
      description:
        "Defaults: mapping single, batchSize 50,000, maxDelayMs 1,000, from trim-horizon, deadLetterStream <stream>-deadletter. A stream or table that does not exist does not refuse the creation: the connector is created failed, with the reason.",
      body: definitionInputSchema,
      bodyLabel: "connector definition",
      responses: { 201: { description: "the connector", schema: connectorSchema } },
      errors: { 409: "a connector of that name exists" },
    },
    async (c, { body }) => c.json(await connectors.create(body), 201),
  );
  defineRoute(
    app,
    {
      method: "get",
      path: "/connectors/:name",
      tag,
      summary: "Describe a connector",
      params: nameParams,
      responses: { 200: { description: "the connector", schema: connectorSchema } },
      errors: unknown,
    },
    async (c, { params }) => c.json(await connectors.describe(params.name)),
  );
  defineRoute(
    app,
    {
      method: "post",
      path: "/connectors/:name/start",
      tag,
      summary: "Start a connector",
      params: nameParams,
      responses: {
        200: { description: "the connector: running, or failed with its reason", schema: connectorSchema },
      },
      errors: unknown,
    },
    async (c, { params }) => c.json(await connectors.start(params.name)),
  );
  defineRoute(
    app,
    {
      method: "post",
      path: "/connectors/:name/stop",
      tag,
      summary: "Stop a connector once its batch in hand is written and checkpointed",
      params: nameParams,
      responses: { 200: { description: "the connector", schema: connectorSchema } },
      errors: unknown,
    },
    async (c, { params }) => c.json(await connectors.stop(params.name)),
  );
  defineRoute(
    app,
    {
      method: "delete",
      path: "/connectors/:name",
      tag,
      summary: "Delete a connector and its checkpoint (the stream's records stay)",
      params: nameParams,
      responses: { 204: { description: "deleted" } },
      errors: unknown,
    },
    async (c, { params }) => {
      await connectors.delete(params.name);
      return c.body(null, 204);
    },
  );
  return app;
}
