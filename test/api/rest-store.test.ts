import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createApp } from "../../src/api/app.js";
import { openTestStore, record, SEED_NOW_MS, type TestStore } from "../support/store.js";

/** The store's REST routes under /api/v1, through `app.request()` (no socket). */
describe("REST API of the store", () => {
  let t: TestStore;
  let app: ReturnType<typeof createApp>;

  const send = async (method: string, path: string, body?: unknown) => {
    const response = await app.request(`/api/v1${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown> };
  };
  const errorOf = (body: Record<string, unknown>) => body["error"] as { code: string; message: string };

  before(async () => {
    t = await openTestStore();
    app = createApp({ store: t.store });
  });
  after(async () => {
    await t.close();
  });

  it("creates, reads, lists, updates and deletes a database", async () => {
    const created = await send("POST", "/databases", { DatabaseName: "rest-db" });
    assert.equal(created.status, 201);
    assert.equal(created.body["DatabaseName"], "rest-db");
    assert.equal(created.body["CreationTime"], new Date(SEED_NOW_MS).toISOString());

    assert.equal((await send("GET", "/databases/rest-db")).body["TableCount"], 0);
    const list = await send("GET", "/databases");
    assert.deepEqual(
      (list.body["Databases"] as { DatabaseName: string }[]).map((d) => d.DatabaseName),
      ["rest-db"],
    );
    t.clock.nowMs += 1000;
    const patched = await send("PATCH", "/databases/rest-db", {});
    assert.equal(patched.status, 200);
    assert.equal(patched.body["LastUpdatedTime"], new Date(SEED_NOW_MS + 1000).toISOString());
    t.clock.nowMs = SEED_NOW_MS;

    const deleted = await app.request("/api/v1/databases/rest-db", { method: "DELETE" });
    assert.equal(deleted.status, 204);
    assert.equal(await deleted.text(), "");
    const gone = await send("GET", "/databases/rest-db");
    assert.equal(gone.status, 404);
    assert.equal(errorOf(gone.body).code, "NotFound");
    assert.match(errorOf(gone.body).message, /rest-db/);
  });

  it("creates, reads, lists, updates and deletes a table, writes records and queries them", async () => {
    await send("POST", "/databases", { DatabaseName: "shop" });
    const created = await send("POST", "/databases/shop/tables", {
      TableName: "orders",
      RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 7 },
    });
    assert.equal(created.status, 201);
    assert.equal(created.body["DatabaseName"], "shop");
    assert.deepEqual(created.body["RetentionProperties"], {
      MemoryStoreRetentionPeriodInHours: 24,
      MagneticStoreRetentionPeriodInDays: 7,
    });

    const described = await send("GET", "/databases/shop/tables/orders");
    assert.equal(described.body["TableName"], "orders");
    assert.ok(Array.isArray(described.body["Schema"]));
    const inDb = await send("GET", "/databases/shop/tables");
    assert.deepEqual(
      (inDb.body["Tables"] as { TableName: string }[]).map((x) => x.TableName),
      ["orders"],
    );
    const everywhere = await send("GET", "/tables");
    assert.ok((everywhere.body["Tables"] as { TableName: string }[]).some((x) => x.TableName === "orders"));

    const patched = await send("PATCH", "/databases/shop/tables/orders", {
      MagneticStoreWriteProperties: { EnableMagneticStoreWrites: true },
    });
    assert.equal(
      (patched.body["MagneticStoreWriteProperties"] as { EnableMagneticStoreWrites: boolean })
        .EnableMagneticStoreWrites,
      true,
    );

    const nowS = SEED_NOW_MS / 1000;
    const written = await send("POST", "/databases/shop/tables/orders/records", {
      Records: [
        record({ store: "north" }, "amount", "12.5", nowS - 60),
        record({ store: "south" }, "amount", "7", nowS - 60),
        record({ store: "east" }, "amount", "NaN?", nowS - 60),
      ],
    });
    assert.equal(written.status, 200);
    assert.deepEqual(written.body["RecordsIngested"], { Total: 2, MemoryStore: 2, MagneticStore: 0 });
    assert.deepEqual(
      (written.body["rejected"] as { RecordIndex: number }[]).map((r) => r.RecordIndex),
      [2],
    );

    const queried = await send("POST", "/query", {
      QueryString: `SELECT store, measure_value::double AS v FROM "shop"."orders" ORDER BY store`,
    });
    assert.equal(queried.status, 200);
    assert.deepEqual(
      (queried.body["Rows"] as { Data: { ScalarValue: string }[] }[]).map((r) =>
        r.Data.map((d) => d.ScalarValue),
      ),
      [
        ["north", "12.5"],
        ["south", "7.0"],
      ],
    );

    const deleted = await app.request("/api/v1/databases/shop/tables/orders", { method: "DELETE" });
    assert.equal(deleted.status, 204);
    assert.equal((await send("GET", "/databases/shop/tables/orders")).status, 404);
  });

  it("answers a conflict with 409", async () => {
    await send("POST", "/databases", { DatabaseName: "twice" });
    const again = await send("POST", "/databases", { DatabaseName: "twice" });
    assert.equal(again.status, 409);
    assert.equal(errorOf(again.body).code, "Conflict");
    assert.match(errorOf(again.body).message, /already exists/);

    await send("POST", "/databases/twice/tables", { TableName: "tbl" });
    const notEmpty = await app.request("/api/v1/databases/twice", { method: "DELETE" });
    assert.equal(notEmpty.status, 409);
    const tableAgain = await send("POST", "/databases/twice/tables", { TableName: "tbl" });
    assert.equal(tableAgain.status, 409);
  });

  it("answers bad input with 400 and a message", async () => {
    const notJson = await send("POST", "/databases", "{oops");
    assert.equal(notJson.status, 400);
    assert.equal(errorOf(notJson.body).code, "ValidationError");
    assert.match(errorOf(notJson.body).message, /must be JSON/);

    const notObject = await send("POST", "/databases", "[1, 2]");
    assert.equal(notObject.status, 400);
    assert.match(errorOf(notObject.body).message, /JSON object/);

    const badName = await send("POST", "/databases", { DatabaseName: "x" });
    assert.equal(badName.status, 400);
    assert.match(errorOf(badName.body).message, /invalid/);

    await send("POST", "/databases", { DatabaseName: "val-db" });
    await send("POST", "/databases/val-db/tables", { TableName: "tbl" });
    const badRetention = await send("PATCH", "/databases/val-db/tables/tbl", {
      RetentionProperties: { MemoryStoreRetentionPeriodInHours: -1 },
    });
    assert.equal(badRetention.status, 400);
    assert.match(errorOf(badRetention.body).message, /MemoryStoreRetentionPeriodInHours/);

    const noRecords = await send("POST", "/databases/val-db/tables/tbl/records", { Records: [] });
    assert.equal(noRecords.status, 400);
    assert.match(errorOf(noRecords.body).message, /Records/);

    const badSql = await send("POST", "/query", { QueryString: "SELEC 1" });
    assert.equal(badSql.status, 400);
    assert.match(errorOf(badSql.body).message, /SELEC/);
    const badRows = await send("POST", "/query", { QueryString: "SELECT 1", MaxRows: 0 });
    assert.equal(badRows.status, 400);
    assert.match(errorOf(badRows.body).message, /MaxRows/);
  });

  it("answers what does not exist with 404", async () => {
    for (const [method, path] of [
      ["GET", "/databases/none"],
      ["PATCH", "/databases/none"],
      ["DELETE", "/databases/none"],
      ["GET", "/databases/none/tables"],
      ["POST", "/databases/none/tables"],
      ["GET", "/databases/none/tables/tbl"],
      ["DELETE", "/databases/none/tables/tbl"],
    ] as const) {
      const r = await send(
        method,
        path,
        method === "GET" || method === "DELETE" ? undefined : { TableName: "tbl" },
      );
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.equal(errorOf(r.body).code, "NotFound", `${method} ${path}`);
    }
    await send("POST", "/databases", { DatabaseName: "has-db" });
    const table = await send("POST", "/databases/has-db/tables/none/records", {
      Records: [record({ a: "b" }, "m", "1", SEED_NOW_MS / 1000)],
    });
    assert.equal(table.status, 404);
    assert.match(errorOf(table.body).message, /has-db\.none/);

    const route = await send("GET", "/no/such/route");
    assert.equal(route.status, 404);
    assert.equal(errorOf(route.body).code, "NotFound");
    assert.match(errorOf(route.body).message, /GET \/api\/v1\/no\/such\/route/);
  });
});
