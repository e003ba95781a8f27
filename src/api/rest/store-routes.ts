/** REST routes of the store: databases, tables, records, queries (docs/api.md). */
import { Hono } from "hono";
import { z } from "zod";
import type { StoreService } from "../../store/index.js";
import { API_MAX_RECORDS_PER_WRITE } from "../../store/index.js";
import { defineRoute } from "../openapi/index.js";
import {
  createDatabaseBody,
  createTableBody,
  databaseParams,
  databaseSchema,
  queryBody,
  queryResponseSchema,
  tableParams,
  tableSchema,
  updateTableBody,
  writeRecordsBody,
  writeResultSchema,
} from "./store-schemas.js";

const tag = "Store";
const noDatabase = { 404: "the database does not exist" };
const noTable = { 404: "the database or the table does not exist" };

export function storeRoutes(store: StoreService, options: { maxRecordsPerWrite?: number } = {}): Hono {
  const app = new Hono();
  defineRoute(
    app,
    {
      method: "get",
      path: "/databases",
      tag,
      summary: "List the databases, by name",
      responses: {
        200: { description: "the databases", schema: z.object({ Databases: z.array(databaseSchema) }) },
      },
    },
    async (c) => c.json({ Databases: await store.listDatabaseDescriptions() }),
  );
  defineRoute(
    app,
    {
      method: "post",
      path: "/databases",
      tag,
      summary: "Create a database",
      body: createDatabaseBody,
      responses: { 201: { description: "the database", schema: databaseSchema } },
      errors: { 409: "a database of that name exists" },
    },
    async (c, { body }) => c.json(await store.createDatabase(body.DatabaseName), 201),
  );
  defineRoute(
    app,
    {
      method: "get",
      path: "/databases/:db",
      tag,
      summary: "Describe a database",
      params: databaseParams,
      responses: { 200: { description: "the database", schema: databaseSchema } },
      errors: noDatabase,
    },
    async (c, { params }) => c.json(await store.describeDatabase(params.db)),
  );
  defineRoute(
    app,
    {
      method: "patch",
      path: "/databases/:db",
      tag,
      summary: "Update a database",
      description:
        "Only LastUpdatedTime changes: Timestream's update changes the KMS key, which a local store has not. No body is needed ({} is fine).",
      params: databaseParams,
      responses: { 200: { description: "the database", schema: databaseSchema } },
      errors: noDatabase,
    },
    async (c, { params }) => c.json(await store.updateDatabase(params.db)),
  );
  defineRoute(
    app,
    {
      method: "delete",
      path: "/databases/:db",
      tag,
      summary: "Delete an empty database",
      params: databaseParams,
      responses: { 204: { description: "deleted" } },
      errors: { ...noDatabase, 409: "the database still has tables: delete them first" },
    },
    async (c, { params }) => {
      await store.deleteDatabase(params.db);
      return c.body(null, 204);
    },
  );
  defineRoute(
    app,
    {
      method: "get",
      path: "/tables",
      tag,
      summary: "List the tables of every database",
      responses: { 200: { description: "the tables", schema: z.object({ Tables: z.array(tableSchema) }) } },
    },
    async (c) => c.json({ Tables: await store.listTableDescriptions() }),
  );
  defineRoute(
    app,
    {
      method: "get",
      path: "/databases/:db/tables",
      tag,
      summary: "List a database's tables",
      params: databaseParams,
      responses: { 200: { description: "the tables", schema: z.object({ Tables: z.array(tableSchema) }) } },
      errors: noDatabase,
    },
    async (c, { params }) => c.json({ Tables: await store.listTableDescriptions(params.db) }),
  );
  defineRoute(
    app,
    {
      method: "post",
      path: "/databases/:db/tables",
      tag,
      summary: "Create a table",
      params: databaseParams,
      body: createTableBody,
      responses: { 201: { description: "the table", schema: tableSchema } },
      errors: { ...noDatabase, 409: "a table of that name exists in the database" },
    },
    async (c, { params, body }) => c.json(await store.createTable({ ...body, DatabaseName: params.db }), 201),
  );
  defineRoute(
    app,
    {
      method: "get",
      path: "/databases/:db/tables/:table",
      tag,
      summary: "Describe a table, with its schema",
      params: tableParams,
      responses: { 200: { description: "the table", schema: tableSchema } },
      errors: noTable,
    },
    async (c, { params }) => c.json(await store.describeTable(params.db, params.table)),
  );
  defineRoute(
    app,
    {
      method: "patch",
      path: "/databases/:db/tables/:table",
      tag,
      summary: "Change a table's retention or magnetic-store writes (any part)",
      params: tableParams,
      body: updateTableBody,
      responses: { 200: { description: "the table", schema: tableSchema } },
      errors: noTable,
    },
    async (c, { params, body }) =>
      c.json(await store.updateTable({ ...body, DatabaseName: params.db, TableName: params.table })),
  );
  defineRoute(
    app,
    {
      method: "delete",
      path: "/databases/:db/tables/:table",
      tag,
      summary: "Delete a table and its data",
      params: tableParams,
      responses: { 204: { description: "deleted" } },
      errors: noTable,
    },
    async (c, { params }) => {
      await store.deleteTable(params.db, params.table);
      return c.body(null, 204);
    },
  );
  defineRoute(
    app,
    {
      method: "post",
      path: "/databases/:db/tables/:table/records",
      tag,
      summary: "Write records (Timestream's WriteRecords)",
      description:
        "Records that break a rule do not fail the call: the answer is 200 and lists each rejection by index, with its reason; the others are written.",
      params: tableParams,
      body: writeRecordsBody,
      responses: {
        200: { description: "what was written and what was rejected", schema: writeResultSchema },
      },
      errors: noTable,
    },
    async (c, { params, body }) => {
      const result = await store.writeRecords(
        { ...body, DatabaseName: params.db, TableName: params.table } as never,
        { maxRecords: options.maxRecordsPerWrite ?? API_MAX_RECORDS_PER_WRITE },
      );
      return c.json(result);
    },
  );
  defineRoute(
    app,
    {
      method: "post",
      path: "/query",
      tag,
      summary: "Run a query, one page at a time (Timestream's Query)",
      description:
        "Send the same body again with NextToken for the next page. A token unused for 10 minutes expires. A client that closes the connection stops its query.",
      body: queryBody,
      responses: { 200: { description: "one page of the result", schema: queryResponseSchema } },
      errors: { 404: "a table the query names does not exist" },
    },
    // The request's signal aborts when the client goes away: the store then interrupts the query.
    async (c, { body }) => c.json(await store.query(body, { signal: c.req.raw.signal })),
  );
  return app;
}
